"""MTA-STS and TLS-RPT (SPEC §8, issue 16) through the real `esm-tui check --json`.

Loopback DNS (esm_tui.demo's server) publishes the records; a loopback HTTPS server with
a certificate from a private test CA (trustme) serves the policies; the check process
trusts that CA through SSL_CERT_FILE, as an admin's would trust a public one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from tests.https_server import HttpsServer, Route, https_server

POLICY = "version: STSv1\r\nmode: {mode}\r\n{mx}max_age: {age}\r\n"


def policy(mode: str, *mx: str, age: int = 604800) -> bytes:
    lines = "".join(f"mx: {m}\r\n" for m in mx)
    return POLICY.format(mode=mode, mx=lines, age=age).encode()


#: domain → (policy route or None, extra TXT at _mta-sts or None for the default, TLS-RPT)
CASES: dict[str, dict[str, Any]] = {
    "enforce-ok.example": {
        "route": Route(body=policy("enforce", "mx1.enforce-ok.example", "*.relay.example")),
        "tlsrpt": "v=TLSRPTv1; rua=mailto:tls@enforce-ok.example,https://r.example/tls",
    },
    "enforce-miss.example": {
        "route": Route(body=policy("enforce", "mail.other.example")),
        "tlsrpt": "v=TLSRPTv1; rua=http://reports.example/tls",
    },
    "testing-miss.example": {"route": Route(body=policy("testing", "mail.other.example"))},
    "wildcard-deep.example": {
        # "*.wildcard-deep.example" covers one label only: a.b.wildcard-deep.example misses.
        "route": Route(body=policy("enforce", "*.wildcard-deep.example")),
        "mx": "a.b.wildcard-deep.example.",
    },
    "nopolicy.example": {"route": None},
    "redirect.example": {
        "route": Route(301, b"", {"Location": "https://elsewhere.example/mta-sts.txt"})
    },
    "mode-none.example": {"route": Route(body=policy("none"))},
    "html.example": {
        "route": Route(
            body=policy("enforce", "mx1.html.example"),
            headers={"Content-Type": "text/html"},
        )
    },
    "badsyntax.example": {
        "route": Route(body=b"version: STSv1\nmode: enforce\nmx: mx1.badsyntax.example\n"),
    },
    "badage.example": {
        "route": Route(body=policy("enforce", "mx1.badage.example", age=99999999999)),
    },
    "twotxt.example": {"txt": ["v=STSv1; id=1;", "v=STSv1; id=2;"], "route": None},
    "noid.example": {"txt": ["v=STSv1; ide=abc;"], "route": None},
    "nohost.example": {"route": None, "no_host": True},
    "refused.example": {"route": None, "address": "127.0.0.2"},
    "absent.example": {"txt": [], "route": None, "tlsrpt": None},
    "expected.example": {"txt": [], "route": None, "tlsrpt": None},
    "badcert.example": {"route": Route(body=policy("enforce", "mx1.badcert.example"))},
    "tlsrpt-two.example": {
        "route": Route(body=policy("enforce", "mx1.tlsrpt-two.example")),
        "tlsrpt": ["v=TLSRPTv1; rua=mailto:a@x.example", "v=TLSRPTv1; rua=mailto:b@x.example"],
    },
    "tlsrpt-norua.example": {
        "route": Route(body=policy("enforce", "mx1.tlsrpt-norua.example")),
        "tlsrpt": "v=TLSRPTv1; ruf=mailto:a@x.example",
    },
}


def _zone(records: Records, domain: str, case: dict[str, Any]) -> None:
    records.add_zone(f"{domain}.")
    mx = case.get("mx", f"mx1.{domain}.")
    records.add(f"{domain}.", "MX", f"10 {mx}")
    records.add(mx, "A", "192.0.2.25")
    for text in case.get("txt", ["v=STSv1; id=202612041;"]):
        records.add_txt(f"_mta-sts.{domain}.", text)
    if not case.get("no_host"):
        records.add(f"mta-sts.{domain}.", "A", case.get("address", "127.0.0.1"))
    tlsrpt = case.get("tlsrpt", "v=TLSRPTv1; rua=mailto:tls@example.net")
    for text in [tlsrpt] if isinstance(tlsrpt, str) else tlsrpt or []:
        records.add_txt(f"_smtp._tls.{domain}.", text)


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, str]:
    authority = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return authority, str(path)


@pytest.fixture(scope="module")
def web(ca: tuple[trustme.CA, str]) -> Iterator[HttpsServer]:
    authority, ca_file = ca
    # badcert.example's name is not on the certificate: senders reject it.
    names = [f"mta-sts.{d}" for d in CASES if d != "badcert.example"]
    with https_server(names, ca_file, authority) as server:
        for domain, case in CASES.items():
            if case.get("route") is not None:
                server.routes[f"mta-sts.{domain}"] = case["route"]
        yield server


@pytest.fixture(scope="module")
def dns() -> Iterator[DnsServer]:
    records = Records()
    for domain, case in CASES.items():
        _zone(records, domain, case)
    with DnsServer(records) as server:
        yield server


def run_check(
    dns: DnsServer, web: HttpsServer, tmp: Path, domains: list[str], extra: str = ""
) -> dict[str, Any]:
    config = tmp / "config.toml"
    config.write_text(
        f"[settings]\nhttps_port = {web.port}\ntimeout = 2.0\nretries = 0\n"
        '[relay]\nmx = ["*.relay.example"]\n' + extra,
        encoding="utf-8",
    )
    env = {**os.environ, "ESM_TUI_DATA_DIR": str(tmp), "SSL_CERT_FILE": web.ca_file}
    env.pop("SSL_CERT_DIR", None)
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "esm_tui", "check", "--json", "--config", str(config)),
            *("--nameserver", dns.address, *domains),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    doc = json.loads(proc.stdout)
    return {entry["domain"]: entry["checks"] for entry in doc["domains"]}


@pytest.fixture(scope="module")
def results(
    dns: DnsServer, web: HttpsServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("check")
    extra = '[[domains]]\nname = "expected.example"\nmta_sts = true\ntls_rpt = true\n'
    return run_check(dns, web, tmp, list(CASES), extra)


def codes(result: dict[str, Any]) -> set[str]:
    return {f["code"] for f in result["findings"]}


def test_enforce_policy_covering_every_mx_host_is_ok(results: dict[str, Any]) -> None:
    mta = results["enforce-ok.example"]["mta_sts"]
    assert mta["status"] == "ok", mta["findings"]
    assert "mta_sts.mx-covered" in codes(mta)
    assert mta["records"] == ["v=STSv1; id=202612041;"]
    assert mta["details"]["mode"] == "enforce"
    assert mta["details"]["mx"] == ["mx1.enforce-ok.example", "*.relay.example"]
    assert mta["details"]["mx_hosts"] == ["mx1.enforce-ok.example"]
    assert mta["fix"] is None
    assert mta["details"]["policy"].startswith("version: STSv1")


def test_enforce_policy_missing_the_mx_host_is_red_and_the_fix_adds_it(
    results: dict[str, Any],
) -> None:
    mta = results["enforce-miss.example"]["mta_sts"]
    assert mta["status"] == "fail"
    assert "mta_sts.mx-not-covered" in codes(mta)
    assert mta["details"]["uncovered"] == ["mx1.enforce-miss.example"]
    steps = "\n".join(mta["fix"]["steps"])
    # Every pattern kept, the MX host and the relay's pattern added, mode kept.
    for line in (
        "mode: enforce",
        "mx: mail.other.example",
        "mx: mx1.enforce-miss.example",
        "mx: *.relay.example",
        "max_age: 604800",
    ):
        assert line in steps
    record = mta["fix"]["record"]
    assert record["name"] == "_mta-sts.enforce-miss.example."
    assert re.fullmatch(r"v=STSv1; id=\d{14};", record["value"])


def test_testing_mode_miss_is_orange(results: dict[str, Any]) -> None:
    mta = results["testing-miss.example"]["mta_sts"]
    assert mta["status"] == "warn"
    assert {"mta_sts.mx-not-covered", "mta_sts.mode-testing"} <= codes(mta)


def test_a_wildcard_covers_one_label_only(results: dict[str, Any]) -> None:
    mta = results["wildcard-deep.example"]["mta_sts"]
    assert mta["status"] == "fail"
    assert mta["details"]["uncovered"] == ["a.b.wildcard-deep.example"]


@pytest.mark.parametrize(
    ("domain", "code"),
    [
        ("nopolicy.example", "mta_sts.policy-not-found"),
        ("redirect.example", "mta_sts.policy-redirect"),
        ("nohost.example", "mta_sts.policy-host-missing"),
        ("badcert.example", "mta_sts.policy-certificate"),
        ("badsyntax.example", "mta_sts.policy-syntax"),
        ("badage.example", "mta_sts.policy-max-age"),
        ("twotxt.example", "mta_sts.multiple-records"),
        ("noid.example", "mta_sts.id-invalid"),
    ],
)
def test_a_published_txt_without_a_usable_policy_is_red(
    results: dict[str, Any], domain: str, code: str
) -> None:
    mta = results[domain]["mta_sts"]
    assert mta["status"] == "fail", mta["findings"]
    assert code in codes(mta)
    assert mta["fix"] is not None and mta["fix"]["record"]["type"] == "TXT"


def test_the_policy_not_found_fix_serves_a_testing_policy_with_the_mx_hosts(
    results: dict[str, Any],
) -> None:
    steps = "\n".join(results["nopolicy.example"]["mta_sts"]["fix"]["steps"])
    assert "https://mta-sts.nopolicy.example/.well-known/mta-sts.txt" in steps
    assert "mode: testing" in steps
    assert "mx: mx1.nopolicy.example" in steps
    assert "text/plain" in steps


def test_a_refused_connection_is_unknown_not_red(results: dict[str, Any]) -> None:
    mta = results["refused.example"]["mta_sts"]
    assert mta["status"] == "unknown"
    assert "mta_sts.policy-unreachable" in codes(mta)


def test_mode_none_and_a_wrong_content_type_are_orange(results: dict[str, Any]) -> None:
    assert results["mode-none.example"]["mta_sts"]["status"] == "warn"
    assert "mta_sts.mode-none" in codes(results["mode-none.example"]["mta_sts"])
    html = results["html.example"]["mta_sts"]
    assert html["status"] == "warn"
    assert "mta_sts.policy-content-type" in codes(html)


def test_absent_records_are_grey_unless_expected(results: dict[str, Any]) -> None:
    absent = results["absent.example"]
    assert absent["mta_sts"]["status"] == "none"
    assert absent["tls_rpt"]["status"] == "none"
    assert absent["mta_sts"]["fix"] is None
    expected = results["expected.example"]
    assert expected["mta_sts"]["status"] == "fail"
    assert "mta_sts.missing" in codes(expected["mta_sts"])
    assert expected["tls_rpt"]["status"] == "fail"
    assert "tls_rpt.missing" in codes(expected["tls_rpt"])
    assert expected["tls_rpt"]["fix"]["record"] == {
        "name": "_smtp._tls.expected.example.",
        "type": "TXT",
        "value": "v=TLSRPTv1; rua=mailto:tls-reports@expected.example",
    }


def test_tls_rpt_valid_is_ok_with_its_destinations(results: dict[str, Any]) -> None:
    tls = results["enforce-ok.example"]["tls_rpt"]
    assert tls["status"] == "ok"
    assert tls["details"]["rua"] == ["mailto:tls@enforce-ok.example", "https://r.example/tls"]
    assert tls["summary"] == "reports to 2 addresses"


def test_tls_rpt_http_uri_is_red_and_the_fix_moves_it_to_https(
    results: dict[str, Any],
) -> None:
    tls = results["enforce-miss.example"]["tls_rpt"]
    assert tls["status"] == "fail"
    assert "tls_rpt.uri-not-https" in codes(tls)
    assert tls["fix"]["record"]["value"] == "v=TLSRPTv1; rua=https://reports.example/tls"
    assert any("accepts reports over HTTPS" in s for s in tls["fix"]["steps"])


def test_tls_rpt_two_records_and_no_rua_are_red(results: dict[str, Any]) -> None:
    two = results["tlsrpt-two.example"]["tls_rpt"]
    assert two["status"] == "fail"
    assert "tls_rpt.multiple-records" in codes(two)
    # Both records' destinations are kept in the one record proposed (in the order the
    # answer gave the records, which DNS does not fix).
    head, rua = two["fix"]["record"]["value"].split("rua=")
    assert head == "v=TLSRPTv1; "
    assert sorted(rua.split(",")) == ["mailto:a@x.example", "mailto:b@x.example"]
    norua = results["tlsrpt-norua.example"]["tls_rpt"]
    assert norua["status"] == "fail"
    assert {"tls_rpt.rua-missing", "tls_rpt.unknown-field"} <= codes(norua)


def test_the_table_has_the_new_columns(dns: DnsServer, web: HttpsServer, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[settings]\nhttps_port = {web.port}\n", encoding="utf-8")
    env = {**os.environ, "ESM_TUI_DATA_DIR": str(tmp_path), "SSL_CERT_FILE": web.ca_file}
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "esm_tui", "check", "--config", str(config)),
            *("--nameserver", dns.address, "enforce-ok.example"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    header = proc.stdout.splitlines()[0]
    assert header.split() == [
        "DOMAIN", "MX", "SPF", "DKIM", "DMARC", "BIMI", "MTA-STS", "TLS-RPT", "DNSSEC", "STATUS"
    ]  # fmt: skip
    row = proc.stdout.splitlines()[2]
    # The MTA-STS and TLS-RPT cells sit under their headers.
    assert row[header.index("MTA-STS") :].startswith("OK")
    assert row[header.index("TLS-RPT") :].startswith("OK")
