"""`[relay] preset = "e-securemail"` (SPEC §9, issue 17 item 1): the loader and the real check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from esm_tui.config import ConfigError, parse_config
from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer

FRANCE, EUROPE = "france.security-mail.net", "europe.security-mail.net"
PRESET = '[relay]\npreset = "e-securemail"\n'
DOMAIN = '[[domains]]\nname = "example.com"\n'


def test_the_preset_fills_in_the_published_values() -> None:
    relay = parse_config(PRESET + DOMAIN).relay
    assert relay.mx == (FRANCE, EUROPE)
    assert relay.dkim_selectors == ("sec-sig-email",)
    assert relay.spf_include == () and relay.spf_ips == ()  # not published: the admin's to give
    assert relay.preset == "e-securemail"


def test_keys_beside_the_preset_win_even_empty() -> None:
    text = PRESET + 'dkim_selectors = ["esm"]\nmx = []\nspf_ips = ["192.0.2.0/24"]\n' + DOMAIN
    relay = parse_config(text).relay
    assert relay.dkim_selectors == ("esm",)
    assert relay.mx == ()  # [] says "no MX expectation", replacing the preset's
    assert relay.spf_ips == ("192.0.2.0/24",)


def test_a_domain_replaces_the_preset_like_any_relay_list() -> None:
    config = parse_config(PRESET + DOMAIN + 'mx = ["mx.example.com"]\n')
    settings = config.domain_settings("example.com")
    assert settings.relay_mx == ("mx.example.com",)


@pytest.mark.parametrize(
    ("value", "message"),
    [('"esm"', "unknown preset 'esm' (known: \"e-securemail\")"), ("1", "must be a string")],
)
def test_a_bad_preset_is_a_config_error_at_its_line(value: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(f"[relay]\npreset = {value}\n")
    assert "2:" in str(info.value) and "relay.preset" in str(info.value)
    assert message in str(info.value)


def test_the_example_config_offers_the_preset_commented_out() -> None:
    example = Path(__file__).parents[1] / "esm_tui" / "config" / "config.example.toml"
    text = example.read_text(encoding="utf-8")
    assert '# preset = "e-securemail"' in text
    uncommented = text.replace('# preset = "e-securemail"', 'preset = "e-securemail"')
    uncommented = "\n".join(
        line for line in uncommented.splitlines() if not line.startswith(("mx = ", "dkim_"))
    )
    assert parse_config(uncommented).relay.mx == (FRANCE, EUROPE)


# -- through the real check over loopback DNS ------------------------------------------------


def _records() -> Records:
    records = Records()
    records.add_zone("security-mail.net.")
    records.add(f"{FRANCE}.", "A", "192.0.2.10")
    records.add(f"{EUROPE}.", "A", "192.0.2.20")
    records.add("old-mx.example.net.", "A", "192.0.2.99")
    for domain, mx in {
        "relayed.example": [f"10 {FRANCE}.", f"20 {EUROPE}."],
        "bypass.example": ["5 old-mx.example.net.", f"10 {FRANCE}.", f"20 {EUROPE}."],
        "direct.example": ["10 old-mx.example.net."],
    }.items():
        records.add_zone(f"{domain}.")
        records.add(f"{domain}.", "MX", *mx)
    return records


@pytest.fixture(scope="module")
def server() -> Iterator[DnsServer]:
    with DnsServer(_records()) as srv:
        yield srv


@pytest.fixture(scope="module")
def checks(server: DnsServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("preset")
    config = tmp / "config.toml"
    config.write_text(
        "[settings]\ntimeout = 2.0\nretries = 0\nhistory = false\n"
        f'nameservers = ["{server.address}"]\n' + PRESET,
        encoding="utf-8",
    )
    env = {**os.environ, "XDG_DATA_HOME": str(tmp)}
    env.pop("ESM_TUI_CONFIG", None)
    domains = ["relayed.example", "bypass.example", "direct.example"]
    proc = subprocess.run(
        [sys.executable, "-m", "esm_tui", "check", "--json", "--config", str(config), *domains],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return {d["domain"]: d["checks"] for d in json.loads(proc.stdout)["domains"]}


def test_the_relay_mx_hosts_are_ok(checks: dict[str, Any]) -> None:
    assert checks["relayed.example"]["mx"]["status"] == "ok"


def test_an_older_mx_beside_the_relay_lets_mail_bypass_it(checks: dict[str, Any]) -> None:
    mx = checks["bypass.example"]["mx"]
    assert mx["status"] == "warn"
    assert [f["code"] for f in mx["findings"]] == ["mx.relay-bypass"]
    assert "old-mx.example.net" in mx["findings"][0]["message"]


def test_the_fix_publishes_the_presets_hosts_with_their_preferences(
    checks: dict[str, Any],
) -> None:
    mx = checks["direct.example"]["mx"]
    assert mx["status"] == "fail"
    assert "mx.relay-missing" in [f["code"] for f in mx["findings"]]
    text = json.dumps(mx["fix"])
    assert f"10 {FRANCE}." in text and f"20 {EUROPE}." in text


def test_the_presets_dkim_selector_is_the_one_asked(checks: dict[str, Any]) -> None:
    dkim = checks["relayed.example"]["dkim"]
    assert "sec-sig-email._domainkey.relayed.example" in json.dumps(dkim)
