"""The MX check against the loopback server: every SPEC §4 MX bullet, globs, failures."""

from __future__ import annotations

import inspect
import re

import pytest

from esm_tui.checks import mx
from esm_tui.checks.context import CheckContext
from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from esm_tui.dns import Dns
from esm_tui.model import DomainSettings, RecordResult, Severity, Status


@pytest.fixture
def zone(records: Records) -> Records:
    records.add_zone("example.com.")
    records.add("mx1.example.com.", "A", "192.0.2.1")
    records.add("mx2.example.com.", "AAAA", "2001:db8::2")
    records.add("mx1.relay.example.", "A", "198.51.100.1")
    records.add("a.b.relay.example.", "A", "198.51.100.2")
    records.add_zone("relay.example.")
    return records


async def run(dns: Dns, name: str = "example.com", **settings: object) -> RecordResult:
    return await mx.check(DomainSettings(name, **settings), CheckContext(dns))  # type: ignore[arg-type]


def codes(result: RecordResult, severity: Severity | None = None) -> set[str]:
    return {f.code for f in result.findings if severity is None or f.severity == severity}


def assert_documented(result: RecordResult) -> None:
    for finding in result.findings:
        assert finding.code in mx.CODES, finding.code
        assert finding.message
        if finding.code != "mx.dns-failure":
            assert finding.ref.startswith("RFC "), finding


# -- ok -------------------------------------------------------------------------------


async def test_ok_details_records_and_ttl(zone: Records, dns: Dns) -> None:
    zone.add("example.com.", "MX", "10 mx1.example.com.", "20 mx2.example.com.", ttl=1800)
    result = await run(dns)
    assert result.status == Status.OK, result.findings
    assert result.ttl == 1800
    assert sorted(result.records) == ["10 mx1.example.com.", "20 mx2.example.com."]
    assert result.query_name == "example.com." and result.query_type == "MX"
    assert result.details == {
        "null_mx": False,
        "hosts": [
            {"preference": 10, "host": "mx1.example.com.", "addresses": ["192.0.2.1"]},
            {"preference": 20, "host": "mx2.example.com.", "addresses": ["2001:db8::2"]},
        ],
    }
    assert result.to_json()["fix"] is None
    assert_documented(result)


async def test_relay_glob_matching_all_hosts_is_ok(zone: Records, dns: Dns) -> None:
    zone.add("example.com.", "MX", "10 mx1.relay.example.", "20 A.B.Relay.Example.")
    result = await run(dns, relay_mx=("*.relay.example",))
    assert result.status == Status.OK, result.findings


# -- fail -----------------------------------------------------------------------------


async def test_no_mx_fails_even_with_an_a_record(zone: Records, dns: Dns) -> None:
    zone.add("example.com.", "A", "192.0.2.80")
    result = await run(dns)
    assert result.status == Status.FAIL
    assert codes(result) == {"mx.missing"}
    message = result.findings[0].message
    assert "implicit MX" in message and "relay" in message
    assert result.fix is not None and result.fix.steps
    assert_documented(result)


async def test_no_mx_fix_proposes_the_relay_records(zone: Records, dns: Dns) -> None:
    result = await run(dns, relay_mx=("mx1.relay.example", "mx2.relay.example."))
    assert codes(result) == {"mx.missing"}
    assert result.fix is not None and result.fix.record is not None
    assert result.fix.record.name == "example.com."
    assert result.fix.record.type == "MX"
    assert result.fix.record.value == "10 mx1.relay.example."
    assert any("20 mx2.relay.example." in step for step in result.fix.steps)


async def test_nxdomain_domain_does_not_exist(zone: Records, dns: Dns) -> None:
    result = await run(dns, "nope.example.com")
    assert result.status == Status.FAIL
    assert codes(result) == {"mx.domain-missing"}
    assert "does not exist" in result.findings[0].message
    assert result.fix is not None
    assert_documented(result)


async def test_no_host_resolves(zone: Records, dns: Dns) -> None:
    zone.add("example.com.", "MX", "10 gone.example.com.", "20 ghost.example.com.")
    zone.add("ghost.example.com.", "TXT", '"no address here"')
    result = await run(dns)
    assert result.status == Status.FAIL
    assert "mx.no-address" in codes(result, Severity.FAIL)
    assert "gone.example.com." in result.findings[0].message
    assert result.details["hosts"][0]["addresses"] == []
    assert_documented(result)


async def test_null_mx_with_other_records_fails(zone: Records, dns: Dns) -> None:
    zone.add("example.com.", "MX", "0 .", "10 mx1.example.com.")
    result = await run(dns)
    assert result.status == Status.FAIL
    assert "mx.null-mx-mixed" in codes(result, Severity.FAIL)
    assert result.details["null_mx"] is True
    assert_documented(result)


async def test_relay_set_and_no_host_matches(zone: Records, dns: Dns) -> None:
    zone.add("example.com.", "MX", "10 mx1.example.com.")
    result = await run(dns, relay_mx=("*.relay.example",))
    assert result.status == Status.FAIL
    assert codes(result) == {"mx.relay-missing"}
    assert "*.relay.example" in result.findings[0].message
    assert result.fix is not None and result.fix.record is None  # a glob names no host


async def test_relay_set_and_null_mx_fails(zone: Records, dns: Dns) -> None:
    zone.add("example.com.", "MX", "0 .")
    result = await run(dns, relay_mx=("mx1.relay.example",))
    assert result.status == Status.FAIL
    assert "mx.relay-missing" in codes(result)


# -- warn -----------------------------------------------------------------------------


async def test_null_mx_warns(zone: Records, dns: Dns) -> None:
    zone.add("example.com.", "MX", "0 .")
    result = await run(dns)
    assert result.status == Status.WARN
    assert codes(result) == {"mx.null-mx"}
    assert result.details == {"null_mx": True, "hosts": []}
    assert "receives no mail" in result.summary
    assert_documented(result)


async def test_some_hosts_do_not_resolve(zone: Records, dns: Dns) -> None:
    zone.add("example.com.", "MX", "10 mx1.example.com.", "20 gone.example.com.")
    result = await run(dns)
    assert result.status == Status.WARN
    assert codes(result) == {"mx.host-unresolved"}
    assert "gone.example.com." in result.findings[0].message


async def test_ip_address_target(zone: Records, dns: Dns) -> None:
    zone.add("example.com.", "MX", "10 mx1.example.com.", "20 192.0.2.25.")
    result = await run(dns)
    assert result.status == Status.WARN
    assert "mx.ip-target" in codes(result, Severity.WARN)
    assert any("192.0.2.25" in f.message for f in result.findings if f.code == "mx.ip-target")


async def test_cname_target(zone: Records, dns: Dns) -> None:
    zone.add("example.com.", "MX", "10 mail.example.com.")
    zone.add("mail.example.com.", "CNAME", "mx1.example.com.")
    result = await run(dns)
    assert result.status == Status.WARN
    assert codes(result) == {"mx.cname-target"}
    assert result.details["hosts"][0]["addresses"] == ["192.0.2.1"]
    assert_documented(result)


async def test_relay_set_and_some_hosts_bypass_it(zone: Records, dns: Dns) -> None:
    zone.add("example.com.", "MX", "10 mx1.relay.example.", "20 mx1.example.com.")
    result = await run(dns, relay_mx=("*.relay.example",))
    assert result.status == Status.WARN
    assert codes(result) == {"mx.relay-bypass"}
    assert "mx1.example.com." in result.findings[0].message
    assert result.fix is not None


async def test_empty_relay_list_means_no_expectation(zone: Records, dns: Dns) -> None:
    zone.add("example.com.", "MX", "10 mx1.example.com.")
    assert (await run(dns, relay_mx=())).status == Status.OK


# -- globs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "patterns", "expected"),
    [
        ("mx1.relay.example.", ("*.relay.example",), True),
        ("a.b.relay.example", ("*.relay.example",), True),
        ("relay.example", ("*.relay.example",), False),  # * is one or more labels
        ("MX1.Relay.Example.", ("*.relay.example.",), True),  # case, trailing dot
        ("evilrelay.example", ("*.relay.example",), False),  # whole labels only
        ("mx1.relay.example.evil", ("*.relay.example",), False),
        ("mx1.relay.example", ("mx1.relay.example",), True),
        ("mx2.relay.example", ("mx1.relay.example",), False),
        ("mx1.eu.relay.example", ("mx1.*.relay.example",), True),
        ("mx1.relay.example", ("mx1.*.relay.example",), False),
        ("mx1.relay.example", ("", "*.relay.example"), True),
    ],
)
def test_relay_globs(host: str, patterns: tuple[str, ...], expected: bool) -> None:
    assert mx.matches_relay(host, patterns) is expected


# -- unknown: failures are never red -------------------------------------------------


@pytest.mark.parametrize("behaviour", ["drop", "servfail"])
async def test_mx_query_failure_is_unknown(zone: Records, dns: Dns, behaviour: str) -> None:
    zone.add("example.com.", "MX", "10 mx1.example.com.")
    zone.set_behaviour("example.com.", behaviour, "MX")
    result = await run(dns)
    assert result.status == Status.UNKNOWN
    assert codes(result) == {"mx.dns-failure"}
    assert result.details == {"null_mx": False, "hosts": []}
    assert result.fix is not None and result.fix.steps


async def test_only_host_unanswered_is_unknown_not_fail(zone: Records, dns: Dns) -> None:
    zone.add("example.com.", "MX", "10 mx1.example.com.")
    zone.set_behaviour("mx1.example.com.", "drop")
    result = await run(dns)
    assert result.status == Status.UNKNOWN
    assert "mx.no-address" not in codes(result)
    assert "mx.dns-failure" in codes(result, Severity.WARN)


async def test_dead_host_plus_unanswered_host_is_unknown_not_warn(zone: Records, dns: Dns) -> None:
    # If the unanswered host does not resolve either, no host resolves: a fail. So unknown.
    zone.add("example.com.", "MX", "10 gone.example.com.", "20 mx1.example.com.")
    zone.set_behaviour("mx1.example.com.", "drop")
    result = await run(dns)
    assert result.status == Status.UNKNOWN
    assert "mx.host-unresolved" in codes(result, Severity.WARN)


async def test_unanswered_second_host_makes_ok_unknown(zone: Records, dns: Dns) -> None:
    zone.add("example.com.", "MX", "10 mx1.example.com.", "20 mx2.example.com.")
    zone.set_behaviour("mx2.example.com.", "servfail")
    result = await run(dns)
    assert result.status == Status.UNKNOWN


async def test_warn_that_holds_whatever_the_failed_answer_stays_warn(
    zone: Records, dns: Dns
) -> None:
    zone.add("example.com.", "MX", "10 mx1.example.com.", "20 gone.example.com.")
    zone.add("example.com.", "MX", "30 mx2.example.com.")
    zone.set_behaviour("mx2.example.com.", "servfail")
    result = await run(dns)
    assert result.status == Status.WARN
    notes = [f for f in result.findings if f.code == "mx.dns-failure"]
    assert notes and all(f.severity == Severity.INFO for f in notes)


async def test_fail_stands_despite_a_failed_lookup(zone: Records, dns: Dns) -> None:
    zone.add("example.com.", "MX", "0 .", "10 mx1.example.com.")
    zone.set_behaviour("mx1.example.com.", "drop")
    result = await run(dns)
    assert result.status == Status.FAIL
    assert "mx.null-mx-mixed" in codes(result)


# -- queries --------------------------------------------------------------------------


async def test_shared_hosts_are_asked_once(zone: Records, dns: Dns, dns_server: DnsServer) -> None:
    zone.add_zone("example.net.")
    zone.add("example.com.", "MX", "10 mx1.relay.example.")
    zone.add("example.net.", "MX", "10 mx1.relay.example.")
    ctx = CheckContext(dns)
    for name in ("example.com", "example.net"):
        result = await mx.check(DomainSettings(name), ctx)
        assert result.status == Status.OK
    assert dns_server.queries[("mx1.relay.example.", "A")] == 1
    assert dns_server.queries[("mx1.relay.example.", "AAAA")] == 1


def test_codes_table_matches_the_source() -> None:
    # Every code the module can emit is documented, and every documented code is emitted.
    source = inspect.getsource(mx)
    source = re.sub(r"CODES: dict\[str, str\] = \{.*?\n\}", "", source, flags=re.S)
    used = set(re.findall(r'"(mx\.[a-z0-9-]+)"', source))
    used.add("mx.dns-failure")  # built by context.failure_finding
    assert used == set(mx.CODES)


async def test_no_mx_and_spf_minus_all_is_fixed_by_a_null_mx(records: Records, dns: Dns) -> None:
    """Issue 18 item 5: a domain whose SPF authorizes nobody sends no mail; its missing MX
    is fixed with the null MX (RFC 7505), or offered beside the relay's fix."""
    records.add_zone("quiet.example.")
    records.add_txt("quiet.example.", "v=spf1 -all")
    alone = await mx.check(DomainSettings("quiet.example"), CheckContext(dns))
    assert alone.fix is not None and alone.fix.record is not None
    assert (alone.fix.record.type, alone.fix.record.value) == ("MX", "0 .")
    assert "sends no mail (its SPF record is v=spf1 -all)" in alone.fix.steps[0]
    relayed = await mx.check(
        DomainSettings("quiet.example", relay_mx=("*.relay.example",)), CheckContext(dns)
    )
    assert relayed.fix is not None and relayed.fix.steps[-1].startswith("Or: quiet.example")
