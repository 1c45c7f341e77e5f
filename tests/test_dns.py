"""The DNS layer against the loopback server: outcomes as values, CNAMEs, TCP, dedup, limits."""

from __future__ import annotations

import asyncio

import pytest

from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from esm_tui.dns import (
    Answer,
    Dns,
    Failure,
    NameserverError,
    NoData,
    NxDomain,
    decode_txt,
    format_server,
    parse_nameserver,
)


@pytest.fixture
def zone(records: Records) -> Records:
    records.add_zone("example.com.", "ns. host. 7 3600 600 86400 120", ttl=600)
    records.add("example.com.", "MX", "10 mx.example.com.", ttl=3600)
    records.add("mx.example.com.", "A", "192.0.2.1")
    records.add("www.example.com.", "CNAME", "mx.example.com.")
    records.add("loop1.example.com.", "CNAME", "loop2.example.com.")
    records.add("loop2.example.com.", "CNAME", "loop1.example.com.")
    records.add("deep.a.b.example.com.", "A", "192.0.2.9")
    records.add("*.wild.example.com.", "TXT", '"from the wildcard"')
    records.add("out.example.com.", "CNAME", "target.other.test.")
    records.add_zone("other.test.")
    records.add("target.other.test.", "A", "198.51.100.7")
    return records


async def test_answer_carries_ttl_records_and_server(zone: Records, dns: Dns, dns_server) -> None:
    outcome = await dns.query("Example.COM", "mx")
    assert isinstance(outcome, Answer)
    assert outcome.ttl == 3600
    assert outcome.values() == ["10 mx.example.com."]
    assert outcome.server == dns_server.address
    assert outcome.name == "example.com."


async def test_nxdomain_and_nodata_are_answers_with_negative_ttl(zone: Records, dns: Dns) -> None:
    nx = await dns.query("nope.example.com", "A")
    nodata = await dns.query("example.com", "AAAA")
    ent = await dns.query("a.b.example.com", "A")  # an empty non-terminal exists
    assert isinstance(nx, NxDomain) and nx.negative_ttl == 120  # min(SOA TTL, MINIMUM)
    assert isinstance(nodata, NoData) and nodata.negative_ttl == 120
    assert isinstance(ent, NoData)


async def test_cname_is_followed_and_reported(zone: Records, dns: Dns) -> None:
    outcome = await dns.query("www.example.com", "A")
    assert isinstance(outcome, Answer)
    assert outcome.cnames == ("mx.example.com.",)
    assert outcome.canonical == "mx.example.com."
    assert outcome.values() == ["192.0.2.1"]


async def test_cname_to_another_zone(zone: Records, dns: Dns) -> None:
    outcome = await dns.query("out.example.com", "A")
    assert isinstance(outcome, Answer)
    assert outcome.values() == ["198.51.100.7"]


async def test_cname_loop_is_a_failure_not_a_hang(zone: Records, dns: Dns) -> None:
    outcome = await asyncio.wait_for(dns.query("loop1.example.com", "A"), 5)
    assert isinstance(outcome, Failure)
    assert "loop" in outcome.reason.lower()


async def test_wildcard(zone: Records, dns: Dns) -> None:
    outcome = await dns.query("anything.wild.example.com", "TXT")
    assert isinstance(outcome, Answer) and outcome.texts() == ["from the wildcard"]


async def test_large_txt_falls_back_to_tcp(records: Records, dns: Dns) -> None:
    big = "v=spf1 " + "a" * 20000
    records.add_txt("big.example.", big)
    outcome = await dns.query("big.example", "TXT")
    assert isinstance(outcome, Answer)
    assert outcome.texts() == [big]


async def test_txt_is_joined_and_invalid_utf8_escaped(records: Records, dns: Dns) -> None:
    records.add_txt("t.example.", [b"v=spf1 ", b"-all"], b"\x1b[2J caf\xc3\xa9 \xff")
    outcome = await dns.query("t.example", "TXT")
    assert isinstance(outcome, Answer)
    assert sorted(outcome.texts()) == sorted(["v=spf1 -all", "\x1b[2J café \\xff"])


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        ("drop", "timeout"),
        ("servfail", "SERVFAIL"),
        ("refused", "REFUSED"),
        ("garbage", "bad reply"),
        # A reply with another ID is not ours: ignored, as resolvers do, until the timeout.
        ("wrong-id", "timeout"),
        ("wrong-question", "another question"),
    ],
)
async def test_server_failures_are_values(
    records: Records, dns: Dns, behaviour: str, reason: str
) -> None:
    records.set_behaviour("bad.example.", behaviour)
    outcome = await dns.query("bad.example", "TXT")
    assert isinstance(outcome, Failure)
    assert reason in outcome.reason


async def test_dead_server_is_a_failure() -> None:
    # A port nothing listens on: UDP gets ICMP port unreachable or a timeout.
    dns = Dns([("127.0.0.1", 9)], timeout=0.3, retries=1)
    outcome = await dns.query("example.com", "A")
    assert isinstance(outcome, Failure)


async def test_concurrent_askers_share_one_query(zone: Records, dns_server: DnsServer) -> None:
    dns_server.delay = 0.05
    dns = Dns([dns_server.server], timeout=2, retries=0)
    outcomes = await asyncio.gather(*(dns.query("example.com", "MX") for _ in range(20)))
    assert all(isinstance(o, Answer) for o in outcomes)
    assert dns_server.queries[("example.com.", "MX")] == 1
    assert dns.queries_sent == 1
    await dns.query("example.com", "MX", fresh=True)
    assert dns_server.queries[("example.com.", "MX")] == 2


async def test_cache_max_age_expires(zone: Records, dns_server: DnsServer) -> None:
    dns = Dns([dns_server.server], timeout=2, retries=0, max_age=0.0)
    await dns.query("example.com", "MX")
    await asyncio.sleep(0.01)
    await dns.query("example.com", "MX")
    assert dns_server.queries[("example.com.", "MX")] == 2


async def test_concurrency_limit_bounds_queries_in_flight(
    records: Records, dns_server: DnsServer
) -> None:
    records.add_zone("example.")
    dns_server.delay = 0.05
    dns = Dns([dns_server.server], timeout=2, retries=0, concurrency=4)
    peak = 0

    async def watch() -> None:
        nonlocal peak
        while True:
            in_flight = 4 - dns._limit._value if dns._limit else 0
            peak = max(peak, in_flight)
            await asyncio.sleep(0.005)

    watcher = asyncio.ensure_future(watch())
    await asyncio.gather(*(dns.query(f"n{i}.example", "A") for i in range(24)))
    watcher.cancel()
    assert peak == 4
    assert dns.queries_sent == 24


async def test_retry_goes_to_the_next_server(zone: Records, dns_server: DnsServer) -> None:
    dns = Dns([("127.0.0.1", 9), dns_server.server], timeout=0.3, retries=0)
    outcome = await dns.query("example.com", "MX")
    assert isinstance(outcome, Answer)


async def test_query_server_without_recursion(zone: Records, dns: Dns, dns_server) -> None:
    outcome = await dns.query_server(dns_server.server, "mx.example.com", "A")
    assert isinstance(outcome, Answer) and outcome.values() == ["192.0.2.1"]


async def test_invalid_name_is_a_failure(dns: Dns) -> None:
    outcome = await dns.query("a" * 64 + ".example", "A")
    assert isinstance(outcome, Failure) and "invalid" in outcome.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.1", ("192.0.2.1", 53)),
        ("192.0.2.1:5353", ("192.0.2.1", 5353)),
        ("[2001:db8::1]:5353", ("2001:db8::1", 5353)),
        ("2001:db8::1", ("2001:db8::1", 53)),
        ("[::1]", ("::1", 53)),
    ],
)
def test_parse_nameserver(text: str, expected: tuple[str, int]) -> None:
    assert parse_nameserver(text) == expected
    assert parse_nameserver(format_server(expected)) == expected


@pytest.mark.parametrize(
    "text", ["dns.google", "192.0.2.1:0", "192.0.2.1:99999", "[::1", "[::1]x", "1.2.3.4:port", ""]
)
def test_parse_nameserver_rejects(text: str) -> None:
    with pytest.raises(NameserverError):
        parse_nameserver(text)


def test_decode_txt() -> None:
    assert decode_txt([b"a", b"b"]) == "ab"
    assert decode_txt([b"\xff\xfe"]) == "\\xff\\xfe"
