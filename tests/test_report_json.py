"""`report.dumps`, which writes the reports without copying their details first, writes
byte for byte what `json.dumps(report.to_json(...))` writes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType

import pytest

from esm_tui import report
from esm_tui.checks import check_domain
from esm_tui.checks.context import CheckContext
from esm_tui.demo.scenario import DEMO_DOMAINS, demo_records
from esm_tui.demo.server import DnsServer
from esm_tui.dns import Dns
from esm_tui.model import DomainReport, DomainSettings, RecordResult, Status

AT = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class Colour(StrEnum):
    RED = "red"


async def _demo_reports() -> list[DomainReport]:
    with DnsServer(demo_records()) as server:
        client = Dns([server.server], timeout=2, retries=1)
        settings = [
            DomainSettings(
                name,
                relay_mx=("*.esm-relay.example",),
                spf_include=("_spf.esm-relay.example",),
                spf_ips=("192.0.2.25",),
                dkim_selectors=("esm",),
            )
            for name in DEMO_DOMAINS
        ]
        reports = [await check_domain(s, CheckContext(client)) for s in settings]
        client.close()
    return reports


@pytest.mark.parametrize("indent", [None, 2])
async def test_dumps_of_real_reports_is_the_copied_document(indent: int | None) -> None:
    reports = await _demo_reports()
    # The demo has green, orange and red domains: trees, findings, fixes and relay results.
    assert {r.status for r in reports} >= {Status.OK, Status.FAIL}
    expected = json.dumps(report.to_json(reports, ["127.0.0.1:53"], AT), indent=indent)
    assert report.dumps(reports, ["127.0.0.1:53"], AT, indent) == expected


async def test_the_document_from_fragments_is_the_document() -> None:
    """`esm-tui check --json` of several processes: each domain encoded apart, the
    document joined from the parts, byte for byte what one json.dumps writes."""
    reports = await _demo_reports()
    fragments = [report.fragment(r) for r in reports]
    status = report.overall(reports)
    for chosen in (reports, reports[:1], []):
        joined = report.dumps_fragments(
            fragments[: len(chosen)], report.overall(chosen), ["127.0.0.1:53"], AT
        )
        assert joined == json.dumps(report.to_json(chosen, ["127.0.0.1:53"], AT))
    assert status is Status.FAIL


def test_dumps_writes_tuples_enums_and_read_only_mappings_as_the_copy_does() -> None:
    details = {
        "tuple": (1, ("a", Colour.RED)),
        "enum": Colour.RED,
        "proxy": MappingProxyType({"k": (True, None, 1.5)}),
        Colour.RED: "an enum as a key",
    }
    result = RecordResult("mx", Status.WARN, "s", "example.com.", "MX", details=details)
    reports = [DomainReport("example.com", {"mx": result}, AT)]
    expected = json.dumps(report.to_json(reports, [], AT))
    assert report.dumps(reports, [], AT) == expected
    assert json.loads(expected)["domains"][0]["checks"]["mx"]["details"]["proxy"] == {
        "k": [True, None, 1.5]
    }


def test_a_detail_the_encoder_refuses_takes_the_copying_path() -> None:
    """A key json.dumps refuses (a tuple): the copy turns it into a string, as before."""
    details = {("a", 1): "tuple key", "plain": (1, 2)}
    result = RecordResult("mx", Status.WARN, "s", "example.com.", "MX", details=details)
    reports = [DomainReport("example.com", {"mx": result}, AT)]
    with pytest.raises(TypeError):
        json.dumps(reports[0].to_json(copy=False))
    expected = json.dumps(report.to_json(reports, [], AT))
    assert report.dumps(reports, [], AT) == expected
    assert report.fragment(reports[0]) == json.dumps(reports[0].to_json())
    assert '"(\'a\', 1)": "tuple key"' in expected
