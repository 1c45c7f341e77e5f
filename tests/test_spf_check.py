"""The SPF card: one test (at least) per SPEC §4 SPF bullet, over the loopback DNS server."""

from __future__ import annotations

import pytest

from esm_tui.checks.context import CheckContext
from esm_tui.checks.spf import CODES, check
from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from esm_tui.dns import Dns
from esm_tui.model import DomainSettings, RecordResult, Severity, Status

RELAY = "_spf.relay.example"


@pytest.fixture
def zone(records: Records) -> Records:
    records.add_zone("example.com.")
    records.add_zone("relay.example.")
    records.add("example.com.", "MX", "10 mx.example.com.")
    records.add("mx.example.com.", "A", "198.51.100.1")
    records.add_txt(f"{RELAY}.", "v=spf1 ip4:192.0.2.0/24 -all")
    return records


async def _check(dns: Dns, **settings: object) -> RecordResult:
    result = await check(DomainSettings("example.com", **settings), CheckContext(dns))
    for finding in result.findings:
        assert finding.code in CODES, finding.code
        # (the lead's shared failure_finding() gives DNS failures no RFC reference)
        assert finding.ref.startswith("RFC 7208") or finding.code == "spf.dns-failure"
    result.to_json()  # always serializable
    return result


def _codes(result: RecordResult, severity: Severity | None = None) -> set[str]:
    return {f.code for f in result.findings if severity is None or f.severity == severity}


# -- ok ---------------------------------------------------------------------------------


@pytest.mark.parametrize("all_term", ["-all", "~all"])
async def test_ok_with_fail_or_softfail_all(
    zone: Records, dns_server: DnsServer, dns: Dns, all_term: str
) -> None:
    zone.add_txt("example.com.", f"v=spf1 mx include:{RELAY} {all_term}", "other=txt")
    result = await _check(dns, spf_include=(RELAY,), spf_ips=("192.0.2.0/28",))
    assert result.status == Status.OK, result.findings
    assert sorted(result.records) == ["other=txt", f"v=spf1 mx include:{RELAY} {all_term}"]
    assert result.query_name == "example.com." and result.query_type == "TXT"
    details = result.to_json()["details"]
    assert details["record"] == f"v=spf1 mx include:{RELAY} {all_term}"
    assert (details["dns_lookups"], details["void_lookups"], details["all"]) == (2, 0, all_term)
    assert details["includes"] == [RELAY]
    assert details["relay_authorized"] is True
    assert [r["ip"] for r in details["relay"]] == ["192.0.2.0", "192.0.2.15"]
    assert details["tree"]["children"][0]["via"] == f"include:{RELAY}"
    assert result.to_json()["fix"] is None


async def test_redirect_without_all_is_ok(zone: Records, dns_server: DnsServer, dns: Dns) -> None:
    zone.add_txt("example.com.", f"v=spf1 redirect={RELAY}")
    result = await _check(dns, spf_include=(RELAY.upper() + ".",), spf_ips=("192.0.2.7",))
    assert result.status == Status.OK, result.findings
    assert result.details["all"] == "-all"  # the redirect target's all decides


async def test_unknown_modifier_is_only_noted(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    zone.add_txt("example.com.", "v=spf1 mx moo.cow=far -all")
    result = await _check(dns)
    assert result.status == Status.OK
    assert _codes(result) == {"spf.unknown-modifier"}


# -- fail -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "setup",
    [
        lambda r: None,
        lambda r: r.add_txt("example.com.", "google-site-verification=x", "v=spf10 -all"),
    ],
)
async def test_missing_record(zone: Records, dns_server: DnsServer, dns: Dns, setup) -> None:
    setup(zone)
    result = await _check(dns, spf_include=(RELAY,))
    assert result.status == Status.FAIL and "spf.missing" in _codes(result)
    assert result.details["record"] is None and result.details["relay_authorized"] is None
    assert result.fix is not None and result.fix.record is not None
    assert result.fix.record.value == f"v=spf1 mx include:{RELAY} ~all"
    assert result.fix.record.name == "example.com."


async def test_domain_that_does_not_exist(dns_server: DnsServer, dns: Dns) -> None:
    result = await _check(dns)
    assert result.status == Status.FAIL
    assert "NXDOMAIN" in next(f.message for f in result.findings if f.code == "spf.missing")


async def test_multiple_records(zone: Records, dns_server: DnsServer, dns: Dns) -> None:
    zone.add_txt("example.com.", "v=spf1 mx -all", f"v=spf1 include:{RELAY} ip4:203.0.113.5 ~all")
    result = await _check(dns)
    assert result.status == Status.FAIL and "spf.multiple-records" in _codes(result)
    assert result.details["record"] is None
    assert result.fix is not None and result.fix.record is not None
    # merged in sorted order of the records; the strictest common all is kept only if all agree
    assert result.fix.record.value == f"v=spf1 include:{RELAY} ip4:203.0.113.5 mx ~all"


@pytest.mark.parametrize(
    ("record", "ref"),
    [
        ("v=spf1 mx foo:bar -all", "RFC 7208 §5"),  # unknown mechanism
        ("v=spf1 mx 1x=y -all", "RFC 7208 §4.6.1"),  # malformed modifier
        ("v=spf1 ip4:192.0.2.0/33 -all", "RFC 7208 §5.6"),  # bad CIDR (ip4 > 32)
        ("v=spf1 ip6:2001:db8::/129 -all", "RFC 7208 §5.6"),  # bad CIDR (ip6 > 128)
        ("v=spf1 a/24/64 -all", "RFC 7208 §5.3"),  # bad dual-cidr
        ("v=spf1 exists:%{z}.example.com -all", "RFC 7208 §7.2"),  # bad macro
        ("v=spf1 redirect=a.example redirect=b.example", "RFC 7208 §6"),
        ("v=spf1 exp=a.example exp=b.example -all", "RFC 7208 §6"),
    ],
)
async def test_syntax_errors(
    zone: Records, dns_server: DnsServer, dns: Dns, record: str, ref: str
) -> None:
    zone.add_txt("example.com.", record)
    result = await _check(dns)
    assert result.status == Status.FAIL
    errors = [f for f in result.findings if f.code == "spf.syntax-error"]
    assert len(errors) == 1 and errors[0].ref == ref


async def test_too_many_lookups_names_heaviest_branch(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    zone.add_txt(
        "example.com.", "v=spf1 mx include:heavy.example.net include:light.example.net -all"
    )
    zone.add_txt(
        "heavy.example.net.", "v=spf1 " + " ".join(f"include:h{i}.example.net" for i in range(8))
    )
    for i in range(8):
        zone.add_txt(f"h{i}.example.net.", f"v=spf1 ip4:203.0.113.{i} -all")
    zone.add_txt("light.example.net.", "v=spf1 ip4:198.51.100.0/24 -all")
    result = await _check(dns)
    assert result.status == Status.FAIL
    assert result.details["dns_lookups"] == 11
    message = next(f.message for f in result.findings if f.code == "spf.too-many-lookups")
    assert "11 DNS lookups" in message
    assert message.index("include:heavy.example.net (9)") < message.index("light")


async def test_nested_a_mx_ptr_exists_count(zone: Records, dns_server: DnsServer, dns: Dns) -> None:
    """Counting goes through included records' a/mx/ptr/exists terms too (SPEC §4)."""
    zone.add_txt("example.com.", "v=spf1 include:n.example.net -all")
    zone.add_txt(
        "n.example.net.", "v=spf1 a mx ptr exists:%{i}.bl.example.net a:h.example.net ~all"
    )
    zone.add("n.example.net.", "A", "203.0.113.1")
    zone.add("n.example.net.", "MX", *(f"{i} m{i}.example.net." for i in range(10)))
    zone.add("h.example.net.", "A", "203.0.113.2")
    result = await _check(dns)
    # include + a + mx + ptr + exists + a: 6; the 10 MX hosts' address lookups are not terms
    assert result.details["dns_lookups"] == 6
    assert result.status == Status.OK, result.findings
    assert "spf.ptr-nested" in _codes(result, Severity.INFO)


@pytest.mark.parametrize(("count", "status"), [(8, Status.OK), (9, Status.WARN), (10, Status.WARN)])
async def test_near_the_limit(
    zone: Records, dns_server: DnsServer, dns: Dns, count: int, status: Status
) -> None:
    zone.add("example.com.", "A", "198.51.100.2")
    zone.add_txt("example.com.", "v=spf1 " + "a " * (count - 1) + "mx -all")
    result = await _check(dns)
    assert (result.status, result.details["dns_lookups"]) == (status, count)
    assert ("spf.lookups-near-limit" in _codes(result)) is (status == Status.WARN)


async def test_too_many_void_lookups(zone: Records, dns_server: DnsServer, dns: Dns) -> None:
    zone.add_txt(
        "example.com.",
        "v=spf1 a:old1.example.com mx:old2.example.com include:gone.example.org -all",
    )
    result = await _check(dns)
    assert result.status == Status.FAIL
    assert result.details["void_lookups"] == 3
    assert {"spf.too-many-void-lookups", "spf.include-target-missing"} <= _codes(result)
    message = next(f.message for f in result.findings if f.code == "spf.too-many-void-lookups")
    assert message.endswith(
        "Void: a:old1.example.com, mx:old2.example.com, include:gone.example.org."
    )


async def test_include_loop(zone: Records, dns_server: DnsServer, dns: Dns) -> None:
    zone.add_txt("example.com.", "v=spf1 include:a.example.net -all")
    zone.add_txt("a.example.net.", "v=spf1 include:b.example.net")
    zone.add_txt("b.example.net.", "v=spf1 include:A.example.net.")
    result = await _check(dns)
    assert result.status == Status.FAIL and "spf.include-loop" in _codes(result)


@pytest.mark.parametrize(
    ("record", "code"),
    [
        ("v=spf1 include:nx.example.org -all", "spf.include-target-missing"),
        ("v=spf1 include:txt.example.com -all", "spf.include-target-missing"),
        ("v=spf1 redirect=nx.example.org", "spf.redirect-target-missing"),
        ("v=spf1 include:bad.example.com -all", "spf.include-target-invalid"),
        ("v=spf1 redirect=two.example.com", "spf.redirect-target-invalid"),
    ],
)
async def test_include_and_redirect_targets(
    zone: Records, dns_server: DnsServer, dns: Dns, record: str, code: str
) -> None:
    zone.add_txt("example.com.", record)
    zone.add_txt("txt.example.com.", "just text")
    zone.add_txt("bad.example.com.", "v=spf1 ip4:1.2.3")
    zone.add_txt("two.example.com.", "v=spf1 -all", "v=spf1 ~all")
    result = await _check(dns)
    assert result.status == Status.FAIL and code in _codes(result, Severity.FAIL)


@pytest.mark.parametrize(
    "record", ["v=spf1 +all", "v=spf1 mx all", "v=spf1 include:open.example.net -all"]
)
async def test_plus_all(zone: Records, dns_server: DnsServer, dns: Dns, record: str) -> None:
    zone.add_txt("example.com.", record)
    zone.add_txt("open.example.net.", "v=spf1 +all")
    result = await _check(dns)
    assert result.status == Status.FAIL and "spf.plus-all" in _codes(result)
    assert result.fix is not None


async def test_plus_all_stands_despite_a_dns_failure(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    zone.add_txt("example.com.", "v=spf1 include:slow.example.net +all")
    zone.set_behaviour("slow.example.net.", "drop")
    result = await _check(dns)
    assert result.status == Status.FAIL
    assert {"spf.plus-all", "spf.dns-failure"} <= _codes(result)


async def test_minus_include_of_plus_all_is_not_plus_all(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    zone.add_txt("example.com.", "v=spf1 -include:open.example.net mx -all")
    zone.add_txt("open.example.net.", "v=spf1 +all")
    assert "spf.plus-all" not in _codes(await _check(dns))


@pytest.mark.parametrize(
    ("record", "ip", "result"),
    [
        ("v=spf1 mx -all", "192.0.2.1", "fail"),
        ("v=spf1 mx ~all", "192.0.2.1", "softfail"),
        ("v=spf1 mx", "192.0.2.1", "neutral"),
        ("v=spf1 mx ip4:192.0.2.0/25 -all", "192.0.2.0/24", "fail"),  # the last address fails
        ("v=spf1 include:nx.example.org -all", "192.0.2.1", "permerror"),
    ],
)
async def test_relay_addresses_must_pass(
    zone: Records, dns_server: DnsServer, dns: Dns, record: str, ip: str, result: str
) -> None:
    zone.add_txt("example.com.", record)
    checked = await _check(dns, spf_ips=(ip,))
    assert checked.status == Status.FAIL
    assert checked.details["relay_authorized"] is False
    message = next(f.message for f in checked.findings if f.code == "spf.relay-not-authorized")
    assert f"gets {result} from check_host" in message
    failed = [r for r in checked.details["relay"] if r["result"] != "pass"]
    assert failed and failed[0]["ip"] in message and failed[0]["result"] == result


async def test_relay_without_record_gets_none(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    result = await _check(dns, spf_ips=("192.0.2.1",))
    message = next(f.message for f in result.findings if f.code == "spf.relay-not-authorized")
    assert "gets none" in message


async def test_relay_include_missing(zone: Records, dns_server: DnsServer, dns: Dns) -> None:
    zone.add_txt("example.com.", "v=spf1 mx include:other.example.net -all")
    zone.add_txt("other.example.net.", "v=spf1 ip4:203.0.113.0/24 -all")
    result = await _check(dns, spf_include=(RELAY,))
    assert result.status == Status.FAIL and "spf.relay-include-missing" in _codes(result)
    assert result.fix is not None and result.fix.record is not None
    assert result.fix.record.value == (f"v=spf1 mx include:other.example.net include:{RELAY} -all")


async def test_relay_include_reached_when_nested(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    zone.add_txt("example.com.", "v=spf1 include:Other.Example.net. -all")
    zone.add_txt("other.example.net.", f"v=spf1 include:{RELAY.upper()}.")
    result = await _check(dns, spf_include=(f"{RELAY}.",))
    assert "spf.relay-include-missing" not in _codes(result)
    assert result.status == Status.OK, result.findings


# -- warn -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "code"),
    [
        ("v=spf1 mx ?all", "spf.neutral-all"),
        ("v=spf1 mx", "spf.no-all"),
        ("v=spf1 mx ptr -all", "spf.ptr"),
        ("v=spf1 mx ptr:example.com -all", "spf.ptr"),
    ],
)
async def test_warnings(
    zone: Records, dns_server: DnsServer, dns: Dns, record: str, code: str
) -> None:
    zone.add_txt("example.com.", record)
    result = await _check(dns)
    assert result.status == Status.WARN
    assert _codes(result, Severity.WARN) == {code}
    assert result.fix is not None and result.fix.record is not None
    assert "ptr" not in result.fix.record.value and result.fix.record.value.endswith("all")


# -- unknown ----------------------------------------------------------------------------


async def test_apex_timeout_is_unknown(zone: Records, dns_server: DnsServer, dns: Dns) -> None:
    zone.set_behaviour("example.com.", "drop", "TXT")
    result = await _check(dns, spf_ips=("192.0.2.1",))
    assert result.status == Status.UNKNOWN
    assert "spf.dns-failure" in _codes(result)


async def test_include_failure_is_unknown_not_fail(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    zone.add_txt("example.com.", f"v=spf1 mx include:slow.example.net include:{RELAY} -all")
    zone.set_behaviour("slow.example.net.", "servfail")
    result = await _check(dns, spf_include=("elsewhere.example",), spf_ips=("192.0.2.1",))
    # The relay include may sit in the unread branch, and check_host hit the failure.
    assert result.status == Status.UNKNOWN, result.findings
    assert {"spf.dns-failure", "spf.relay-unverified", "spf.relay-include-missing"} <= _codes(
        result
    )
    assert result.details["relay_authorized"] is None


async def test_definite_relay_fail_stands_despite_failures(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    zone.add_txt("example.com.", "v=spf1 -ip4:192.0.2.1 include:slow.example.net -all")
    zone.set_behaviour("slow.example.net.", "servfail")
    result = await _check(dns, spf_ips=("192.0.2.1",))
    assert result.status == Status.FAIL
    assert "spf.relay-not-authorized" in _codes(result)


async def test_raw_records_are_kept(zone: Records, dns_server: DnsServer, dns: Dns) -> None:
    zone.add_txt("example.com.", [b"v=spf1 mx ", b"-all"], b"junk\xff\x1b[31m")
    result = await _check(dns)
    assert set(result.records) == {"v=spf1 mx -all", "junk\\xff\x1b[31m"}
    assert result.status == Status.OK


async def test_non_ascii_record_is_a_syntax_error(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    zone.add_txt("example.com.", b"v=spf1 a:\xff.example.com -all")
    result = await _check(dns)
    assert result.records == ("v=spf1 a:\\xff.example.com -all",)
    assert "spf.syntax-error" in _codes(result)
    assert "0xff" in next(f.message for f in result.findings if f.code == "spf.syntax-error")


def test_every_code_in_the_sources_is_documented() -> None:
    """Codes are emitted from several modules (tree errors become findings): all in CODES."""
    import re
    from pathlib import Path

    import esm_tui.checks.spf as check_module
    import esm_tui.spf as package

    sources = [Path(check_module.__file__), *Path(package.__file__).parent.glob("*.py")]
    found = {c for p in sources for c in re.findall(r'"(spf\.[a-z-]+)"', p.read_text())}
    found |= {
        f"spf.{kind}-target-{what}"
        for kind in ("include", "redirect")
        for what in ("missing", "invalid")
    }  # built as f"spf.{kind}-target-..." in tree.py
    assert found - {"spf.py"} <= set(CODES)
    assert all(CODES.values())


async def test_the_summary_does_not_call_the_relay_authorized_when_its_include_is_missing(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    """Issue 17 item 7: "relay authorized" stood beside the relay-include-missing failure."""
    zone.add_txt("example.com.", "v=spf1 ip4:192.0.2.0/24 -all")
    result = await _check(dns, spf_include=(RELAY,), spf_ips=("192.0.2.1",))
    assert "spf.relay-include-missing" in _codes(result)
    assert "relay authorized" not in result.summary
    assert "relay addresses pass, its include missing" in result.summary
    alone = await _check(dns, spf_ips=("192.0.2.1",))
    assert "relay authorized" in alone.summary  # with nothing missing, it still says so
