"""The `dnssec` check through the real `check --json`: a private signed hierarchy
(root → test. → children), signed by the test with dnspython and cryptography, served
over loopback sockets by the demo server, validated from its own trust anchor."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.dnssec
import dns.name
import dns.rdataset
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from esm_tui.config import ConfigError, load_config
from esm_tui.demo.server import DnsServer
from esm_tui.demo.signed import SignedRecords, sign_zone_sets

NOW = time.time()
VALID = {"inception": NOW - 3600, "expiration": NOW + 30 * 86400}
SIGNED_CHILDREN = ("good.test.", "expired.test.", "wrongds.test.", "nosig.test.")
DOMAINS = [*(c.rstrip(".") for c in SIGNED_CHILDREN), "unsigned.test"]


def _key() -> tuple[Any, dns.rdataset.Rdataset]:
    private = ed25519.Ed25519PrivateKey.generate()
    return private, dns.dnssec.make_dnskey(private.public_key(), dns.dnssec.Algorithm.ED25519, 257)


def _zone(records: SignedRecords, zone: str, key: Any) -> None:
    apex = zone.lstrip(".")  # "" for the root
    records.add_zone(
        zone, f"ns.{apex or 'root.'} hostmaster.{apex or 'root.'} 1 3600 600 86400 300"
    )
    records.add(zone, "DNSKEY", key[1].to_text())


def _hierarchy(records: SignedRecords) -> dns.rdataset.Rdataset:
    """Build the zones into `records`; the root's KSK (the trust anchor)."""
    root, tld = _key(), _key()
    _zone(records, ".", root)
    _zone(records, "test.", tld)
    records.add("test.", "DS", dns.dnssec.make_ds("test.", tld[1], "SHA256").to_text())
    sign_zone_sets(records, ".", [(".", "DNSKEY"), (".", "SOA"), ("test.", "DS")], [root], **VALID)
    tld_sets = [("test.", "DNSKEY"), ("test.", "SOA")]
    for child in SIGNED_CHILDREN:
        key = _key()
        _zone(records, child, key)
        records.add(child, "MX", f"10 mail.{child}")
        records.add(f"mail.{child}", "A", "192.0.2.1")
        records.add_txt(child, "v=spf1 -all")
        records.add_txt(f"_dmarc.{child}", "v=DMARC1; p=reject")
        ds_key = _key() if child == "wrongds.test." else key
        records.add(child, "DS", dns.dnssec.make_ds(child, ds_key[1], "SHA256").to_text())
        tld_sets.append((child, "DS"))
        sets = [(child, t) for t in ("DNSKEY", "SOA", "MX", "TXT")]
        sign_zone_sets(records, child, [*sets, (f"_dmarc.{child}", "TXT")], [key], **VALID)
        if child == "expired.test.":
            sign_zone_sets(
                records, child, [(child, "MX")], [key], inception=NOW - 90000, expiration=NOW - 3600
            )
        if child == "nosig.test.":
            records.remove_signatures(f"_dmarc.{child}", "TXT")
    _zone(records, "unsigned.test.", _key())
    records.add("unsigned.test.", "MX", "10 mail.unsigned.test.")
    sign_zone_sets(records, "test.", tld_sets, [tld], **VALID)
    return root[1]


@pytest.fixture(scope="module")
def hierarchy(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[DnsServer, DnsServer, Path]]:
    signed, stripping = SignedRecords(), SignedRecords(strip=True)
    root_key = _hierarchy(signed)
    # The same zones again, behind a "resolver" that strips every RRSIG.
    _hierarchy(stripping)
    anchors = tmp_path_factory.mktemp("anchor") / "root.ds"
    anchors.write_text(f". 3600 IN DS {dns.dnssec.make_ds('.', root_key, 'SHA256')}\n")
    with DnsServer(signed) as one, DnsServer(stripping) as two:
        yield one, two, anchors


def _check(tmp: Path, server: DnsServer, anchors: Path | None, *domains: str) -> dict[str, Any]:
    config = tmp / "config.toml"
    anchor_line = f'trust_anchors = "{anchors}"\n' if anchors else ""
    config.write_text(
        "[settings]\ntimeout = 2.0\nretries = 0\nhistory = false\n"
        f'nameservers = ["{server.address}"]\n{anchor_line}',
        encoding="utf-8",
    )
    env = {**os.environ, "ESM_TUI_DATA_DIR": str(tmp)}
    env.pop("ESM_TUI_CONFIG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "esm_tui", "check", "--json", "--config", str(config), *domains],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    return {d["domain"]: d["checks"]["dnssec"] for d in doc["domains"]}


@pytest.fixture(scope="module")
def results(
    hierarchy: tuple[DnsServer, DnsServer, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    server, _, anchors = hierarchy
    return _check(tmp_path_factory.mktemp("check"), server, anchors, *DOMAINS)


def _codes(result: dict[str, Any]) -> list[str]:
    return [f["code"] for f in result["findings"]]


def test_a_valid_chain_is_ok_and_names_what_it_validated(results: dict[str, Any]) -> None:
    good = results["good.test"]
    assert good["status"] == "ok", good
    assert good["details"]["zones"] == [".", "test.", "good.test."]
    assert set(good["details"]["validated"]) == {
        "SOA good.test.", "MX good.test.", "TXT good.test.", "TXT _dmarc.good.test."
    }  # fmt: skip
    assert good["fix"] is None


def test_an_expired_signature_fails_naming_it(results: dict[str, Any]) -> None:
    expired = results["expired.test"]
    assert expired["status"] == "fail", expired
    assert _codes(expired) == ["dnssec.expired"]
    assert "MX set of expired.test." in expired["findings"][0]["message"]
    assert "expired at" in expired["findings"][0]["message"]


def test_a_ds_matching_no_dnskey_fails(results: dict[str, Any]) -> None:
    wrong = results["wrongds.test"]
    assert wrong["status"] == "fail", wrong
    assert _codes(wrong) == ["dnssec.ds-mismatch"]
    assert "wrongds.test." in wrong["findings"][0]["message"]


def test_a_missing_rrsig_fails_naming_the_set(results: dict[str, Any]) -> None:
    nosig = results["nosig.test"]
    assert nosig["status"] == "fail", nosig
    assert _codes(nosig) == ["dnssec.missing-rrsig"]
    assert "TXT set of _dmarc.nosig.test." in nosig["findings"][0]["message"]


def test_an_unsigned_zone_is_none_with_a_note(results: dict[str, Any]) -> None:
    unsigned = results["unsigned.test"]
    assert unsigned["status"] == "none", unsigned
    assert _codes(unsigned) == ["dnssec.unsigned"]
    assert "unsigned.test." in unsigned["findings"][0]["message"]


def test_a_resolver_that_strips_signatures_is_unknown_not_red(
    hierarchy: tuple[DnsServer, DnsServer, Path], tmp_path: Path
) -> None:
    _, stripping, anchors = hierarchy
    result = _check(tmp_path, stripping, anchors, "good.test")["good.test"]
    assert result["status"] == "unknown", result
    assert _codes(result) == ["dnssec.resolver-strips"]


def test_without_the_private_anchor_the_root_anchor_rejects_the_private_root(
    hierarchy: tuple[DnsServer, DnsServer, Path], tmp_path: Path
) -> None:
    server, _, _ = hierarchy
    result = _check(tmp_path, server, None, "good.test")["good.test"]
    assert result["status"] == "fail", result
    assert _codes(result) == ["dnssec.ds-mismatch"]
    assert "key tags 20326, 38696" in result["findings"][0]["message"]


def test_each_zone_s_keys_are_asked_once_per_run(
    hierarchy: tuple[DnsServer, DnsServer, Path], tmp_path: Path
) -> None:
    server, _, anchors = hierarchy
    server.queries.clear()
    _check(tmp_path, server, anchors, *DOMAINS)
    assert server.queries[(".", "DNSKEY")] == 1
    assert server.queries[("test.", "DNSKEY")] == 1
    assert server.queries[("good.test.", "DNSKEY")] == 1


def test_a_bad_trust_anchor_file_is_a_config_error(tmp_path: Path) -> None:
    anchors = tmp_path / "anchors"
    anchors.write_text(". 3600 IN A 192.0.2.1\n")
    config = tmp_path / "config.toml"
    config.write_text(f'[settings]\ntrust_anchors = "{anchors.name}"\n')
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert "only DS and DNSKEY" in str(err.value)
    assert "trust_anchors" in str(err.value)


def test_a_root_without_any_dnskey_is_unsigned_not_bogus(tmp_path: Path) -> None:
    records = SignedRecords()
    records.add_zone("plain.test.")
    records.add("plain.test.", "MX", "10 mail.plain.test.")
    with DnsServer(records) as server:
        result = _check(tmp_path, server, None, "plain.test")["plain.test"]
    assert result["status"] == "none", result
    assert _codes(result) == ["dnssec.unsigned"]
    assert "publishes no DNSKEY" in result["findings"][0]["message"]


def test_an_unsigned_zone_is_red_when_dnssec_is_expected(
    hierarchy: tuple[DnsServer, DnsServer, Path], tmp_path: Path
) -> None:
    server, _, anchors = hierarchy
    config = tmp_path / "config.toml"
    config.write_text(
        "[settings]\ntimeout = 2.0\nretries = 0\nhistory = false\n"
        f'nameservers = ["{server.address}"]\ntrust_anchors = "{anchors}"\n'
        '[[domains]]\nname = "unsigned.test"\ndnssec = true\n',
        encoding="utf-8",
    )
    env = {**os.environ, "ESM_TUI_DATA_DIR": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "esm_tui", "check", "--json", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    result = json.loads(proc.stdout)["domains"][0]["checks"]["dnssec"]
    assert result["status"] == "fail", result
    assert _codes(result) == ["dnssec.not-signed"]
    assert "DS record" in result["fix"]["steps"][0]


async def test_the_dashboard_engine_validates_with_the_configured_anchor(
    hierarchy: tuple[DnsServer, DnsServer, Path],
) -> None:
    """The engine process (dashboard, monitor) gets [settings] trust_anchors too: with the
    private anchor the private hierarchy validates there as in `check`."""
    from esm_tui.dnssec.anchors import load_anchors
    from esm_tui.engine import DnsParams, Engine
    from esm_tui.model import DomainSettings

    server, _, anchors = hierarchy
    params = DnsParams(
        (server.server,),
        timeout=2.0,
        retries=0,
        concurrency=8,
        max_age=None,
        trust_anchors=load_anchors(anchors),
    )
    engine = Engine(params)
    try:
        report = await engine.check(DomainSettings(DOMAINS[0]), False, 0)
    finally:
        engine.close()
    assert report.checks["dnssec"].status == "ok", report.checks["dnssec"].findings
