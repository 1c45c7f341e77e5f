"""Proposed SPF records: corrected, keeping every sender, each change explained."""

from __future__ import annotations

import pytest

from esm_tui.checks.context import CheckContext
from esm_tui.checks.spf import check
from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from esm_tui.dns import Dns
from esm_tui.model import DomainSettings, Fix, Status
from esm_tui.spf.fix import RelayNeeds, fix_missing, fix_record, merge_records
from esm_tui.spf.parse import parse_spf

RELAY = "_spf.relay.example"


@pytest.fixture
def zone(records: Records) -> Records:
    records.add_zone("example.com.")
    records.add_zone("example.net.")
    records.add_zone("relay.example.")
    records.add_txt(f"{RELAY}.", "v=spf1 ip4:192.0.2.0/24 -all")
    records.add("example.com.", "MX", "10 mx.example.com.")
    records.add("mx.example.com.", "A", "198.51.100.1")
    records.add("www.example.com.", "A", "198.51.100.80")
    return records


async def _fix(dns: Dns, record: str, **settings: object) -> Fix:
    result = await check(DomainSettings("example.com", **settings), CheckContext(dns))
    assert result.fix is not None, result.findings
    return result.fix


def _value(fix: Fix) -> str:
    assert fix.record is not None
    assert (fix.record.name, fix.record.type) == ("example.com.", "TXT")
    parse_spf(fix.record.value)  # every proposal is itself a valid record
    return fix.record.value


async def test_all_qualifier_ptr_and_relay_include(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    zone.add_txt("example.com.", "v=spf1 mx ptr a:www.example.com +all")
    fix = await _fix(dns, "", spf_include=(RELAY,))
    assert _value(fix) == f"v=spf1 mx a:www.example.com include:{RELAY} ~all"
    steps = " ".join(fix.steps)
    assert "Removed 'ptr'" in steps and "reverse DNS (PTR) name" in steps and "example.com" in steps
    assert "Changed '+all' to '~all'" in steps and "every host" in steps
    assert f"Added 'include:{RELAY}' before the 'all'" in steps


async def test_neutral_and_missing_all(zone: Records, dns_server: DnsServer, dns: Dns) -> None:
    zone.add_txt("example.com.", "v=spf1 mx ?all")
    assert _value(await _fix(dns, "")) == "v=spf1 mx ~all"
    zone.replace("example.com.", "TXT")
    zone.add_txt("example.com.", "v=spf1 mx ip4:203.0.113.0/24")
    dns.clear_cache()
    fix = await _fix(dns, "")
    assert _value(fix) == "v=spf1 mx ip4:203.0.113.0/24 ~all"
    assert any("Added '~all'" in s for s in fix.steps)


async def test_over_limit_includes_become_ranges(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    big = " ".join(f"include:b{i}.example.net" for i in range(5))
    zone.add_txt("big.example.net.", f"v=spf1 {big} -all")
    for i in range(5):
        zone.add_txt(f"b{i}.example.net.", f"v=spf1 ip4:203.0.113.{i * 8}/29 ip6:2001:db8:{i}::/48")
    zone.add_txt(
        "mid.example.net.", "v=spf1 include:m1.example.net exists:%{i}.ok.example.net -all"
    )
    zone.add_txt("m1.example.net.", "v=spf1 ip4:198.51.100.128/25")
    zone.add_txt(
        "example.com.",
        f"v=spf1 mx a:www.example.com include:big.example.net include:mid.example.net "
        f"include:{RELAY} ~all",
    )
    fix = await _fix(dns, "", spf_include=(RELAY,))
    value = _value(fix)
    # big (6 lookups) is replaced by what it resolves to now; everything else stays.
    assert value == (
        "v=spf1 mx a:www.example.com ip4:203.0.113.0/27 ip4:203.0.113.32/29 ip6:2001:db8::/46 "
        "ip6:2001:db8:4::/48 "
        f"include:mid.example.net include:{RELAY} ~all"
    )
    steps = " ".join(fix.steps)
    assert "Replaced 'include:big.example.net' (6 lookups)" in steps
    assert "re-check regularly" in steps


async def test_over_limit_unflattenable_is_explained(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    heavy = " ".join(f"exists:%{{i}}.e{i}.example.net" for i in range(10))
    zone.add_txt("heavy.example.net.", f"v=spf1 {heavy} -all")
    zone.add_txt("example.com.", f"v=spf1 mx include:heavy.example.net include:{RELAY} -all")
    fix = await _fix(dns, "", spf_include=(RELAY,))
    assert fix.record is None  # nothing can be changed without dropping a sender
    steps = " ".join(fix.steps)
    assert "still needs 13 DNS lookups" in steps
    assert "'include:heavy.example.net' (11 lookups)" in steps


async def test_own_terms_flattened_when_includes_are_not_enough(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    zone.add("example.com.", "A", "198.51.100.7")
    zone.add_txt("example.com.", "v=spf1 a a a a a a a a a mx:example.com a:www.example.com -all")
    fix = await _fix(dns, "")
    value = _value(fix)
    assert value.count(" a") == 10 and "ip4:198.51.100.1" in value  # mx became its host
    assert any("Replaced 'mx:example.com' (1 lookup)" in s for s in fix.steps)
    assert sum(1 for t in value.split() if t.startswith(("a", "mx", "include"))) <= 10


async def test_syntax_errors_repaired_or_explained(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    zone.add_txt(
        "example.com.",
        "v=spf1 a:192.0.2.10 mx foo:bar redirect=x.example.net redirect=y.example.net -all.",
    )
    zone.add_txt("x.example.net.", "v=spf1 -all")
    fix = await _fix(dns, "")
    assert _value(fix) == "v=spf1 ip4:192.0.2.10 mx redirect=x.example.net -all"
    steps = " ".join(fix.steps)
    assert "Replaced 'a:192.0.2.10' with 'ip4:192.0.2.10'" in steps
    assert "Removed 'foo:bar'" in steps and "unknown mechanism" in steps
    assert "Removed the second 'redirect='" in steps
    assert "Replaced '-all.' with '-all'" in steps


async def test_dead_and_void_terms(zone: Records, dns_server: DnsServer, dns: Dns) -> None:
    zone.add_txt(
        "example.com.",
        "v=spf1 mx a:old1.example.com a:old2.example.com include:gone.example.net "
        "include:example.com a:old3.example.com -all",
    )
    fix = await _fix(dns, "")
    # The include of a name without SPF stays, named (a typo of a sender's name loses that
    # sender if removed: issue 18 item 1); the loop and the names without address go.
    assert _value(fix) == "v=spf1 mx include:gone.example.net a:old3.example.com -all"
    steps = " ".join(fix.steps)
    assert "'include:gone.example.net': gone.example.net publishes no SPF record" in steps
    assert "Check this name for a typo, or remove it once nothing sends through it" in steps
    assert "Removed 'include:example.com': it includes this record again" in steps
    assert "Removed 'a:old1.example.com': its name has no address" in steps


async def test_relay_addresses_without_include(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    zone.add_txt("example.com.", "v=spf1 mx -all")
    fix = await _fix(dns, "", spf_ips=("192.0.2.0/28", "2001:db8:5::1"))
    assert _value(fix) == "v=spf1 mx ip4:192.0.2.0/28 ip6:2001:db8:5::1 -all"


async def test_relay_blocked_by_earlier_term_is_explained(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    zone.add_txt("example.com.", f"v=spf1 -ip4:192.0.2.0/24 include:{RELAY} -all")
    fix = await _fix(dns, "", spf_include=(RELAY,), spf_ips=("192.0.2.1",))
    assert fix.record is None
    assert any("decided by -ip4:192.0.2.0/24" in s and "move the include" in s for s in fix.steps)


def test_missing_record_proposal() -> None:
    fix = fix_missing("example.com", RelayNeeds(includes=(RELAY,)))
    assert fix.record is not None and fix.record.value == f"v=spf1 mx include:{RELAY} ~all"
    assert any("v=spf1 -all" in s for s in fix.steps)  # the no-mail alternative
    only_ips = fix_missing("example.com", RelayNeeds(ips=("192.0.2.1", "2001:db8::/64")))
    assert only_ips.record is not None
    assert only_ips.record.value == "v=spf1 mx ip4:192.0.2.1 ip6:2001:db8::/64 ~all"


def test_merge_keeps_every_sender() -> None:
    merged, steps = merge_records(
        [
            "v=spf1 mx include:a.example.net -all",
            "v=spf1 MX redirect=b.example.net exp=x.example.com bad!",
        ]
    )
    assert merged == "v=spf1 MX include:b.example.net include:a.example.net exp=x.example.com ~all"
    assert any("became include:b.example.net" in s for s in steps)
    assert any("Left out 'bad!'" in s for s in steps)
    assert merge_records(["v=spf1 a -all", "v=spf1 mx -all"])[0] == "v=spf1 a mx -all"


def test_nothing_to_fix() -> None:
    assert fix_record("example.com", "v=spf1 mx -all", None, RelayNeeds()) is None


# -- issue 18 item 1: a fix never drops a sender ---------------------------------------


@pytest.mark.parametrize(
    ("published", "expected", "said"),
    [
        # The zone-file quotes typed into a web form: no SPF record for receivers.
        ('"v=spf1 ip4:198.51.100.0/24 mx -all"', "v=spf1 ip4:198.51.100.0/24 mx -all",
         "Removed the quote characters"),
        # A space inside a term.
        ("v=spf1 ip4:198.51.100.0 /24 mx -all", "v=spf1 ip4:198.51.100.0/24 mx -all",
         "Joined"),
        # A misspelt mechanism (a permerror for every message).
        ("v=spf1 ipv4:198.51.100.0/24 mx -all", "v=spf1 ip4:198.51.100.0/24 mx -all",
         "Corrected the spelling"),
        # A misspelt version.
        ("v=spf ip4:198.51.100.0/24 mx -all", "v=spf1 ip4:198.51.100.0/24 mx -all",
         "Replaced the version"),
    ],
)  # fmt: skip
async def test_a_record_broken_in_its_form_keeps_every_mechanism(
    zone: Records, dns_server: DnsServer, dns: Dns, published: str, expected: str, said: str
) -> None:
    zone.add_txt("example.com.", published)
    result = await check(DomainSettings("example.com"), CheckContext(dns))
    assert result.status == Status.FAIL
    assert result.fix is not None
    assert _value(result.fix) == expected
    assert any(said in step for step in result.fix.steps), result.fix.steps


async def test_a_broken_form_is_not_called_missing_and_keeps_the_relay(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    zone.add_txt("example.com.", '"v=spf1 include:_spf.sender.example ~all"')
    zone.add_txt("_spf.sender.example.", "v=spf1 ip4:203.0.113.0/24 -all")
    result = await check(DomainSettings("example.com", spf_include=(RELAY,)), CheckContext(dns))
    codes = {f.code for f in result.findings}
    assert "spf.broken-form" in codes and "spf.missing" not in codes
    assert result.fix is not None
    value = _value(result.fix)
    # The sender it meant stays; the relay is added before the all.
    assert "include:_spf.sender.example" in value
    assert value.index(f"include:{RELAY}") < value.index("~all")


# -- issue 18 item 2: the smallest edit first ----------------------------------------------


def _includes(zone: Records, count: int, base: str = "svc") -> list[str]:
    names = []
    for i in range(count):
        name = f"{base}{i}.example.net"
        zone.add_txt(f"{name}.", f"v=spf1 ip4:198.18.{i}.0/24 -all")
        names.append(name)
    return names


async def test_duplicates_are_findings_even_under_the_limit(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    zone.add_txt("parent.example.net.", "v=spf1 include:child.example.net -all")
    zone.add_txt("child.example.net.", "v=spf1 ip4:198.18.200.0/24 -all")
    zone.add_txt(
        "example.com.",
        "v=spf1 include:parent.example.net include:child.example.net "
        "ip4:192.0.2.0/24 ip4:192.0.2.7 -all",
    )
    result = await check(DomainSettings("example.com"), CheckContext(dns))
    assert result.status == Status.OK, result.findings
    found = {f.code: f.message for f in result.findings}
    assert (
        "'include:child.example.net' is already reached through" in found["spf.redundant-include"]
    )
    assert "'ip4:192.0.2.7' lies inside 'ip4:192.0.2.0/24'" in found["spf.covered-range"]
    assert result.fix is None  # OK: nothing to publish


async def test_over_the_limit_redundant_terms_go_before_anything_is_flattened(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    names = _includes(zone, 10)
    zone.add_txt("parent.example.net.", "v=spf1 include:svc0.example.net -all")
    record = "v=spf1 " + " ".join(f"include:{n}" for n in names)
    zone.add_txt("example.com.", record + " include:parent.example.net -all")  # 12 lookups
    fix = await _fix(dns, "")
    value = _value(fix)
    # include:svc0 is reached through parent: removed first (12 → 11 lookups)…
    assert "include:svc0.example.net" not in value
    steps = " ".join(fix.steps)
    assert "Removed 'include:svc0.example.net' is already reached through" in steps
    # …and the services are named before one include is flattened as a last resort.
    assert "If you no longer send mail through some of these services" in steps
    # The heaviest (parent, 2 lookups) flattened to the range it authorizes: 9 includes
    # and that range, every sender kept.
    assert value.count("include:") == 9
    assert "ip4:198.18.0.0/24" in value


async def test_providers_that_rotate_their_ranges_are_never_flattened(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    zone.add_zone("google.com.")
    zone.add_txt("_spf.google.com.", "v=spf1 " + " ".join(
        f"include:_netblocks{i}.google.com" for i in range(1, 4)) + " ~all")  # fmt: skip
    for i in range(1, 4):
        zone.add_txt(f"_netblocks{i}.google.com.", f"v=spf1 ip4:35.19{i}.0.0/16 ~all")
    names = _includes(zone, 7)
    zone.add_txt(
        "example.com.",
        "v=spf1 include:_spf.google.com " + " ".join(f"include:{n}" for n in names) + " -all",
    )  # 4 + 7 = 11 lookups
    fix = await _fix(dns, "")
    value = _value(fix)
    assert "include:_spf.google.com" in value  # kept dynamic
    assert "35.19" not in value  # never copied
    assert value.count("ip4:198.18.") == 1  # one of the others flattened instead


async def test_a_domain_with_a_null_mx_and_no_spf_gets_minus_all(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    """Issue 18 item 5: a domain that takes no mail (RFC 7505 null MX) is most likely one
    that sends none: its SPF fix is v=spf1 -all, with the sending record as the other way."""
    zone.replace("example.com.", "MX", "0 .")
    result = await check(DomainSettings("example.com", spf_include=(RELAY,)), CheckContext(dns))
    assert "spf.missing" in {f.code for f in result.findings}
    assert result.fix is not None
    assert _value(result.fix) == "v=spf1 -all"
    assert "null MX" in result.fix.steps[0]
    assert f"include:{RELAY}" in result.fix.steps[1]


async def test_a_proposal_over_450_bytes_says_so_and_offers_the_split(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    """Issue 18 item 2: never a record over 450 bytes without saying so and offering a
    split that keeps every sender (here: its own ranges moved to a record it includes)."""
    ranges = " ".join(f"ip4:198.51.{i}.0/24" for i in range(30))
    zone.add_txt("example.com.", f"v=spf1 {ranges} +all")  # +all: a fix is proposed
    fix = await _fix(dns, "")
    value = _value(fix)
    assert len(value.encode()) > 450
    steps = " ".join(fix.steps)
    assert "over 450 bytes" in steps
    assert "Or split it: publish _spf-ranges.example.com TXT" in steps
    offer = next(s for s in fix.steps if s.startswith("Or split it"))
    moved = offer.split('TXT "', 1)[1].split('"', 1)[0]
    main = offer.split('make the record "', 1)[1].split('"', 1)[0]
    assert all(f"ip4:198.51.{i}.0/24" in moved for i in range(30))
    assert "include:_spf-ranges.example.com" in main and "ip4:" not in main
    assert len(main.encode()) <= 450
