"""The BIMI check against the loopback server: every SPEC §4 BIMI bullet, the DMARC
enforcement it depends on, failures; and the parser, held to its contract by hypothesis."""

from __future__ import annotations

import inspect
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esm_tui.checks import bimi, dmarc
from esm_tui.checks.bimi_parse import BimiSyntaxError, https_url_problem, parse_bimi
from esm_tui.checks.context import CheckContext
from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from esm_tui.dns import Dns
from esm_tui.model import DomainSettings, RecordResult, Severity, Status

LOGO = "https://example.com/brand/logo.svg"
VMC = "https://example.com/brand/vmc.pem"
GOOD = f"v=BIMI1; l={LOGO}; a={VMC}"
ENFORCED = "v=DMARC1; p=reject; rua=mailto:d@example.com"


@pytest.fixture
def zone(records: Records) -> Records:
    records.add_zone("example.com.")
    records.add("example.com.", "MX", "10 mx.example.com.")
    records.add_txt("_dmarc.example.com.", ENFORCED)
    return records


def publish(zone: Records, *texts: str, name: str = "example.com") -> None:
    zone.add_txt(f"default._bimi.{name}.", *texts)


def set_dmarc(zone: Records, text: str | None) -> None:
    zone.remove("_dmarc.example.com.")
    if text is not None:
        zone.add_txt("_dmarc.example.com.", text)


async def run(dns: Dns, name: str = "example.com", *, expected: bool = False) -> RecordResult:
    return await bimi.check(DomainSettings(name, bimi_expected=expected), CheckContext(dns))


def codes(result: RecordResult, severity: Severity | None = None) -> set[str]:
    return {f.code for f in result.findings if severity is None or f.severity == severity}


def assert_documented(result: RecordResult) -> None:
    for finding in result.findings:
        assert finding.code in bimi.CODES, finding.code
        assert finding.message
        if finding.code != "bimi.dns-failure":
            assert "draft-brand-indicators-for-message-identification §" in finding.ref


# -- ok -------------------------------------------------------------------------------


async def test_ok_record_and_details(zone: Records, dns: Dns) -> None:
    publish(zone, GOOD)
    result = await run(dns)
    assert result.status == Status.OK, result.findings
    assert result.query_name == "default._bimi.example.com." and result.query_type == "TXT"
    assert result.records == (GOOD,)
    assert result.ttl == 300
    assert result.details == {"record": GOOD, "l": LOGO, "a": VMC}
    assert result.to_json()["fix"] is None


async def test_unknown_tags_and_bad_avp_are_info(zone: Records, dns: Dns) -> None:
    publish(zone, f"{GOOD}; avp=logo; x=1")
    result = await run(dns)
    assert result.status == Status.OK
    assert codes(result) == {"bimi.unknown-tag", "bimi.invalid-value"}
    assert codes(result, Severity.INFO) == codes(result)


# -- none (grey) ----------------------------------------------------------------------


async def test_absent_and_not_expected_is_grey(zone: Records, dns: Dns) -> None:
    result = await run(dns)
    assert result.status == Status.NONE
    assert codes(result) == {"bimi.absent"}
    assert result.details == {"record": None, "l": None, "a": None}
    assert result.to_json()["fix"] is None
    assert_documented(result)


async def test_declination_is_grey(zone: Records, dns: Dns) -> None:
    publish(zone, "v=BIMI1; l=; a=;")
    result = await run(dns)
    assert result.status == Status.NONE
    assert codes(result) == {"bimi.declined"}
    assert result.details == {"record": "v=BIMI1; l=; a=;", "l": "", "a": ""}


# -- fail -----------------------------------------------------------------------------


async def test_expected_and_absent_fails(zone: Records, dns: Dns) -> None:
    result = await run(dns, expected=True)
    assert result.status == Status.FAIL
    assert codes(result) == {"bimi.missing"}
    fix = result.fix
    assert fix is not None and fix.record is not None
    assert fix.record.name == "default._bimi.example.com."
    assert fix.record.value.startswith("v=BIMI1; l=https://")
    assert_documented(result)


async def test_expected_and_declined_fails(zone: Records, dns: Dns) -> None:
    publish(zone, "v=BIMI1; l=; a=;")
    result = await run(dns, expected=True)
    assert result.status == Status.FAIL
    assert codes(result, Severity.FAIL) == {"bimi.declined"}


@pytest.mark.parametrize("text", [f"l={LOGO}; v=BIMI1", f"v=BIMI2; l={LOGO}", f"v=bimi1; l={LOGO}"])
async def test_not_starting_with_v_bimi1(zone: Records, dns: Dns, text: str) -> None:
    publish(zone, text)
    result = await run(dns)
    assert result.status == Status.FAIL
    assert codes(result) == {"bimi.not-bimi1"}
    assert result.fix is not None and result.fix.record is not None
    assert result.fix.record.value.startswith("v=BIMI1; ")
    assert_documented(result)


@pytest.mark.parametrize(
    "logo", ["http://example.com/logo.svg", "example.com/logo.svg", "https://", "https://a b/"]
)
async def test_l_not_https(zone: Records, dns: Dns, logo: str) -> None:
    publish(zone, f"v=BIMI1; l={logo}; a={VMC}")
    result = await run(dns)
    assert result.status == Status.FAIL
    assert codes(result) == {"bimi.l-not-https"}


async def test_l_missing(zone: Records, dns: Dns) -> None:
    publish(zone, f"v=BIMI1; a={VMC}")
    result = await run(dns)
    assert result.status == Status.FAIL
    assert codes(result) == {"bimi.l-missing"}


async def test_l_not_svg(zone: Records, dns: Dns) -> None:
    publish(zone, f"v=BIMI1; l=https://example.com/logo.png; a={VMC}")
    result = await run(dns)
    assert result.status == Status.FAIL
    assert codes(result) == {"bimi.l-not-svg"}


async def test_multiple_records_fail(zone: Records, dns: Dns) -> None:
    publish(zone, GOOD, f"v=BIMI1; l={LOGO}")
    result = await run(dns)
    assert result.status == Status.FAIL
    assert codes(result) == {"bimi.multiple-records"}


async def test_syntax_error_fails(zone: Records, dns: Dns) -> None:
    publish(zone, f"v=BIMI1; l={LOGO}; l={LOGO}")
    result = await run(dns)
    assert result.status == Status.FAIL
    assert codes(result) == {"bimi.syntax-error"}


# -- warn -----------------------------------------------------------------------------


async def test_no_authority_evidence(zone: Records, dns: Dns) -> None:
    publish(zone, f"v=BIMI1; l={LOGO}")
    result = await run(dns)
    assert result.status == Status.WARN
    assert codes(result) == {"bimi.no-authority"}
    assert result.details["a"] is None
    assert result.fix is not None and any("a=" in s for s in result.fix.steps)


async def test_authority_not_https(zone: Records, dns: Dns) -> None:
    publish(zone, f"v=BIMI1; l={LOGO}; a=http://example.com/vmc.pem")
    result = await run(dns)
    assert result.status == Status.WARN
    assert codes(result) == {"bimi.a-not-https"}


@pytest.mark.parametrize(
    ("dmarc_record", "reason"),
    [
        ("v=DMARC1; p=none; rua=mailto:d@example.com", "p=none"),
        (None, "no DMARC record"),
        ("v=DMARC1; p=bogus", "invalid"),
        ("v=DMARC1; p=quarantine; pct=50; rua=mailto:d@example.com", "pct=50"),
        ("v=DMARC1; p=quarantine; t=y; rua=mailto:d@example.com", "t=y"),
        ("v=DMARC1; p=reject; sp=none; rua=mailto:d@example.com", "sp=none"),
    ],
)
async def test_dmarc_not_at_enforcement(
    zone: Records, dns: Dns, dmarc_record: str | None, reason: str
) -> None:
    publish(zone, GOOD)
    set_dmarc(zone, dmarc_record)
    result = await run(dns)
    assert result.status == Status.WARN
    assert codes(result) == {"bimi.dmarc-not-enforced"}
    assert reason in result.findings[0].message
    assert_documented(result)


async def test_inherited_dmarc_policy_none_for_a_subdomain(zone: Records, dns: Dns) -> None:
    set_dmarc(zone, "v=DMARC1; p=reject; sp=none; rua=mailto:d@example.com")
    zone.add("shop.example.com.", "A", "192.0.2.3")
    publish(
        zone,
        "v=BIMI1; l=https://shop.example.com/l.svg; a=https://shop.example.com/v.pem",
        name="shop.example.com",
    )
    result = await run(dns, "shop.example.com")
    assert result.status == Status.WARN
    assert "sp=none" in result.findings[0].message


async def test_unanswered_dmarc_is_not_judged(zone: Records, dns: Dns) -> None:
    """Issue 18 item 4: a DMARC lookup that failed is no "DMARC not at enforcement, raise
    the policy": the card is unknown, naming the query, and proposes nothing yet."""
    publish(zone, GOOD)
    zone.set_behaviour("_dmarc.example.com.", "drop")
    result = await run(dns)
    assert result.status == Status.UNKNOWN
    assert "bimi.dmarc-not-enforced" not in codes(result)
    assert "bimi.dns-failure" in codes(result, Severity.WARN)
    assert "_dmarc.example.com" in " ".join(f.message for f in result.findings)
    assert result.fix is not None and result.fix.record is None


async def test_a_definite_finding_stands_when_dmarc_is_unanswered(zone: Records, dns: Dns) -> None:
    publish(zone, "v=BIMI1; l=http://example.com/logo.svg; a=https://example.com/vmc.pem")
    zone.set_behaviour("_dmarc.example.com.", "drop")
    result = await run(dns)
    assert result.status == Status.FAIL
    assert "bimi.l-not-https" in codes(result, Severity.FAIL)
    assert "bimi.dmarc-not-enforced" not in codes(result)


async def test_dmarc_inherited_from_parent_at_enforcement_is_ok(zone: Records, dns: Dns) -> None:
    zone.add("shop.example.com.", "A", "192.0.2.3")
    publish(
        zone,
        "v=BIMI1; l=https://shop.example.com/l.svg; a=https://shop.example.com/v.pem",
        name="shop.example.com",
    )
    result = await run(dns, "shop.example.com")
    assert result.status == Status.OK, result.findings


# -- unknown --------------------------------------------------------------------------


@pytest.mark.parametrize("behaviour", ["drop", "servfail"])
async def test_bimi_query_failure_is_unknown(zone: Records, dns: Dns, behaviour: str) -> None:
    publish(zone, GOOD)
    zone.set_behaviour("default._bimi.example.com.", behaviour)
    result = await run(dns, expected=True)
    assert result.status == Status.UNKNOWN
    assert codes(result) == {"bimi.dns-failure"}
    assert result.details == {"record": None, "l": None, "a": None}


# -- shared queries -------------------------------------------------------------------


async def test_dmarc_and_bimi_share_the_dmarc_queries(
    zone: Records, dns: Dns, dns_server: DnsServer
) -> None:
    publish(zone, GOOD)
    ctx = CheckContext(dns)
    domain = DomainSettings("example.com")
    await dmarc.check(domain, ctx)
    await bimi.check(domain, ctx)
    assert dns_server.queries[("_dmarc.example.com.", "TXT")] == 1


# -- parser ---------------------------------------------------------------------------


def test_parse_bimi_tags() -> None:
    record = parse_bimi(f"v=BIMI1;l={LOGO} ; a= ; avp=personal; lps=brand-")
    assert record.l == LOGO and record.a == "" and record.get("avp") == "personal"
    assert not record.declined
    assert parse_bimi("v=BIMI1; l=").declined


def test_parse_bimi_positions() -> None:
    with pytest.raises(BimiSyntaxError) as excinfo:
        parse_bimi("v=BIMI1; l=x; junk")
    assert excinfo.value.position == 14


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        (LOGO, True),
        ("HTTPS://Example.com/x.svg", True),
        ("http://example.com/x.svg", False),
        ("https://localhost/x.svg", False),
        ("https://[::1/x", False),
        (f"{LOGO},{LOGO}", False),
    ],
)
def test_https_url_problem(url: str, ok: bool) -> None:
    assert (https_url_problem(url) is None) is ok


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_parser_raises_only_its_own_error(text: str) -> None:
    for candidate in (text, "v=BIMI1;" + text):
        try:
            parse_bimi(candidate)
        except BimiSyntaxError as exc:
            assert 0 <= exc.position <= len(candidate)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_url_check_is_total(text: str) -> None:
    assert https_url_problem(text) is None or isinstance(https_url_problem(text), str)


def test_codes_table_matches_the_source() -> None:
    # Every code the module can emit is documented, and every documented code is emitted.
    source = inspect.getsource(bimi)
    source = re.sub(r"CODES: dict\[str, str\] = \{.*?\n\}", "", source, flags=re.S)
    used = set(re.findall(r'"(bimi\.[a-z0-9-]+)"', source))
    used.add("bimi.dns-failure")  # built by context.failure_finding
    assert used == set(bimi.CODES)
