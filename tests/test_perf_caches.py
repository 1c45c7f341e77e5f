"""The caches and shortcuts behind the bulk-check speed (issue 6), held to "same result".

Not timings: each test checks that a memo or a fast path gives what the slow path gives,
shares what it may share, and never shares what it must not (exceptions, mutable lists).
"""

from __future__ import annotations

import pytest

from esm_tui.checks import check_domain, first_queries
from esm_tui.checks.context import CheckContext
from esm_tui.checks.dmarc.parse import DmarcSyntaxError, parse_dmarc
from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from esm_tui.dns import Dns
from esm_tui.model import DomainSettings
from esm_tui.spf.errors import SpfSyntaxError
from esm_tui.spf.parse import MEMO_MAX_TEXT, _parse_lenient, parse_lenient, parse_spf

RECORD = "v=spf1 include:_spf.example.com ip4:192.0.2.0/24 mx:mail.example.com ~all"


def test_spf_parse_memo_shares_one_equal_record() -> None:
    first, second = parse_spf(RECORD), parse_spf(RECORD)
    assert first is second  # one parse for every domain that includes it
    assert first == _parse_lenient(RECORD)[0]  # and it is what a fresh parse gives
    assert [m.name for m in first.mechanisms] == ["include", "ip4", "mx", "all"]


def test_spf_lenient_memo_hands_out_a_fresh_error_list() -> None:
    record, errors = parse_lenient(RECORD)
    errors.append(("x", SpfSyntaxError("planted", 0, "RFC 7208 §4.6")))
    assert parse_lenient(RECORD) == (record, [])


def test_spf_syntax_errors_are_not_memoized() -> None:
    bad = "v=spf1 include:example.com foo:bar -all"
    caught = []
    for _ in range(2):
        with pytest.raises(SpfSyntaxError) as info:
            parse_spf(bad)
        caught.append(info.value)
    assert caught[0] is not caught[1]  # raised afresh: no traceback piles up on a shared one
    assert str(caught[0]) == str(caught[1])
    assert parse_lenient(bad)[1][0][1] is not parse_lenient(bad)[1][0][1]


def test_large_spf_records_are_parsed_each_time() -> None:
    big = "v=spf1 " + " ".join(f"ip4:192.0.2.{i}" for i in range(60)) + " -all"
    assert len(big) > MEMO_MAX_TEXT
    assert parse_spf(big) is not parse_spf(big)
    assert parse_spf(big) == parse_spf(big)


def test_dmarc_parse_memo_shares_equal_records_but_not_errors() -> None:
    text = "v=DMARC1; p=reject; rua=mailto:reports@example.com; adkim=s"
    assert parse_dmarc(text) is parse_dmarc(text)
    assert parse_dmarc(text).rua[0].host == "example.com"
    bad = "v=DMARC1; p=reject; p=none"
    caught = []
    for _ in range(2):
        with pytest.raises(DmarcSyntaxError) as info:
            parse_dmarc(bad)
        caught.append(info.value)
    assert caught[0] is not caught[1] and str(caught[0]) == str(caught[1])


# -- check_domain's first queries, asked together (Dns.prefetch) -----------------------------


@pytest.fixture
def mail_zone(records: Records) -> Records:
    records.add_zone("example.com.", "ns. host. 1 3600 600 86400 300")
    records.add("example.com.", "MX", "10 mx.example.com.")
    records.add("mx.example.com.", "A", "192.0.2.1")
    records.add("example.com.", "TXT", '"v=spf1 ip4:192.0.2.0/24 -all"')
    records.add("sel._domainkey.example.com.", "TXT", '"v=DKIM1; p="')
    records.add("_dmarc.example.com.", "TXT", '"v=DMARC1; p=reject"')
    records.add_zone("empty.test.")
    return records


@pytest.mark.parametrize("name", ["example.com", "empty.test", "missing.example.com"])
@pytest.mark.parametrize("selectors", [(), ("sel", "other")])
async def test_first_queries_are_what_the_checks_ask_anyway(
    mail_zone: Records, dns_server: DnsServer, name: str, selectors: tuple[str, ...]
) -> None:
    """Every prefetched query is one the checks ask themselves, whatever the answers: a
    fresh run does not prefetch, so what it asks is the checks' own asking."""
    domain = DomainSettings(name, dkim_selectors=selectors)
    client = Dns([dns_server.server], timeout=0.4, retries=0)
    await check_domain(domain, CheckContext(client, fresh=True))
    asked = set(dns_server.queries)
    for qname, rdtype in first_queries(domain):
        assert (qname.lower(), rdtype) in asked


async def test_prefetched_answers_are_shared_and_asked_once(
    mail_zone: Records, dns_server: DnsServer
) -> None:
    domain = DomainSettings("example.com", dkim_selectors=("sel",))
    client = Dns([dns_server.server], timeout=0.4, retries=0)
    plain = Dns([dns_server.server], timeout=0.4, retries=0)
    expected = await check_domain(domain, CheckContext(plain, fresh=True))
    dns_server.queries.clear()
    pending = client.prefetch([*first_queries(domain), ("example.com", "MX")])
    assert pending is not None
    await pending
    assert dns_server.queries[("example.com.", "MX")] == 1  # a repeat is one query
    assert client.prefetch(first_queries(domain)) is None  # all answered: nothing to wait for
    report = await check_domain(domain, CheckContext(client))
    assert all(count == 1 for count in dns_server.queries.values())
    assert {n: r.to_json() for n, r in report.checks.items()} == {
        n: r.to_json() for n, r in expected.checks.items()
    }
    # A fresh context asks again instead of taking prefetched answers.
    assert CheckContext(client, fresh=True).prefetch(first_queries(domain)) is None


def test_dkim_key_memo_shares_successes_but_not_errors() -> None:
    from esm_tui.checks.dkim.keys import DkimKeyError, _decode_key, decode_key

    # A 32-byte Ed25519 key (RFC 8463 §3's example value).
    p = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
    assert decode_key("ed25519", p) is decode_key("ed25519", p)
    assert decode_key("ed25519", p) == _decode_key("ed25519", p)
    caught = []
    for _ in range(2):
        with pytest.raises(DkimKeyError) as info:
            decode_key("rsa", p)  # 32 bytes are no RSA key
        caught.append(info.value)
    assert caught[0] is not caught[1] and caught[0].reason == caught[1].reason


# -- check_host: include evaluations remembered across domains (evaluate._Memo) -----------


class _NoPeek:
    """The same Dns without `peek`: check_host then remembers nothing (the slow path)."""

    def __init__(self, dns: Dns) -> None:
        self.dns = dns

    async def query(self, name: str, rdtype: str):  # type: ignore[no-untyped-def]
        return await self.dns.query(name, rdtype)


@pytest.fixture
def spf_zone(records: Records) -> Records:
    records.add_zone("example.com.")
    # A shared include costing 8 lookups (a, mx and 6 nested includes).
    records.add_txt(
        "big.example.com.",
        "v=spf1 a mx " + " ".join(f"include:n{i}.example.com" for i in range(6)) + " ~all",
    )
    for i in range(6):
        records.add_txt(f"n{i}.example.com.", f"v=spf1 ip4:198.51.100.{i} -all")
    records.add("big.example.com.", "A", "198.51.100.200")
    records.add("big.example.com.", "MX", "10 big.example.com.")
    records.add_txt("small.example.com.", "v=spf1 include:big.example.com -all")
    records.add_txt(
        "heavy.example.com.", "v=spf1 a:x.example.com a:y.example.com include:big.example.com -all"
    )
    records.add("x.example.com.", "A", "203.0.113.1")
    records.add("y.example.com.", "A", "203.0.113.2")
    # An include whose own record expands a macro (%{o}: the sender's domain).
    records.add_txt("macro.example.com.", "v=spf1 include:m.example.com -all")
    records.add_txt("m.example.com.", "v=spf1 include:%{o}.inc.example.com -all")
    records.add_txt("macro.example.com.inc.example.com.", "v=spf1 ip4:192.0.2.1 -all")
    return records


async def test_remembered_include_evaluations_give_what_fresh_ones_give(
    spf_zone: Records, dns_server: DnsServer
) -> None:
    from esm_tui.spf import evaluate
    from esm_tui.spf.evaluate import check_host

    evaluate._MEMO.clear()
    client = Dns([dns_server.server], timeout=0.4, retries=0)
    slow = _NoPeek(Dns([dns_server.server], timeout=0.4, retries=0))
    cases = [
        ("198.51.100.3", "small.example.com"),  # passes through a nested include
        ("192.0.2.9", "small.example.com"),  # softfail inside, -all outside
        ("198.51.100.3", "small.example.com"),  # now from memory
        ("198.51.100.3", "heavy.example.com"),  # matches in n3, before the limit
        ("203.0.113.99", "small.example.com"),  # no match: all 9 lookups, remembered
        # 2 lookups of its own, then the include's: over 10, a permerror that only a
        # fresh evaluation finds at the right term (the remembered one does not fit).
        ("203.0.113.99", "heavy.example.com"),
        ("192.0.2.1", "macro.example.com"),  # a macro inside: not remembered
    ]
    for ip, domain in cases:
        expected = await check_host(ip, domain, f"a@{domain}", domain, slow)
        got = await check_host(ip, domain, f"a@{domain}", domain, client)
        assert got == expected, (ip, domain)
    assert (("big.example.com", evaluate.client_address("198.51.100.3"))) in evaluate._MEMO
    assert ("m.example.com", evaluate.client_address("192.0.2.1")) not in evaluate._MEMO
    heavy = await check_host("203.0.113.99", "heavy.example.com", "a@x", "x", client)
    assert heavy.result == "permerror" and "more than 10" in heavy.reason
    assert heavy.chain == ("include:big.example.com", "include:n5.example.com")
    # Answers asked again (another Dns, or an expired cache entry) are other objects:
    # the memory no longer applies, and nothing stale is replayed.
    spf_zone.add_txt("n3.example.com.", "v=spf1 -all")  # a second SPF record: permerror
    other = Dns([dns_server.server], timeout=0.4, retries=0)
    changed = await check_host("198.51.100.3", "small.example.com", "a@x", "x", other)
    assert changed.result == "permerror"  # not the remembered pass
