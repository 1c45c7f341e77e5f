"""Domain names are IDNA 2008 with UTS #46 mapping (issue 18 item 6), through `idna`.

The standard library's codec is IDNA 2003: it maps "faß" to "fass", a different domain
from the one the registry has (xn--fa-hia). Held in the config loader and in the real
`check`, which names the domain as the DNS knows it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from esm_tui.config import ConfigError, normalize_domain, parse_config
from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer


@pytest.mark.parametrize(
    ("typed", "ascii_name"),
    [
        ("faß.de", "xn--fa-hia.de"),  # IDNA 2003 would say fass.de
        ("Bücher.Example", "xn--bcher-kva.example"),  # mapped to lower case first
        ("ＥＸＡＭＰＬＥ.com", "example.com"),  # full-width letters, mapped (UTS #46)
        ("_dmarc.example.org", "_dmarc.example.org"),  # ASCII labels as they are
        ("xn--fa-hia.de", "xn--fa-hia.de"),
    ],
)
def test_names_are_idna_2008(typed: str, ascii_name: str) -> None:
    assert normalize_domain(typed) == ascii_name


def test_a_name_idna_2008_refuses_is_a_clear_config_error() -> None:
    with pytest.raises(ValueError, match="cannot be converted with IDNA"):
        normalize_domain("a\u200db.example")  # a joiner outside its context (RFC 5892)
    with pytest.raises(ConfigError, match=r"2:1: domains\[0\]\.name: .* cannot be converted"):
        parse_config('[[domains]]\nname = "😀.example"\n')


ESM = [sys.executable, "-m", "esm_tui"]


def test_check_names_the_domain_as_the_dns_knows_it(tmp_path: Path) -> None:
    records = Records()
    records.add_zone("xn--fa-hia.example.")
    records.add("xn--fa-hia.example.", "MX", "0 .")
    with DnsServer(records) as server:
        env = {**os.environ, "ESM_TUI_DATA_DIR": str(tmp_path)}
        env.pop("ESM_TUI_CONFIG", None)
        proc = subprocess.run(
            [*ESM, "check", "--json", "--nameserver", server.address, "faß.example"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
    assert "Traceback" not in proc.stderr, proc.stderr
    doc = json.loads(proc.stdout)
    assert [d["domain"] for d in doc["domains"]] == ["xn--fa-hia.example"]
    mx = doc["domains"][0]["checks"]["mx"]
    assert mx["query"]["name"] == "xn--fa-hia.example."  # asked under its IDNA 2008 name
    assert mx["status"] != "fail"  # its null MX was found (warn: no relay configured here)
