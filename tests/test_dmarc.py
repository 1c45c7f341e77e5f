"""The DMARC check against the loopback server: RFC 9989 discovery, every SPEC §4 DMARC bullet,
external report authorization, failures; and the parser, held to its contract by hypothesis."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esm_tui.checks import dmarc
from esm_tui.checks.context import CheckContext
from esm_tui.checks.dmarc.parse import (
    DmarcRecord,
    DmarcSyntaxError,
    parse_dmarc,
    parse_report_uri,
    starts_with_dmarc1,
)
from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from esm_tui.dns import Dns
from esm_tui.model import DomainSettings, RecordResult, Severity, Status

GOOD = "v=DMARC1; p=reject; rua=mailto:dmarc@example.com"


@pytest.fixture
def zone(records: Records) -> Records:
    records.add_zone("example.com.")
    records.add("example.com.", "MX", "10 mx.example.com.")
    records.add("mx.example.com.", "A", "192.0.2.1")
    return records


def publish(zone: Records, text: str, name: str = "example.com") -> None:
    zone.add_txt(f"_dmarc.{name}.", text)


async def run(dns: Dns, name: str = "example.com") -> RecordResult:
    return await dmarc.check(DomainSettings(name), CheckContext(dns))


def codes(result: RecordResult, severity: Severity | None = None) -> set[str]:
    return {f.code for f in result.findings if severity is None or f.severity == severity}


def dmarc_queries(server: DnsServer) -> list[str]:
    return sorted(
        n for (n, t), c in server.queries.items() if t == "TXT" and n.startswith("_dmarc.")
    )


def assert_documented(result: RecordResult) -> None:
    for finding in result.findings:
        assert finding.code in dmarc.CODES, finding.code
        assert finding.message
        if finding.code != "dmarc.dns-failure":
            assert finding.ref.startswith("RFC "), finding


# -- ok -------------------------------------------------------------------------------


async def test_ok_record_and_details(zone: Records, dns: Dns) -> None:
    publish(zone, GOOD)
    result = await run(dns)
    assert result.status == Status.OK, result.findings
    assert result.query_name == "_dmarc.example.com." and result.query_type == "TXT"
    assert result.records == (GOOD,)
    assert result.ttl == 300
    details = result.details
    assert details["record"] == GOOD
    assert details["location"] == "example.com"
    assert (details["p"], details["sp"], details["np"], details["pct"]) == (
        "reject",
        None,
        None,
        None,
    )
    assert details["rua"] == ["mailto:dmarc@example.com"] and details["ruf"] == []
    assert details["inherited"] is False
    assert result.to_json()["fix"] is None
    assert "p=reject" in result.summary


async def test_records_are_raw_as_published(zone: Records, dns: Dns) -> None:
    zone.add_txt("_dmarc.example.com.", ["v=DMARC1; p=rej", "ect; rua=mailto:d@example.com"])
    result = await run(dns)
    assert result.records == ("v=DMARC1; p=reject; rua=mailto:d@example.com",)
    assert result.status == Status.OK


# -- fail -----------------------------------------------------------------------------


async def test_missing_record_fails_with_starter_fix(
    zone: Records, dns: Dns, dns_server: DnsServer
) -> None:
    result = await run(dns)
    assert result.status == Status.FAIL
    assert codes(result) == {"dmarc.missing"}
    assert result.details["record"] is None and result.details["location"] is None
    fix = result.fix
    assert fix is not None and fix.record is not None
    assert fix.record.name == "_dmarc.example.com."
    assert fix.record.value == "v=DMARC1; p=none; rua=mailto:dmarc-reports@example.com"
    assert fix.steps[0].startswith('Publish _dmarc.example.com TXT "v=DMARC1; p=none;')
    assert "mailbox you actually read" in fix.steps[0]
    assert any("p=quarantine" in s and "p=reject" in s for s in fix.steps)
    # The tree walk: the domain, then its parents up to the TLD, never the root.
    assert dmarc_queries(dns_server) == ["_dmarc.com.", "_dmarc.example.com."]
    assert_documented(result)


async def test_record_at_apex_has_no_effect(zone: Records, dns: Dns) -> None:
    zone.add_txt("example.com.", "v=spf1 -all", GOOD)
    result = await run(dns)
    assert result.status == Status.FAIL
    assert codes(result) == {"dmarc.missing", "dmarc.record-at-apex"}


async def test_multiple_records_fail(zone: Records, dns: Dns) -> None:
    zone.add_txt("_dmarc.example.com.", GOOD, "v=DMARC1; p=none")
    result = await run(dns)
    assert result.status == Status.FAIL
    assert "dmarc.multiple-records" in codes(result, Severity.FAIL)
    assert "dmarc.missing" not in codes(result)  # the finding above says what is wrong
    assert len(result.records) == 2
    assert result.fix is not None and any("all but one" in s for s in result.fix.steps)
    assert_documented(result)


@pytest.mark.parametrize(
    "text",
    ["p=reject; v=DMARC1", "v=DMARC2; p=reject", "v=dmarc1; p=reject", "v=DMARC1p=reject"],
)
async def test_record_not_starting_with_v_dmarc1(zone: Records, dns: Dns, text: str) -> None:
    publish(zone, text)
    result = await run(dns)
    assert result.status == Status.FAIL
    assert codes(result) == {"dmarc.not-dmarc1"}
    assert result.fix is not None


async def test_record_with_version_not_first_is_repaired_in_the_fix(
    zone: Records, dns: Dns
) -> None:
    publish(zone, "p=reject; v=DMARC1; rua=mailto:d@example.com")
    result = await run(dns)
    assert result.fix is not None and result.fix.record is not None
    assert result.fix.record.value == "v=DMARC1; p=reject; rua=mailto:d@example.com"


@pytest.mark.parametrize("tag", ["p", "sp", "np"])
async def test_invalid_policy_value(zone: Records, dns: Dns, tag: str) -> None:
    text = "v=DMARC1; p=reject; rua=mailto:d@example.com"
    text = text.replace("p=reject", "p=rejekt") if tag == "p" else f"{text}; {tag}=always"
    publish(zone, text)
    result = await run(dns)
    assert result.status == Status.FAIL
    assert codes(result, Severity.FAIL) == {"dmarc.invalid-policy"}
    assert any(f"{tag}=" in f.message for f in result.findings)
    assert result.summary.startswith(f"invalid {tag}: receivers fall back to p=none")
    assert_documented(result)


@pytest.mark.parametrize(
    "text",
    [
        "v=DMARC1; p=reject; p=none",  # a tag twice
        "v=DMARC1; p=reject; rua",  # no '='
        "v=DMARC1; p=reject; r-u-a=mailto:a@example.com",  # not a tag name
    ],
)
async def test_syntax_error(zone: Records, dns: Dns, text: str) -> None:
    publish(zone, text)
    result = await run(dns)
    assert result.status == Status.FAIL
    assert codes(result) == {"dmarc.syntax-error"}
    assert "character" in result.findings[0].message
    assert result.details["record"] == text
    assert result.fix is not None


async def test_invalid_policy_without_usable_rua_means_no_dmarc(zone: Records, dns: Dns) -> None:
    publish(zone, "v=DMARC1; p=strict")
    result = await run(dns)
    assert result.status == Status.FAIL
    assert "receivers ignore the record" in result.summary
    assert result.details["policy"] is None


# -- warn -----------------------------------------------------------------------------


async def test_policy_none_warns_and_fix_keeps_other_tags(zone: Records, dns: Dns) -> None:
    publish(zone, "v=DMARC1; p=none; rua=mailto:d@example.com; adkim=s; fo=1")
    result = await run(dns)
    assert result.status == Status.WARN
    assert codes(result) == {"dmarc.policy-none"}
    assert result.fix is not None and result.fix.record is not None
    assert result.fix.record.value == (
        "v=DMARC1; p=quarantine; rua=mailto:d@example.com; adkim=s; fo=1"
    )
    assert_documented(result)


async def test_missing_p_means_none(zone: Records, dns: Dns) -> None:
    publish(zone, "v=DMARC1; rua=mailto:d@example.com")
    result = await run(dns)
    assert result.status == Status.WARN
    assert codes(result) == {"dmarc.policy-none", "dmarc.p-missing"}
    assert "dmarc.p-missing" in codes(result, Severity.INFO)


async def test_testing_mode(zone: Records, dns: Dns) -> None:
    publish(zone, "v=DMARC1; p=reject; t=y; rua=mailto:d@example.com")
    result = await run(dns)
    assert result.status == Status.WARN
    assert codes(result) == {"dmarc.testing"}
    assert "quarantine" in result.findings[0].message
    assert result.details["t"] == "y"
    assert result.fix is not None and result.fix.record is not None
    assert "t=" not in result.fix.record.value


async def test_pct_below_100(zone: Records, dns: Dns) -> None:
    publish(zone, "v=DMARC1; p=quarantine; pct=20; rua=mailto:d@example.com")
    result = await run(dns)
    assert result.status == Status.WARN
    assert codes(result, Severity.WARN) == {"dmarc.pct-partial"}
    assert "dmarc.removed-tag" in codes(result, Severity.INFO)
    assert result.details["pct"] == 20


async def test_pct_100_is_only_noted_as_removed(zone: Records, dns: Dns) -> None:
    publish(zone, "v=DMARC1; p=reject; pct=100; rf=afrf; ri=86400; rua=mailto:d@example.com")
    result = await run(dns)
    assert result.status == Status.OK
    removed = [f for f in result.findings if f.code == "dmarc.removed-tag"]
    assert {f.message.split("=")[0] for f in removed} == {"pct", "rf", "ri"}
    assert all(f.severity == Severity.INFO for f in removed)


async def test_sp_none_under_strict_p(zone: Records, dns: Dns) -> None:
    publish(zone, "v=DMARC1; p=reject; sp=none; rua=mailto:d@example.com")
    result = await run(dns)
    assert result.status == Status.WARN
    assert codes(result) == {"dmarc.sp-none"}


async def test_no_rua(zone: Records, dns: Dns) -> None:
    publish(zone, "v=DMARC1; p=reject")
    result = await run(dns)
    assert result.status == Status.WARN
    assert codes(result) == {"dmarc.no-rua"}
    assert result.fix is not None and result.fix.record is not None
    assert result.fix.record.value == ("v=DMARC1; p=reject; rua=mailto:dmarc-reports@example.com")


async def test_invalid_report_uri(zone: Records, dns: Dns) -> None:
    publish(zone, "v=DMARC1; p=reject; rua=mailto:d@example.com,dmarc@example.com")
    result = await run(dns)
    assert result.status == Status.WARN
    assert codes(result) == {"dmarc.invalid-uri"}
    assert "dmarc@example.com" in result.findings[0].message


async def test_invalid_value_of_another_tag(zone: Records, dns: Dns) -> None:
    publish(zone, "v=DMARC1; p=reject; adkim=strict; rua=mailto:d@example.com")
    result = await run(dns)
    assert result.status == Status.WARN
    assert codes(result) == {"dmarc.invalid-value"}
    assert "adkim" in result.findings[0].message


async def test_one_question_for_dmarc_no_cname_query(
    zone: Records, dns: Dns, dns_server: DnsServer
) -> None:
    """Issue 18 item 7: the TXT answer carries any CNAME chain, so the check asks no CNAME
    question of its own; a CNAME that cannot be answered no longer makes a good record
    unknown (it is never asked)."""
    publish(zone, GOOD)
    zone.set_behaviour("_dmarc.example.com.", "drop", "CNAME")
    dns_server.queries.clear()
    result = await run(dns)
    assert result.status == Status.OK, result.findings
    assert result.details["p"] == "reject"
    assert not any(t == "CNAME" for _, t in dns_server.queries)


async def test_cname_delegation_alone_is_fine(zone: Records, dns: Dns) -> None:
    zone.add_zone("vendor.example.")
    zone.add("_dmarc.example.com.", "CNAME", "example.com.dmarc.vendor.example.")
    zone.add_txt(
        "example.com.dmarc.vendor.example.", "v=DMARC1; p=reject; rua=mailto:r@example.com"
    )
    result = await run(dns)
    assert result.status == Status.OK, result.findings
    assert result.details["location"] == "example.com"


# -- info -----------------------------------------------------------------------------


async def test_info_findings_do_not_change_ok(zone: Records, dns: Dns) -> None:
    publish(zone, "v=DMARC1; rua=mailto:d@example.com!10m; p=reject; xyz=1")
    result = await run(dns)
    assert result.status == Status.OK
    assert codes(result) == {"dmarc.uri-size", "dmarc.unknown-tag", "dmarc.p-not-second"}
    assert codes(result, Severity.INFO) == codes(result)


async def test_more_info_findings(zone: Records, dns: Dns) -> None:
    zone.add_txt(
        "_dmarc.example.com.",
        "v=DMARC1; p=reject; psd=y; rua=mailto:d@example.com,https://r.example.com/dmarc",
        "google-site-verification=abc",
    )
    result = await run(dns)
    assert result.status == Status.OK, result.findings
    assert codes(result) == {"dmarc.uri-scheme", "dmarc.other-txt", "dmarc.psd"}
    assert codes(result, Severity.INFO) == codes(result)


# -- external report authorization (RFC 9990) -----------------------------------------


@pytest.fixture
def external(zone: Records) -> Records:
    zone.add_zone("reports.example.")
    publish(zone, "v=DMARC1; p=reject; rua=mailto:d@example.com,mailto:agg@reports.example")
    return zone


async def test_external_address_without_authorization(external: Records, dns: Dns) -> None:
    result = await run(dns)
    assert result.status == Status.WARN
    assert codes(result) == {"dmarc.report-unauthorized"}
    assert "example.com._report._dmarc.reports.example" in result.findings[0].message
    assert result.fix is not None
    assert any("example.com._report._dmarc.reports.example" in s for s in result.fix.steps)


async def test_external_address_with_authorization(
    external: Records, dns: Dns, dns_server: DnsServer
) -> None:
    external.add_txt("example.com._report._dmarc.reports.example.", "v=DMARC1")
    result = await run(dns)
    assert result.status == Status.OK, result.findings
    assert dns_server.queries[("example.com._report._dmarc.reports.example.", "TXT")] == 1


async def test_external_authorization_by_wildcard(external: Records, dns: Dns) -> None:
    external.add_txt("*._report._dmarc.reports.example.", "v=DMARC1;")
    assert (await run(dns)).status == Status.OK


async def test_authorization_record_must_start_with_v_dmarc1(external: Records, dns: Dns) -> None:
    external.add_txt("example.com._report._dmarc.reports.example.", "hello")
    assert codes(await run(dns)) == {"dmarc.report-unauthorized"}


async def test_same_organizational_domain_needs_no_authorization(
    zone: Records, dns: Dns, dns_server: DnsServer
) -> None:
    publish(zone, "v=DMARC1; p=reject; rua=mailto:d@reports.example.com")
    zone.add("reports.example.com.", "MX", "10 mx.example.com.")  # it receives mail
    result = await run(dns)
    assert result.status == Status.OK, result.findings
    assert not any("_report._dmarc" in name for name, _ in dns_server.queries)


async def test_unanswered_authorization_is_unknown(external: Records, dns: Dns) -> None:
    external.set_behaviour("example.com._report._dmarc.reports.example.", "drop")
    result = await run(dns)
    assert result.status == Status.UNKNOWN
    assert "dmarc.dns-failure" in codes(result, Severity.WARN)


async def test_unanswered_authorization_does_not_hide_a_warn(external: Records, dns: Dns) -> None:
    external.remove("_dmarc.example.com.")
    publish(external, "v=DMARC1; p=none; rua=mailto:agg@reports.example")
    external.set_behaviour("example.com._report._dmarc.reports.example.", "servfail")
    result = await run(dns)
    assert result.status == Status.WARN
    assert "dmarc.policy-none" in codes(result, Severity.WARN)


# -- tree walk ------------------------------------------------------------------------


async def test_parent_record_applies_through_sp(
    zone: Records, dns: Dns, dns_server: DnsServer
) -> None:
    zone.add("mail.example.com.", "A", "192.0.2.5")
    publish(zone, "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@example.com")
    result = await run(dns, "mail.example.com")
    assert result.status == Status.OK, result.findings
    assert result.details["location"] == "example.com"
    assert result.details["inherited"] is True
    assert result.details["policy"] == "quarantine"
    assert "dmarc.inherited" in codes(result, Severity.INFO)
    assert result.query_name == "_dmarc.mail.example.com."
    assert result.records == ()
    assert "inherited from example.com" in result.summary
    assert dmarc_queries(dns_server) == [
        "_dmarc.com.",
        "_dmarc.example.com.",
        "_dmarc.mail.example.com.",
    ]


async def test_parent_sp_none_warns_and_proposes_own_record(zone: Records, dns: Dns) -> None:
    zone.add("mail.example.com.", "A", "192.0.2.5")
    publish(zone, "v=DMARC1; p=reject; sp=none; rua=mailto:d@example.com")
    result = await run(dns, "mail.example.com")
    assert result.status == Status.WARN
    assert codes(result, Severity.WARN) == {"dmarc.policy-none"}
    assert "sp=none" in next(f.message for f in result.findings if f.code == "dmarc.policy-none")
    fix = result.fix
    assert fix is not None and fix.record is not None
    assert fix.record.name == "_dmarc.mail.example.com."
    assert fix.record.value == "v=DMARC1; p=quarantine; rua=mailto:d@example.com"


async def test_np_applies_to_a_nonexistent_subdomain(zone: Records, dns: Dns) -> None:
    publish(zone, "v=DMARC1; p=reject; sp=reject; np=none; rua=mailto:d@example.com")
    zone.add("real.example.com.", "A", "192.0.2.7")
    missing = await run(dns, "ghost.example.com")
    existing = await run(dns, "real.example.com")
    assert missing.status == Status.WARN and missing.details["policy_tag"] == "np"
    assert "dmarc.policy-none" in codes(missing)
    assert existing.status == Status.OK and existing.details["policy_tag"] == "sp"


async def test_unknown_existence_with_differing_np_is_unknown(zone: Records, dns: Dns) -> None:
    publish(zone, "v=DMARC1; p=reject; np=none; rua=mailto:d@example.com")
    zone.add("real.example.com.", "A", "192.0.2.7")
    zone.set_behaviour("real.example.com.", "drop", "MX")
    result = await run(dns, "real.example.com")
    assert result.status == Status.UNKNOWN


async def test_org_domain_is_the_record_with_fewest_labels(zone: Records, dns: Dns) -> None:
    publish(zone, "v=DMARC1; p=none; rua=mailto:d@example.com", "mail.example.com")
    publish(zone, "v=DMARC1; p=reject; rua=mailto:d@example.com")
    zone.add("a.mail.example.com.", "A", "192.0.2.8")
    result = await run(dns, "a.mail.example.com")
    assert result.details["location"] == "example.com"  # RFC 9989 §4.10.2 rule 3
    assert result.status == Status.OK


async def test_psd_n_makes_the_nearer_record_the_org_domain(zone: Records, dns: Dns) -> None:
    publish(zone, "v=DMARC1; p=none; psd=n; rua=mailto:d@example.com", "mail.example.com")
    publish(zone, "v=DMARC1; p=reject; rua=mailto:d@example.com")
    zone.add("a.mail.example.com.", "A", "192.0.2.8")
    result = await run(dns, "a.mail.example.com")
    assert result.details["location"] == "mail.example.com"
    assert result.status == Status.WARN and "dmarc.policy-none" in codes(result)


async def test_psd_y_record_applies_when_the_org_domain_has_none(
    records: Records, dns: Dns
) -> None:
    records.add_zone("bank.example.")
    records.add_txt("_dmarc.bank.example.", "v=DMARC1; p=reject; psd=y; rua=mailto:r@bank.example")
    records.add("giant.bank.example.", "A", "192.0.2.9")
    discovery = await dmarc.discover("giant.bank.example", CheckContext(dns))
    assert discovery.location == "bank.example"
    assert discovery.org_domain == "giant.bank.example"  # one label below the PSD
    assert discovery.from_psd is True
    policy = dmarc.effective_policy(discovery)
    assert policy is not None and policy.requested == "reject"


async def test_long_name_is_walked_in_at_most_eight_queries(
    zone: Records, dns: Dns, dns_server: DnsServer
) -> None:
    name = "a.b.c.d.e.f.g.h.i.j.mail.example.com"
    publish(zone, GOOD)
    result = await run(dns, name)
    assert result.details["location"] == "example.com"
    asked = dmarc_queries(dns_server)
    assert len(asked) == dmarc.MAX_QUERIES
    # RFC 9989 §4.10: from the name itself straight to its last seven labels.
    assert f"_dmarc.{name}." in asked and "_dmarc.g.h.i.j.mail.example.com." in asked
    assert "_dmarc.f.g.h.i.j.mail.example.com." not in asked
    assert sum(dns_server.queries[(n, "TXT")] for n in asked) == dmarc.MAX_QUERIES


def test_tree_walk_names() -> None:
    assert dmarc.tree_walk("example.com.") == ["example.com", "com"]
    assert dmarc.tree_walk("com") == ["com"]
    assert dmarc.tree_walk("") == []
    eight = "a.b.c.d.e.f.example.com"
    assert len(dmarc.tree_walk(eight)) == 8 and dmarc.tree_walk(eight)[1] == "b.c.d.e.f.example.com"
    assert dmarc.tree_walk("a.b.c.d.e.f.g.h.i.j.mail.example.com") == [
        "a.b.c.d.e.f.g.h.i.j.mail.example.com",
        "g.h.i.j.mail.example.com",
        "h.i.j.mail.example.com",
        "i.j.mail.example.com",
        "j.mail.example.com",
        "mail.example.com",
        "example.com",
        "com",
    ]


async def test_second_discovery_costs_no_queries(
    zone: Records, dns: Dns, dns_server: DnsServer
) -> None:
    zone.add("mail.example.com.", "A", "192.0.2.5")
    publish(zone, GOOD)
    ctx = CheckContext(dns)
    first = await dmarc.discover("mail.example.com", ctx)
    sent = dns.queries_sent
    second = await dmarc.discover("mail.example.com", ctx)
    assert dns.queries_sent == sent
    assert first.location == second.location == "example.com"


# -- unknown: failures are never red -------------------------------------------------


@pytest.mark.parametrize("behaviour", ["drop", "servfail"])
async def test_own_query_failure_is_unknown(zone: Records, dns: Dns, behaviour: str) -> None:
    publish(zone, GOOD)
    zone.set_behaviour("_dmarc.example.com.", behaviour, "TXT")
    result = await run(dns)
    assert result.status == Status.UNKNOWN
    assert codes(result) == {"dmarc.dns-failure"}
    assert result.details["record"] is None and result.details["rua"] == []
    assert result.fix is not None and result.fix.steps


async def test_failed_walk_is_unknown_not_missing(zone: Records, dns: Dns) -> None:
    zone.add("mail.example.com.", "A", "192.0.2.5")
    zone.set_behaviour("_dmarc.example.com.", "servfail")
    result = await run(dns, "mail.example.com")
    assert result.status == Status.UNKNOWN
    assert "dmarc.missing" not in codes(result)


async def test_failed_walk_above_the_found_record_does_not_matter(zone: Records, dns: Dns) -> None:
    publish(zone, "v=DMARC1; p=reject; psd=n; rua=mailto:d@example.com")
    zone.add("mail.example.com.", "A", "192.0.2.5")
    zone.set_behaviour("_dmarc.com.", "servfail")
    result = await run(dns, "mail.example.com")
    assert result.status == Status.OK, result.findings


async def test_fail_at_own_name_stands_despite_failed_walk(zone: Records, dns: Dns) -> None:
    zone.add_txt("_dmarc.example.com.", GOOD, GOOD.replace("reject", "none"))
    zone.set_behaviour("_dmarc.com.", "drop")
    result = await run(dns)
    assert result.status == Status.FAIL
    assert "dmarc.multiple-records" in codes(result)


# -- parser ---------------------------------------------------------------------------


def test_parser_reads_every_rfc9989_tag() -> None:
    record = parse_dmarc(
        "V = DMARC1 ;P=Quarantine; sp=reject; np=none; adkim=s; aspf=r; fo=0:d; psd=n; t=n;"
        " rua=mailto:a@example.com, mailto:b@example.net!20m ; ruf=mailto:f@example.com"
    )
    assert isinstance(record, DmarcRecord)
    assert (record.p, record.sp, record.np) == ("quarantine", "reject", "none")
    assert (record.adkim, record.aspf, record.fo, record.psd, record.t) == (
        "s",
        "r",
        "0:d",
        "n",
        "n",
    )
    assert [u.host for u in record.rua] == ["example.com", "example.net"]
    assert record.rua[1].size == "20m"
    assert record.ruf[0].address == "f@example.com"
    assert record.problems == ()


def test_parser_syntax_error_positions() -> None:
    with pytest.raises(DmarcSyntaxError) as excinfo:
        parse_dmarc("v=DMARC1; p=reject; bogus")
    assert excinfo.value.position == 20
    with pytest.raises(DmarcSyntaxError) as excinfo:
        parse_dmarc("  p=reject")
    assert excinfo.value.position == 2


@pytest.mark.parametrize(
    ("uri", "valid"),
    [
        ("mailto:a@example.com", True),
        ("mailto:a@example.com!10", True),
        ("mailto:a@example.com!10x", False),
        ("a@example.com", False),
        ("mailto:@example.com", False),
        ("mailto:a@example", False),
        ("mailto:a@exa_mple.com", False),
        ("https://reports.example.com/dmarc", True),
        ("", False),
    ],
)
def test_report_uris(uri: str, valid: bool) -> None:
    assert parse_report_uri(uri).valid is valid


def test_starts_with_dmarc1() -> None:
    assert starts_with_dmarc1("v=DMARC1")
    assert starts_with_dmarc1(" V = DMARC1 ; p=none")
    assert not starts_with_dmarc1("v=DMARC10")
    assert not starts_with_dmarc1("v=dmarc1")


_TAG_WORDS = st.sampled_from(
    ["v", "p", "sp", "np", "rua", "ruf", "pct", "t", "psd", "fo", "adkim", "aspf", "x", "=", ";"]
)


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_parser_raises_only_its_own_error(text: str) -> None:
    try:
        parse_dmarc(text)
    except DmarcSyntaxError as exc:
        assert 0 <= exc.position <= len(text)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_TAG_WORDS, st.text(max_size=12)), max_size=12))
def test_parser_on_record_like_text(parts: list[str]) -> None:
    text = "v=DMARC1; " + "".join(parts)
    try:
        record = parse_dmarc(text)
    except DmarcSyntaxError as exc:
        assert 0 <= exc.position <= len(text)
    else:
        assert record.tags[0].name == "v"
        assert record.p in (None, "none", "quarantine", "reject")


def test_codes_table_matches_the_source() -> None:
    # Every code the package can emit is documented, and every documented code is emitted.
    package = Path(dmarc.__file__).parent
    source = "".join(p.read_text(encoding="utf-8") for p in sorted(package.glob("*.py")))
    source = re.sub(r"CODES: dict\[str, str\] = \{.*?\n\}", "", source, flags=re.S)
    used = set(re.findall(r'"(dmarc\.[a-z0-9-]+)"', source))
    used.add("dmarc.dns-failure")  # built by context.failure_finding
    assert used == set(dmarc.CODES)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_report_uri_parser_is_total(text: str) -> None:
    uri = parse_report_uri(text)
    assert uri.text == text
    assert uri.valid == (uri.error is None)


_LABEL = st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(st.lists(_LABEL, min_size=1, max_size=30))
def test_tree_walk_is_bounded_and_ends_at_the_tld(labels: list[str]) -> None:
    name = ".".join(labels)
    names = dmarc.tree_walk(name)
    assert names[0] == name and names[-1] == labels[-1]
    assert len(names) == min(len(labels), dmarc.MAX_QUERIES)
    assert all(name.endswith("." + parent) for parent in names[1:])
    assert [n.count(".") for n in names[1:]] == sorted(
        (n.count(".") for n in names[1:]), reverse=True
    )


async def test_an_unfinished_walk_cannot_make_different_tlds_one_organization(
    external: Records, dns: Dns
) -> None:
    """Issue 18 item 4: example.com and reports.example cannot share an Organizational
    Domain (it is the name or a parent, and they have none in common), so a failed
    question in the walk of reports.example leaves the verdict decided, not unknown."""
    external.set_behaviour("_dmarc.reports.example.", "servfail")
    result = await run(dns)
    assert result.status == Status.WARN, result.findings
    assert codes(result) == {"dmarc.report-unauthorized"}


async def test_an_unfinished_walk_within_one_tld_stays_unknown(zone: Records, dns: Dns) -> None:
    zone.add_zone("reports.example.com.")
    publish(zone, "v=DMARC1; p=reject; rua=mailto:agg@reports.example.com")
    zone.set_behaviour("_dmarc.reports.example.com.", "servfail")
    result = await run(dns)
    # reports.example.com may share example.com's Organizational Domain: not decided.
    assert result.status == Status.UNKNOWN, result.findings
    assert "dmarc.report-unauthorized" not in codes(result)


# -- issue 18 item 5: advice that fits the domain ------------------------------------------


async def test_no_rua_on_an_enforced_policy_does_not_say_before_tightening(
    zone: Records, dns: Dns
) -> None:
    publish(zone, "v=DMARC1; p=reject")
    result = await run(dns)
    [finding] = [f for f in result.findings if f.code == "dmarc.no-rua"]
    assert "before tightening" not in finding.message
    assert "p=reject" in finding.message


async def test_p_none_without_reports_starts_with_the_reports(zone: Records, dns: Dns) -> None:
    publish(zone, "v=DMARC1; p=none")
    result = await run(dns)
    assert {"dmarc.policy-none", "dmarc.no-rua"} <= codes(result)
    assert result.fix is not None and result.fix.record is not None
    # The record to publish adds reports and keeps p=none: quarantine comes later.
    assert result.fix.record.value == "v=DMARC1; p=none; rua=mailto:dmarc-reports@example.com"
    assert result.fix.steps[0].startswith("First add a report address")


async def test_a_fix_drops_a_tag_flagged_as_removed(zone: Records, dns: Dns) -> None:
    publish(zone, "v=DMARC1; p=none; pct=100; rua=mailto:d@example.com")
    result = await run(dns)
    assert "dmarc.removed-tag" in codes(result, Severity.INFO)
    assert result.fix is not None and result.fix.record is not None
    assert "pct" not in result.fix.record.value
    assert "p=quarantine" in result.fix.record.value


async def test_removing_sp_none_says_what_happens_to_subdomains(zone: Records, dns: Dns) -> None:
    publish(zone, "v=DMARC1; p=reject; sp=none; rua=mailto:d@example.com")
    result = await run(dns)
    assert "dmarc.sp-none" in codes(result)
    assert result.fix is not None and result.fix.record is not None
    assert "sp=" not in result.fix.record.value
    assert any(
        "Removing sp=none makes subdomains follow p=reject" in step for step in result.fix.steps
    ), result.fix.steps


async def test_a_domain_that_sends_no_mail_gets_p_reject_without_reports(
    zone: Records, dns: Dns
) -> None:
    zone.replace("example.com.", "MX", "0 .")  # RFC 7505 null MX
    result = await run(dns)
    assert "dmarc.missing" in codes(result)
    assert result.fix is not None and result.fix.record is not None
    assert result.fix.record.value == "v=DMARC1; p=reject"
    assert "sends no mail (it publishes a null MX)" in result.fix.steps[0]
    assert "rua" not in result.fix.record.value


async def test_spf_minus_all_alone_also_means_no_mail(zone: Records, dns: Dns) -> None:
    zone.replace("example.com.", "TXT", '"v=spf1 -all"')
    result = await run(dns)
    assert result.fix is not None and result.fix.record is not None
    assert result.fix.record.value == "v=DMARC1; p=reject"
    assert "its SPF record is v=spf1 -all" in result.fix.steps[0]


async def test_reports_to_a_domain_that_accepts_no_mail_are_named(zone: Records, dns: Dns) -> None:
    zone.add_zone("nomail.example.")
    zone.add("nomail.example.", "MX", "0 .")
    publish(zone, "v=DMARC1; p=reject; rua=mailto:d@example.com,mailto:r@nomail.example")
    zone.add("nomail.example.", "TXT", '"v=DMARC1"')
    zone.add_txt("example.com._report._dmarc.nomail.example.", "v=DMARC1")
    result = await run(dns)
    assert result.status == Status.WARN, result.findings
    [finding] = [f for f in result.findings if f.code == "dmarc.rua-undeliverable"]
    assert "nomail.example publishes a null MX" in finding.message
