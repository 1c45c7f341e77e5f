"""check_host() over real sockets: results, the deciding chain, explanations, limits, errors."""

from __future__ import annotations

import pytest

from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from esm_tui.dns import Dns
from esm_tui.spf.evaluate import SpfResult, check_host, spf_identity


@pytest.fixture
def zone(records: Records) -> Records:
    records.add_zone("example.com.")
    records.add_zone("relay.example.")
    records.add_txt("_spf.relay.example.", "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8:1::/48 -all")
    return records


async def _run(dns: Dns, ip: str, domain: str = "example.com", **kw: str) -> SpfResult:
    sender = kw.get("sender", f"postmaster@{domain}")
    return await check_host(ip, domain, sender, kw.get("helo", domain), dns)


async def test_pass_through_include_names_the_chain(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    zone.add_txt("example.com.", "v=spf1 mx include:_spf.relay.example -all")
    zone.add("example.com.", "MX", "10 mx.example.com.")
    zone.add("mx.example.com.", "A", "198.51.100.1")
    result = await _run(dns, "192.0.2.77")
    assert result.result == "pass"
    assert result.chain == ("include:_spf.relay.example", "ip4:192.0.2.0/24")
    assert (result.dns_lookups, result.void_lookups) == (2, 0)
    assert result.explanation is None
    ipv6 = await _run(dns, "2001:db8:1::25")
    assert (ipv6.result, ipv6.chain[-1]) == ("pass", "ip6:2001:db8:1::/48")


async def test_fail_with_explanation(zone: Records, dns_server: DnsServer, dns: Dns) -> None:
    zone.add_txt("example.com.", "v=spf1 include:_spf.relay.example -all exp=why.%{d}")
    zone.add_txt("why.example.com.", "%{i} is not a mail server of %{d} (sender %{l})")
    result = await _run(dns, "198.51.100.9", sender="alice@example.com")
    assert (result.result, result.chain) == ("fail", ("-all",))
    assert result.explanation == "198.51.100.9 is not a mail server of example.com (sender alice)"


@pytest.mark.parametrize(
    ("record", "result", "chain"),
    [
        ("v=spf1 ip4:198.51.100.0/24 ~all", "softfail", ("~all",)),
        ("v=spf1 ip4:198.51.100.0/24 ?all", "neutral", ("?all",)),
        ("v=spf1 ip4:198.51.100.0/24", "neutral", ()),  # the default result (§4.7)
        ("v=spf1 -ip4:203.0.113.0/24 +all", "fail", ("-ip4:203.0.113.0/24",)),
        ("v=spf1 a/24 -all", "pass", ("a/24",)),
        # //0 is for IPv6 clients: an IPv4 client matches only A records (§5.3)
        ("v=spf1 a:v6.example.com//0 a:host.example.com -all", "pass", ("a:host.example.com",)),
        ("v=spf1 exists:%{ir}.list.example.com -all", "pass", ("exists:%{ir}.list.example.com",)),
        ("v=spf1 ip4:203.0.113.9 ip4:192.0.2.0/24 foo -all", "permerror", ()),
    ],
)
async def test_results_and_chains(
    zone: Records, dns_server: DnsServer, dns: Dns, record: str, result: str, chain: tuple
) -> None:
    zone.add_txt("example.com.", record)
    zone.add("example.com.", "A", "203.0.113.1")
    zone.add("host.example.com.", "A", "203.0.113.9")
    zone.add("v6.example.com.", "AAAA", "2001:db8::1")
    zone.add("9.113.0.203.list.example.com.", "A", "127.0.0.2")
    outcome = await _run(dns, "203.0.113.9")
    assert (outcome.result, outcome.chain) == (result, chain)


async def test_ipv4_mapped_address_is_ipv4(zone: Records, dns_server: DnsServer, dns: Dns) -> None:
    zone.add_txt("example.com.", "v=spf1 ip4:192.0.2.1 ip6:::ffff:0:0/96 -all")
    result = await _run(dns, "::ffff:192.0.2.1")
    assert (result.result, result.ip, result.chain) == ("pass", "192.0.2.1", ("ip4:192.0.2.1",))


async def test_redirect_uses_the_target_record_and_its_exp(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    zone.add_txt("example.com.", "v=spf1 exp=old.example.com redirect=_spf.example.com")
    zone.add_txt("_spf.example.com.", "v=spf1 mx:example.com -all exp=new.example.com")
    zone.add_txt("old.example.com.", "not this one")
    zone.add_txt("new.example.com.", "see %{d}")
    zone.add("example.com.", "MX", "10 mail.example.com.")
    zone.add("mail.example.com.", "A", "192.0.2.10")
    assert (await _run(dns, "192.0.2.10")).chain == ("redirect=_spf.example.com", "mx:example.com")
    failed = await _run(dns, "192.0.2.11")
    assert (failed.result, failed.chain) == ("fail", ("redirect=_spf.example.com", "-all"))
    assert failed.explanation == "see _spf.example.com"


@pytest.mark.parametrize(
    ("setup", "result"),
    [
        (lambda r: None, "none"),  # the name exists, no TXT
        (lambda r: r.add_txt("example.com.", "google-site-verification=abc"), "none"),
        (lambda r: r.add_txt("example.com.", "v=spf1 -all", "v=spf1 ~all"), "permerror"),
        (lambda r: r.add_txt("example.com.", "v=spf1 include:nowhere.example -all"), "permerror"),
        (lambda r: r.add_txt("example.com.", "v=spf1 redirect=nowhere.example"), "permerror"),
        (lambda r: r.add_txt("example.com.", "v=spf1 include:example.com -all"), "permerror"),
    ],
)
async def test_none_and_permerror(
    zone: Records, dns_server: DnsServer, dns: Dns, setup, result: str
) -> None:
    setup(zone)
    assert (await _run(dns, "192.0.2.1")).result == result


async def test_nxdomain_is_none(zone: Records, dns_server: DnsServer, dns: Dns) -> None:
    result = await _run(dns, "192.0.2.1", domain="nowhere.example.com")
    assert result.result == "none" and "NXDOMAIN" in result.reason


async def test_dns_failures_are_temperror(zone: Records, dns_server: DnsServer, dns: Dns) -> None:
    zone.add_txt("example.com.", "v=spf1 include:slow.example.net ip4:192.0.2.1 -all")
    zone.set_behaviour("slow.example.net.", "drop")
    result = await _run(dns, "192.0.2.1")
    assert (result.result, result.chain) == ("temperror", ("include:slow.example.net",))
    assert "timeout" in result.reason
    zone.set_behaviour("example.com.", "servfail", "TXT")
    assert (await _run(dns, "192.0.2.1")).result == "temperror"


async def test_ptr_lookup_errors_do_not_match(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    """§5.5: a failed PTR lookup makes ptr not match; it is not a temperror."""
    zone.add_txt("example.com.", "v=spf1 ptr -all")
    zone.set_behaviour("1.2.0.192.in-addr.arpa.", "servfail")
    assert (await _run(dns, "192.0.2.1")).result == "fail"
    zone.set_behaviour("1.2.0.192.in-addr.arpa.", None)
    dns.clear_cache()
    zone.add("1.2.0.192.in-addr.arpa.", "PTR", "mail.example.com.")
    zone.add("mail.example.com.", "A", "192.0.2.1")
    result = await _run(dns, "192.0.2.1")
    assert (result.result, result.chain) == ("pass", ("ptr",))


async def test_lookup_limit(zone: Records, dns_server: DnsServer, dns: Dns) -> None:
    zone.add("example.com.", "A", "198.51.100.1")
    zone.add_txt("example.com.", "v=spf1 " + "a " * 9 + "include:_spf.relay.example -all")
    at_limit = await _run(dns, "192.0.2.1")
    assert (at_limit.result, at_limit.dns_lookups) == ("pass", 10)
    zone.replace("example.com.", "TXT")
    dns.clear_cache()
    zone.add_txt("example.com.", "v=spf1 " + "a " * 10 + "include:_spf.relay.example -all")
    over = await _run(dns, "192.0.2.1")
    assert (over.result, over.chain) == ("permerror", ("include:_spf.relay.example",))
    assert "§4.6.4" in over.reason


async def test_void_lookup_limit(zone: Records, dns_server: DnsServer, dns: Dns) -> None:
    zone.add_txt("example.com.", "v=spf1 a:x1.example.com mx:x2.example.com a:x3.example.com ~all")
    result = await _run(dns, "192.0.2.1")
    assert (result.result, result.void_lookups) == ("permerror", 3)
    assert result.chain == ("a:x3.example.com",)


async def test_mx_name_limit(zone: Records, dns_server: DnsServer, dns: Dns) -> None:
    zone.add_txt("example.com.", "v=spf1 mx -all")
    zone.add("example.com.", "MX", *(f"{i} mx{i}.example.com." for i in range(11)))
    for i in range(11):
        zone.add(f"mx{i}.example.com.", "A", f"198.51.100.{i + 1}")
    result = await _run(dns, "198.51.100.1")
    assert result.result == "permerror" and "11 MX records" in result.reason


def test_spf_identity() -> None:
    assert spf_identity("", "mail.example.org") == (
        "postmaster@mail.example.org",
        "mail.example.org",
    )
    assert spf_identity("@example.net", "x") == ("postmaster@example.net", "example.net")
    assert spf_identity("a@b@example.com", "x") == ("a@b@example.com", "example.com")


async def test_unusable_explanations_are_ignored(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    """§6.2: a syntax error (here a control character), or not exactly one TXT record,
    and the exp= modifier is as if absent."""
    zone.add_txt("example.com.", "v=spf1 -all exp=bad.example.com")
    zone.add_txt("bad.example.com.", "evil\x1b[2J text")
    result = await _run(dns, "192.0.2.1")
    assert (result.result, result.explanation) == ("fail", None)
    zone.replace("bad.example.com.", "TXT")
    zone.add_txt("bad.example.com.", "one", "two")
    dns.clear_cache()
    assert (await _run(dns, "192.0.2.1")).explanation is None


async def test_backslash_in_a_target_is_a_plain_octet(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    zone.add_txt("example.com.", "v=spf1 a:back\\slash.example.com -all")
    zone.add("back\\\\slash.example.com.", "A", "192.0.2.9")  # presentation form: one "\"
    result = await _run(dns, "192.0.2.9")
    assert (result.result, result.chain) == ("pass", ("a:back\\slash.example.com",))
