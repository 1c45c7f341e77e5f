"""Issue 18 item 3: delegations by CNAME, through the real `esm-tui check` and `fix` over
loopback DNS. A `_dmarc` (or DKIM selector) CNAME: the findings say where it points and
whose record applies, the fix names the target's operator and never proposes a TXT beside
the CNAME; a selector whose TXT holds a host name is fixed by the CNAME to that name.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer

SENDGRID = "s1.domainkey.u123.wl.sender.example"


def _key() -> str:
    raw = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return base64.b64encode(raw).decode()


def _zone(r: Records, d: str) -> None:
    r.add_zone(f"{d}.", f"ns1.{d}. hostmaster.{d}. 1 3600 600 86400 300")
    r.add(f"{d}.", "NS", f"ns1.{d}.")
    r.add(f"ns1.{d}.", "A", "127.0.0.1")
    r.add(f"{d}.", "MX", f"10 mx.{d}.")
    r.add(f"mx.{d}.", "A", "192.0.2.10")
    r.add_txt(f"{d}.", "v=spf1 mx -all")


@pytest.fixture(scope="module")
def server() -> Iterator[DnsServer]:
    r = Records()
    r.add_zone("provider.example.")
    r.add_zone("sender.example.")
    # DMARC delegated to a report provider whose record is broken.
    _zone(r, "delegated.example")
    r.add("_dmarc.delegated.example.", "CNAME", "delegated.example.dmarc.provider.example.")
    r.add_txt("delegated.example.dmarc.provider.example.", "v=DMARC1; p=bogus")
    # DMARC delegated to a target that publishes nothing.
    _zone(r, "dangling.example")
    r.add("_dmarc.dangling.example.", "CNAME", "dangling.example.dmarc.provider.example.")
    # A DKIM selector whose TXT is the provider's CNAME target pasted as text.
    _zone(r, "pasted.example")
    r.add_txt("_dmarc.pasted.example.", "v=DMARC1; p=reject; rua=mailto:d@pasted.example")
    r.add_txt("s1._domainkey.pasted.example.", SENDGRID)
    # A DKIM selector delegated by CNAME to a provider whose key is in testing mode.
    _zone(r, "dkimcname.example")
    r.add_txt("_dmarc.dkimcname.example.", "v=DMARC1; p=reject; rua=mailto:d@dkimcname.example")
    r.add("s1._domainkey.dkimcname.example.", "CNAME", f"{SENDGRID}.")
    r.add_txt(f"{SENDGRID}.", f"v=DKIM1; k=ed25519; t=y; p={_key()}")  # still testing
    with DnsServer(r) as srv:
        yield srv


def run(server: DnsServer, tmp: Path, *args: str) -> dict[str, Any]:
    config = tmp / "config.toml"
    config.write_text(
        f'[settings]\nport = {server.port}\ntimeout = 2.0\n[relay]\ndkim_selectors = ["s1"]\n',
        encoding="utf-8",
    )
    env = {**os.environ, "ESM_TUI_DATA_DIR": str(tmp)}
    env.pop("ESM_TUI_CONFIG", None)
    out = subprocess.run(
        [sys.executable, "-m", "esm_tui", *args, "--config", str(config),
         "--nameserver", server.address],
        capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert "Traceback" not in out.stderr, out.stderr
    return json.loads(out.stdout)


def check(server: DnsServer, tmp: Path, domain: str) -> dict[str, Any]:
    return run(server, tmp, "check", "--json", domain)["domains"][0]["checks"]


def codes(result: dict[str, Any]) -> set[str]:
    return {f["code"] for f in result["findings"]}


def test_a_delegated_dmarc_names_its_target_and_operator(server, tmp_path) -> None:
    dmarc = check(server, tmp_path, "delegated.example")["dmarc"]
    assert dmarc["status"] == "fail"
    assert "dmarc.delegated" in codes(dmarc)
    text = " ".join(f["message"] for f in dmarc["findings"])
    assert "delegated.example.dmarc.provider.example" in text and "provider.example" in text
    # Never a TXT beside the CNAME: no record to publish at _dmarc, the operator named.
    assert dmarc["fix"]["record"] is None
    first = dmarc["fix"]["steps"][0]
    assert "is a CNAME to delegated.example.dmarc.provider.example" in first
    assert "Ask provider.example" in first and "replace the CNAME" in first
    assert not any(
        s.startswith("Publish at _dmarc.delegated.example") for s in dmarc["fix"]["steps"]
    )


def test_a_dangling_dmarc_cname_is_not_fixed_by_a_txt_beside_it(server, tmp_path) -> None:
    dmarc = check(server, tmp_path, "dangling.example")["dmarc"]
    assert dmarc["status"] == "fail"
    assert {"dmarc.missing", "dmarc.delegated"} <= codes(dmarc)
    assert dmarc["fix"]["record"] is None
    assert "Ask provider.example" in dmarc["fix"]["steps"][0]


def test_a_host_name_in_a_selector_s_txt_is_fixed_by_the_cname(server, tmp_path) -> None:
    dkim = check(server, tmp_path, "pasted.example")["dkim"]
    assert dkim["status"] == "fail"
    assert "dkim.host-name-as-text" in codes(dkim)
    assert dkim["fix"]["record"] == {
        "name": "s1._domainkey.pasted.example.",
        "type": "CNAME",
        "value": f"{SENDGRID}.",
    }
    assert not any("re-publish" in s.lower() for s in dkim["fix"]["steps"])
    # The plan: the TXT goes and the CNAME comes, in one update.
    plan = run(server, tmp_path, "fix", "--json", "pasted.example", "--only", "dkim")
    changes = {(c["type"], c["name"]): c for c in plan["changes"]}
    txt = changes[("TXT", "s1._domainkey.pasted.example.")]
    assert txt["before"] == [SENDGRID] and txt["after"] == [] and not txt["manual"]
    cname = changes[("CNAME", "s1._domainkey.pasted.example.")]
    assert cname["after"] == [f"{SENDGRID}."] and not cname["manual"]


def test_a_delegated_selector_names_the_provider(server, tmp_path) -> None:
    dkim = check(server, tmp_path, "dkimcname.example")["dkim"]
    assert dkim["status"] == "warn"  # t=y: a key in testing
    steps = dkim["fix"]["steps"]
    assert any("is a CNAME to" in s and "Ask sender.example" in s for s in steps), steps
    # The corrected key record is the target's, never one beside the CNAME; outside the
    # zone, the plan leaves it to the operator.
    assert dkim["fix"]["record"]["name"] == f"{SENDGRID}."
    plan = run(server, tmp_path, "fix", "--json", "dkimcname.example", "--only", "dkim")
    [change] = plan["changes"]
    assert change["manual"] and "outside the zone" in change["why"]
