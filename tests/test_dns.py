"""The DNS layer against the loopback server: outcomes as values, CNAMEs, TCP, dedup, limits."""

from __future__ import annotations

import asyncio

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.renderer
import dns.rrset
import dns.wire
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from waiting import eventually

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
from esm_tui.dns import names as dns_names
from esm_tui.dns import records as dns_records
from esm_tui.dns import reply as dns_reply
from esm_tui.dns.messages import EDNS_PAYLOAD, encode_query
from esm_tui.dns.names import name_from_text


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


async def test_a_send_the_kernel_refuses_is_a_failure_for_every_queued_question(
    zone: Records, dns_server: DnsServer
) -> None:
    """Each question fails at once (a broadcast address without SO_BROADCAST: EACCES on
    sendto). With one slot, held by a slow question to a live server, 2,000 questions
    queue behind it: each failure hands the slot on, and must do so on a later turn of
    the loop, not by recursing through the queue (RecursionError for those at the back)."""
    dns_server.delay = 0.2
    client = Dns([("255.255.255.255", 53)], timeout=2, retries=1, concurrency=1)
    slow = asyncio.ensure_future(client.query_server(dns_server.server, "example.com", "MX"))
    await asyncio.sleep(0)
    outcomes = await asyncio.gather(*(client.query(f"n{i}.example", "A") for i in range(2000)))
    assert isinstance(await slow, Answer)
    assert all(isinstance(o, Failure) for o in outcomes)
    reasons = {o.reason for o in outcomes if isinstance(o, Failure)}
    assert reasons == {"network error with 255.255.255.255:53: Permission denied"}
    assert client.queries_sent == 1 + 4000  # each tried retries + 1 times
    assert client._limit is not None and client._limit._value == 1  # every slot given back
    client.close()


async def test_closing_cancels_the_askers_of_questions_in_flight(
    zone: Records, dns_server: DnsServer
) -> None:
    dns_server.delay = 0.5
    client = Dns([dns_server.server], timeout=2, retries=0, concurrency=4)
    askers = [asyncio.ensure_future(client.query(f"n{i}.example.com", "A")) for i in range(6)]
    # four in flight (the server has them), two queued for a slot
    await eventually(lambda: sum(dns_server.queries.values()) == 4, "four queries in flight")
    client.close()
    done = await asyncio.gather(*askers, return_exceptions=True)
    assert sum(isinstance(d, asyncio.CancelledError) for d in done) == 4
    dns_server.delay = 0
    # The two queued questions go out over new sockets; later questions work as before.
    assert all(isinstance(d, NxDomain) for d in done if not isinstance(d, BaseException))
    assert isinstance(await client.query("example.com", "MX"), Answer)
    assert client._limit is not None and client._limit._value == 4
    client.close()


async def test_a_bug_while_reading_a_reply_reaches_the_askers_instead_of_a_hang(
    zone: Records, dns_server: DnsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Questions run as callbacks, where an exception would only be logged by the loop:
    the question hands it to its askers (as a task would have) and frees its slot."""

    def broken(*_args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("esm_tui.dns.question.interpret", broken)
    client = Dns([dns_server.server], timeout=2, retries=0, concurrency=1)
    with pytest.raises(RuntimeError, match="a bug"):
        await asyncio.wait_for(client.query("example.com", "MX"), 5)
    assert client._limit is not None and client._limit._value == 1
    client.close()


async def test_concurrent_askers_share_one_query(zone: Records, dns_server: DnsServer) -> None:
    dns_server.delay = 0.05
    dns = Dns([dns_server.server], timeout=2, retries=0)
    outcomes = await asyncio.gather(*(dns.query("example.com", "MX") for _ in range(20)))
    assert all(isinstance(o, Answer) for o in outcomes)
    assert dns_server.queries[("example.com.", "MX")] == 1
    assert dns.queries_sent == 1
    await dns.query("example.com", "MX", fresh=True)
    assert dns_server.queries[("example.com.", "MX")] == 2


async def test_a_cancelled_asker_does_not_cancel_the_shared_query(
    zone: Records, dns_server: DnsServer
) -> None:
    dns_server.delay = 0.1
    client = Dns([dns_server.server], timeout=2, retries=0)
    first = asyncio.ensure_future(client.query("example.com", "MX"))
    second = asyncio.ensure_future(client.query("example.com", "MX"))
    await eventually(lambda: dns_server.queries[("example.com.", "MX")] == 1, "the query sent")
    first.cancel()
    outcome = await second
    assert first.cancelled()
    assert isinstance(outcome, Answer) and outcome.values() == ["10 mx.example.com."]
    assert isinstance(await client.query("example.com", "MX"), Answer)  # cached
    assert dns_server.queries[("example.com.", "MX")] == 1


async def test_cache_max_age_expires(zone: Records, dns_server: DnsServer) -> None:
    dns = Dns([dns_server.server], timeout=2, retries=0, max_age=0.0)
    await dns.query("example.com", "MX")
    await asyncio.sleep(0.01)  # about time: an answer older than max_age (0) is not reused
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


# -- the query encoder and the reply decoder (fast paths held to dnspython) ---------------


@pytest.mark.parametrize("name", ["example.com.", "é.example.", "a\\.b.example.", ".", "_x-y.*.q."])
@pytest.mark.parametrize("rdtype", ["TXT", "A", "MX", "TYPE65280"])
@pytest.mark.parametrize("rd", [True, False])
def test_encode_query_is_what_dnspython_renders(name: str, rdtype: str, rd: bool) -> None:
    query = dns.message.make_query(name, rdtype, use_edns=0, payload=EDNS_PAYLOAD)
    if not rd:
        query.flags &= ~dns.flags.RD
    qname, qtype = dns.name.from_text(name), dns.rdatatype.from_text(rdtype)
    assert encode_query(qname, qtype, rd, query.id) == query.to_wire()


_OWNERS = [dns.name.from_text(n) for n in ("a.example.", "b.example.", "A.Example.", "c.test.")]
_TARGETS = st.sampled_from(["mx.example.", "MX.example.", "other.test.", "."])


def _rdata(rdtype: str, draw: st.DrawFn) -> dns.rdata.Rdata:
    IN = dns.rdataclass.IN
    if rdtype == "A":
        return dns.rdata.from_text(IN, "A", str(draw(st.ip_addresses(v=4))))
    if rdtype == "AAAA":
        return dns.rdata.from_text(IN, "AAAA", str(draw(st.ip_addresses(v=6))))
    if rdtype == "TXT":
        strings = draw(st.lists(st.binary(max_size=300), min_size=1, max_size=3))
        chunks = [s[i : i + 255] for s in strings for i in range(0, max(len(s), 1), 255)]
        return dns.rdtypes.ANY.TXT.TXT(IN, dns.rdatatype.TXT, chunks)
    if rdtype == "MX":
        preference = draw(st.sampled_from([0, 10, 10, 20, 65535]))
        return dns.rdata.from_text(IN, "MX", f"{preference} {draw(_TARGETS)}")
    if rdtype in ("CNAME", "NS", "PTR"):
        return dns.rdata.from_text(IN, rdtype, draw(_TARGETS))
    if rdtype == "SOA":
        serial = draw(st.integers(0, 2**32 - 1))
        return dns.rdata.from_text(IN, "SOA", f"ns.example. h.example. {serial} 1 2 3 4")
    data = draw(st.binary(max_size=40))
    return dns.rdata.GenericRdata(IN, dns.rdatatype.from_text(rdtype), data)


@st.composite
def _replies(draw: st.DrawFn) -> bytes:
    """Wire replies as servers write them: compressed names, repeated and interleaved
    records, owner names differing in case, huge TTLs, an OPT with an extended RCODE."""
    flags = dns.flags.QR | draw(st.sampled_from([0, dns.flags.AA, dns.flags.TC | dns.flags.RD]))
    flags |= draw(st.integers(0, 15))  # the RCODE's low bits
    renderer = dns.renderer.Renderer(draw(st.integers(0, 65535)), flags)
    if draw(st.booleans()):
        renderer.add_question(draw(st.sampled_from(_OWNERS)), dns.rdatatype.TXT)
    types = st.sampled_from(["A", "AAAA", "TXT", "MX", "CNAME", "NS", "PTR", "SOA", "TYPE65280"])
    for section in (dns.renderer.ANSWER, dns.renderer.AUTHORITY, dns.renderer.ADDITIONAL):
        for _ in range(draw(st.integers(0, 4))):
            rdtype = draw(types)
            ttl = draw(st.sampled_from([0, 60, 3600, 2**31 - 1, 2**31, 2**32 - 1]))
            rrset = dns.rrset.from_rdata(draw(st.sampled_from(_OWNERS)), ttl, _rdata(rdtype, draw))
            renderer.add_rrset(section, rrset)
    if draw(st.booleans()):
        renderer.add_edns(0, draw(st.integers(0, 255)) << 24, 1232)
    renderer.write_header()
    return renderer.get_wire()


def _same_reply(reply: dns_reply.Reply, message: dns.message.Message) -> None:
    assert (reply.id, reply.flags, reply.rcode()) == (message.id, message.flags, message.rcode())
    assert reply.ednsflags == message.ednsflags
    assert [(q.name.labels, q.rdtype, q.rdclass) for q in reply.question] == [
        (q.name.labels, q.rdtype, q.rdclass) for q in message.question
    ]
    for ours, theirs in (
        (reply.answer, message.answer),
        (reply.authority, message.authority),
        (reply.additional, message.additional),
    ):
        assert [(r.name.labels, r.rdclass, r.rdtype, r.ttl) for r in ours] == [
            (r.name.labels, r.rdclass, r.rdtype, r.ttl) for r in theirs
        ]
        for a, b in zip(ours, theirs, strict=True):
            assert len(a) == len(b)
            for x, y in zip(a, b, strict=True):
                _same_record(x, y)


#: The attributes the checks read of each type `dns_reply` decodes itself.
_ATTRIBUTES = {
    "A": ("address",),
    "AAAA": ("address",),
    "TXT": ("strings",),
    "MX": ("preference", "exchange"),
    "CNAME": ("target",),
    "NS": ("target",),
    "PTR": ("target",),
    "SOA": ("mname", "rname", "serial", "refresh", "retry", "expire", "minimum"),
}


def _same_record(ours: object, theirs: dns.rdata.Rdata) -> None:
    """A record read by `dns_reply` is dnspython's record: the same attributes (read by
    us, compared to dnspython's own decoding of the message), text, wire and canonical
    form, and it equals and hashes as dnspython's does."""
    rdtype = dns.rdatatype.to_text(theirs.rdtype)
    if rdtype not in _ATTRIBUTES:  # an uncommon type: dnspython's own rdata
        assert (type(ours), ours.to_wire()) == (type(theirs), theirs.to_wire())  # type: ignore[attr-defined]
        return
    assert isinstance(ours, dns_records.Record)
    for attribute in _ATTRIBUTES[rdtype]:
        mine, expected = getattr(ours, attribute), getattr(theirs, attribute)
        assert mine == expected, attribute
        if isinstance(expected, dns.name.Name):
            assert type(mine) is dns.name.Name and mine.labels == expected.labels
    assert (ours.rdtype, ours.rdclass) == (theirs.rdtype, theirs.rdclass)
    assert ours.to_text() == theirs.to_text()
    assert ours.to_wire() == theirs.to_wire()
    assert ours.digest() == theirs.to_digestable()
    assert ours == theirs and not ours != theirs  # noqa: SIM202 - __ne__ is under test too
    assert ours == dns_records.decode_record(theirs)
    assert hash(ours) == hash(dns_records.decode_record(theirs))
    assert type(ours.rdata()) is type(theirs) and ours.rdata() == theirs


@settings(max_examples=200, deadline=None)
@given(_replies())
def test_decode_reads_replies_as_dnspython_does(wire: bytes) -> None:
    reply = dns_reply.decode(wire)
    assert reply is not None  # these are all the common case
    _same_reply(reply, dns.message.from_wire(wire))


@settings(max_examples=250, deadline=None)
@given(_replies(), st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), max_size=4))
def test_decode_of_damaged_replies_agrees_with_dnspython_or_declines(
    wire: bytes, damage: list[tuple[int, int]]
) -> None:
    """Bytes flipped, a truncation or trailing junk: whatever `decode` accepts, dnspython
    accepts and reads the same; everything else is left to dnspython (None)."""
    data = bytearray(wire)
    for position, value in damage:
        if position < len(data):
            data[position] = value
        elif position % 2:
            data = data[: position % (len(data) + 1)]
        else:
            data.append(value)
    reply = dns_reply.decode(bytes(data))
    if reply is None:
        return
    _same_reply(reply, dns.message.from_wire(bytes(data)))


@st.composite
def _name_wires(draw: st.DrawFn) -> tuple[bytes, int]:
    """Bytes full of length octets, pointers (some looping, some forward) and label
    types 64-191, and an offset to read a name from."""
    pieces = st.one_of(
        st.binary(min_size=1, max_size=6),
        st.integers(0, 63).map(lambda n: bytes([n]) + b"x" * n),
        st.integers(0, 0x3FFF).map(lambda p: (0xC000 | p).to_bytes(2, "big")),
        st.integers(0, 40).map(lambda p: (0xC000 | p).to_bytes(2, "big")),
        st.sampled_from([b"\x00", b"\x40", b"\x80", b"\xbf", b"\x3f" + b"a" * 63]),
    )
    wire = b"".join(draw(st.lists(pieces, max_size=30)))
    return wire, draw(st.integers(0, max(len(wire) - 1, 0)))


def _pointer_chain(hops: int) -> tuple[bytes, int]:
    """The root at 0, then pointers each to the one before: reading the last one follows
    `hops` pointers."""
    wire = b"\x00"
    for _ in range(hops):
        target = len(wire) - (1 if len(wire) == 1 else 2)
        wire += (0xC000 | target).to_bytes(2, "big")
    return wire, len(wire) - 2


@settings(max_examples=400, deadline=None)
@given(_name_wires())
# A pointer back into a label that runs over the pointer itself (RFC 1035 §4.1.4 names
# must not overlap what points to them): only the end restriction rejects it.
@example((b"\x07abcd\xc0\x00\x00\x00", 5))
@example(_pointer_chain(16))
@example(_pointer_chain(17))
@example((b"\x03abc\xc0\x00", 4))
def test_read_name_is_dnspythons_name_reader(case: tuple[bytes, int]) -> None:
    wire, at = case
    try:
        parser = dns.wire.Parser(wire, at)
        expected: object = (dns.name.from_wire_parser(parser, True).labels, parser.current)
    except Exception:  # noqa: BLE001 - any refusal
        expected = "error"
    try:
        labels, after = dns_names.read_name(wire, at)
        got: object = (dns.name.Name(labels).labels, after)
    except Exception:  # noqa: BLE001
        got = "error"
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab-_*@.\\ é0Z", max_size=20), st.booleans())
def test_name_from_text_is_dnspythons(text: str, dot: bool) -> None:
    text += "." if dot else ""

    def read(parse: object) -> object:
        try:
            return parse(text).labels  # type: ignore[operator]
        except Exception as exc:  # noqa: BLE001
            return type(exc)

    assert read(name_from_text) == read(dns.name.from_text)


def test_decode_leaves_signatures_and_updates_to_dnspython() -> None:
    query = dns.message.make_query("example.com.", "TXT")
    response = dns.message.make_response(query)
    response.answer.append(
        dns.rrset.from_text(
            "example.com.",
            60,
            "IN",
            "RRSIG",
            "TXT 13 2 60 20300101000000 20200101000000 1 example.com. AAAA",
        )
    )
    assert dns.message.from_wire(response.to_wire()).answer  # dnspython reads it
    assert dns_reply.decode(response.to_wire()) is None
    update = dns.message.make_response(dns.message.Message())
    update.set_opcode(dns.opcode.UPDATE)
    assert dns_reply.decode(update.to_wire()) is None


# -- one query, once: across domains, and in one run of the whole checker --------------------


async def test_shared_names_are_asked_once_across_domains(
    records: Records, dns_server: DnsServer
) -> None:
    """Ten domains sharing an include, MX hosts and a report service: every (name, type)
    reaches the server once, concurrent askers included."""
    from esm_tui.checks import check_domain
    from esm_tui.checks.context import CheckContext
    from esm_tui.model import DomainSettings, Status

    records.add_zone("shared.test.")
    records.add("mx.shared.test.", "A", "192.0.2.1")
    records.add_txt("_spf.shared.test.", "v=spf1 ip4:192.0.2.0/24 -all")
    records.add_txt("*._report._dmarc.shared.test.", "v=DMARC1")
    domains = [f"d{i}.test" for i in range(10)]
    for name in domains:
        records.add_zone(f"{name}.")
        records.add(f"{name}.", "MX", "10 mx.shared.test.")
        records.add_txt(f"{name}.", "v=spf1 include:_spf.shared.test -all")
        records.add_txt(f"_dmarc.{name}.", "v=DMARC1; p=reject; rua=mailto:r@shared.test")
    dns_server.delay = 0.02
    client = Dns([dns_server.server], timeout=2, retries=0, concurrency=8)
    wanted = [
        DomainSettings(n, spf_include=("_spf.shared.test",), spf_ips=("192.0.2.0/24",))
        for n in domains
    ]
    reports = await asyncio.gather(*(check_domain(s, CheckContext(client)) for s in wanted))
    assert all(r.checks["spf"].status is Status.OK for r in reports), reports[0].checks["spf"]
    assert dns_server.queries[("_spf.shared.test.", "TXT")] == 1
    assert dns_server.queries[("mx.shared.test.", "A")] == 1
    assert max(dns_server.queries.values()) == 1
    assert client.queries_sent == sum(dns_server.queries.values()) == len(dns_server.queries)


async def test_replies_queued_while_the_loop_was_busy_are_read_at_once() -> None:
    """Forty replies land while the event loop is blocked: the next loop iteration reads
    them all (an asyncio datagram transport reads one per socket per iteration, and
    under load every query then waited for the loop to come round again and again)."""
    import socket

    from esm_tui.dns.udp import UdpMux

    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(2)
    host, port = server.getsockname()
    mux = UdpMux()
    query = encode_query(dns.name.from_text("example.com."), dns.rdatatype.TXT)

    class Receiver:
        def __init__(self) -> None:
            self.replies: list[bytes] = []

        def on_reply(self, data: bytes) -> None:
            self.replies.append(data)

        def on_close(self) -> None:
            raise AssertionError("closed before its reply")

    receivers = [Receiver() for _ in range(40)]
    for receiver in receivers:
        mux.send(query, host, port, receiver)
    for _ in range(40):  # answered while the loop waits for this coroutine
        data, source = server.recvfrom(512)
        server.sendto(data[:2] + b"\x81\x80" + data[4:], source)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    # One readiness callback read them all, each with the query's own ID put back.
    assert [len(r.replies) for r in receivers] == [1] * 40
    assert all(r.replies[0][:2] == query[:2] for r in receivers)
    assert all(r.replies[0][2:4] == b"\x81\x80" for r in receivers)
    assert not mux._pending
    mux.close()
    server.close()


@pytest.mark.parametrize(
    "labels",
    [
        (b"mx1", b"example", b"com", b""),
        (b"MX1", b"Example", b"com", b""),  # case kept, as to_text keeps it
        (b"a.b", b"\x00\x7f", b'"quoted"', b"x\\y", b""),  # escaped in presentation form
        (b"",),  # the root
    ],
)
def test_name_text_is_to_text(labels: tuple[bytes, ...]) -> None:
    name = dns.name.Name(labels)
    assert dns_names.name_text(name) == name.to_text()
    assert dns_names.name_text(dns.name.Name(labels)) == name.to_text()  # from the memo


def test_name_text_memo_is_bounded() -> None:
    for i in range(dns_names._NAME_TEXTS_MAX + 10):
        dns_names.name_text(dns.name.Name((f"h{i}".encode(), b"test", b"")))
    assert 0 < len(dns_names._NAME_TEXTS) <= dns_names._NAME_TEXTS_MAX


def test_the_servers_remembered_answers_keep_their_delay_id_and_count() -> None:
    """DnsServer(memo=True), as the benchmarks run it: a question asked again is answered
    from a timer (no task), still after `delay`, with the asker's own ID, and counted; a
    dropped question stays unanswered."""
    import socket
    import time

    records = Records()
    records.add_zone("memo.test.")
    records.add("a.memo.test.", "A", "192.0.2.7")
    records.add("gone.memo.test.", "A", "192.0.2.8")
    records.set_behaviour("gone.memo.test.", "drop")
    with DnsServer(records, delay=0.15, memo=True) as server:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(3)
            for qid in (1111, 2222, 3333):  # rendered once, then remembered twice
                query = dns.message.make_query("a.memo.test.", "A", id=qid)
                started = time.monotonic()
                sock.sendto(query.to_wire(), server.server)
                reply = dns.message.from_wire(sock.recv(4096))
                assert time.monotonic() - started >= 0.14
                assert reply.id == qid
                assert [r.to_text() for r in reply.answer[0]] == ["192.0.2.7"]
            sock.settimeout(0.5)
            for qid in (4444, 5555):
                sock.sendto(
                    dns.message.make_query("gone.memo.test.", "A", id=qid).to_wire(), server.server
                )
                with pytest.raises(TimeoutError):
                    sock.recv(4096)
        assert server.queries[("a.memo.test.", "A")] == 3
        assert server.queries[("gone.memo.test.", "A")] == 2
