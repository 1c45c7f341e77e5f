"""Reading a DNS reply: dnspython's parsers, without its `Message` machinery.

`dns.message.from_wire` spends about half of its time (≈ 130 µs of ≈ 260 µs per reply on
the 2-core benchmark machine, profiled) outside the parsing of names and records:
building a `Message`, indexing RRsets, converting enums, and hashing every record into
its RRset to drop duplicates (for an SOA or MX that renders the record to wire form
twice). At thousands of queries per run that was the largest single cost of a check.

`decode()` reads the common reply — opcode QUERY, one question, records of class IN,
at most one OPT — with the same `dns.wire.Parser`, the same `dns.name.from_wire_parser`
and the same `dns.rdata.from_wire_parser` that `from_wire` uses, and builds the same
RRsets: grouped by (owner, class, type) in order of first appearance, TTL the minimum of
their records' (over 2^31-1 read as 0), duplicates dropped, a singleton type (SOA,
CNAME, ...) keeping its last record. It returns None for anything else — a TSIG, an
UPDATE, a signature record, an unexpected OPT, or any error at all — and the caller
then hands the bytes to `dns.message.from_wire`, so that a strange or hostile reply gets
exactly dnspython's verdict. tests/test_dns.py holds the two to the same result. The
records themselves are read by records.py.

Bounded work (issue 19): a duplicate record in an RRset is found by set lookups on its
wire and canonical forms, not by comparing it with every earlier one (a 64 KB reply of
1,000 NS records: 1.95 s before, 0.007 s now).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.wire

from esm_tui.dns.names import make_name, read_name
from esm_tui.dns.records import RECORDS, Record

_HEADER = struct.Struct("!HHHHHH")
_QUESTION = struct.Struct("!HH")
_RR = struct.Struct("!HHIH")
_IN = dns.rdataclass.IN
_OPT = dns.rdatatype.OPT
#: Left to dnspython: signatures carry a covered type that splits RRsets, TSIG is a
#: message signature, and the meta types are not records.
_DECLINED_TYPES = frozenset(
    {
        dns.rdatatype.TSIG,
        dns.rdatatype.SIG,
        dns.rdatatype.RRSIG,
        dns.rdatatype.TKEY,
        dns.rdatatype.IXFR,
        dns.rdatatype.AXFR,
        dns.rdatatype.MAILA,
        dns.rdatatype.MAILB,
        dns.rdatatype.ANY,
    }
)
_SINGLETONS = frozenset(t for t in dns.rdatatype.RdataType if dns.rdatatype.is_singleton(t))


class Question:
    """One entry of the question section."""

    __slots__ = ("name", "rdclass", "rdtype")

    def __init__(self, name: dns.name.Name, rdtype: int, rdclass: int) -> None:
        self.name = name
        self.rdtype = rdtype
        self.rdclass = rdclass


class RRs:
    """An RRset as the DNS layer reads it: owner, class, type, TTL and the records."""

    __slots__ = ("_keys", "_raw", "name", "rdatas", "rdclass", "rdtype", "ttl")

    def __init__(self, name: dns.name.Name, rdclass: int, rdtype: int, ttl: int) -> None:
        self.name = name
        self.rdclass = rdclass
        self.rdtype = rdtype
        self.ttl = ttl
        self.rdatas: list[dns.rdata.Rdata | Record] = []
        #: The records' bytes as on the wire, and their canonical forms (RFC 4034 §6.2):
        #: a duplicate is found by set lookups. Comparing each record with every earlier
        #: one was quadratic: a 64 KB reply holds thousands of records.
        self._raw: set[bytes] = set()
        self._keys: set[bytes] = set()

    def add(self, rdata: dns.rdata.Rdata | Record, raw: bytes, ttl: int) -> None:
        """Rdataset.add's rules: TTL minimization, no duplicates, singletons replaced.

        `raw` is the record's data as it was on the wire: the same bytes at the same place
        in one message are the same record, without rendering it to canonical form.
        """
        if ttl < self.ttl:
            self.ttl = ttl
        if self.rdtype in _SINGLETONS:
            self.rdatas, self._raw, self._keys = [rdata], {raw}, set()
            return
        if raw in self._raw:
            return
        # Types without names inside: the canonical form is the wire form.
        key = raw if self.rdtype in _NAMELESS else _canonical(rdata)
        if key in self._keys:
            return
        self._raw.add(raw)
        self._keys.add(key)
        self.rdatas.append(rdata)

    def __len__(self) -> int:
        return len(self.rdatas)

    def __iter__(self) -> Iterator[dns.rdata.Rdata | Record]:
        return iter(self.rdatas)

    def __getitem__(self, index: int) -> dns.rdata.Rdata | Record:
        return self.rdatas[index]


def _canonical(rdata: dns.rdata.Rdata | Record) -> bytes:
    """The record's canonical form (names lower-cased, uncompressed), as a set compares."""
    if isinstance(rdata, Record):
        return rdata.digest()
    return rdata.to_digestable(dns.name.root)


#: Types whose canonical form (RFC 4034 §6.2) is their wire form: no domain names inside.
_NAMELESS = frozenset({dns.rdatatype.A, dns.rdatatype.AAAA, dns.rdatatype.TXT, dns.rdatatype.SPF})


class Reply:
    """The parts of a reply the DNS layer reads, named as on `dns.message.Message`."""

    __slots__ = (
        "additional",
        "answer",
        "authority",
        "ednsflags",
        "flags",
        "has_opt",
        "id",
        "question",
    )

    def __init__(self, qid: int, flags: int) -> None:
        self.id = qid
        self.flags = flags
        #: The OPT record's TTL field (extended RCODE, version, DO), 0 without an OPT.
        self.ednsflags = 0
        self.has_opt = False
        self.question: list[Question] = []
        self.answer: list[RRs] = []
        self.authority: list[RRs] = []
        self.additional: list[RRs] = []

    def rcode(self) -> int:
        """RFC 6891 §6.1.3: the header's 4 bits, extended by the OPT's upper 8."""
        return (self.flags & 0x000F) | ((self.ednsflags >> 20) & 0xFF0)


def decode(wire: bytes) -> Reply | None:
    """The reply in `wire`, or None when it is not the common case this reads (see above)."""
    try:
        return _decode(wire)
    except Exception:  # noqa: BLE001 - any doubt: dnspython decides (and says why)
        return None


def _decode(wire: bytes) -> Reply | None:
    if len(wire) < _HEADER.size:
        return None
    qid, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(wire)
    if flags & 0x7800 or qdcount > 1:  # opcode other than QUERY; several questions
        return None
    reply = Reply(qid, flags)
    at = _HEADER.size
    asked: _Owner | None = None
    if qdcount:
        labels, at = read_name(wire, at)
        owner = tuple(labels)
        name = make_name(owner)
        if at == _HEADER.size + len(owner) + sum(map(len, owner)):
            # Written out, not compressed: what a pointer to it (most owners) reads.
            asked = (owner, tuple(label.lower() for label in owner), name)
        rdtype, rdclass = _QUESTION.unpack_from(wire, at)
        at += _QUESTION.size
        reply.question.append(Question(name, rdtype, rdclass))
    parser = _LazyParser(wire)
    at = _section(wire, parser, at, reply.answer, ancount, None, asked)
    at = _section(wire, parser, at, reply.authority, nscount, None, asked)
    at = _section(wire, parser, at, reply.additional, arcount, reply, asked)
    if at != len(wire):
        return None  # declined (-1) or trailing junk
    return reply


class _LazyParser:
    """dnspython's wire parser, made only when a record of an uncommon type needs it."""

    __slots__ = ("_parser", "_wire")

    def __init__(self, wire: bytes) -> None:
        self._wire = wire
        self._parser: dns.wire.Parser | None = None

    def get(self) -> dns.wire.Parser:
        if self._parser is None:
            self._parser = dns.wire.Parser(self._wire)
        return self._parser


#: The question's name as an owner: its labels, lower-cased labels, and the Name.
_Owner = tuple[tuple[bytes, ...], tuple[bytes, ...], dns.name.Name]
#: A compression pointer to offset 12, where the question's name starts.
_TO_QUESTION = b"\xc0\x0c"


def _section(
    wire: bytes,
    parser: _LazyParser,
    at: int,
    section: list[RRs],
    count: int,
    opt: Reply | None,
    asked: _Owner | None,
) -> int:
    """Read `count` records from `at` into `section`; the offset after them, or -1 to
    decline. `opt` is the reply when an OPT may occur (the additional section); `asked`
    the question's name when it was written uncompressed at offset 12."""
    if at < 0:
        return at
    found: dict[tuple[tuple[bytes, ...], int, int], RRs] = {}
    for _ in range(count):
        if asked is not None and wire[at : at + 2] == _TO_QUESTION:
            # read_name's result for a pointer to an uncompressed name before it (one
            # hop, in bounds), without reading that name again.
            owner, lowered, name = asked
            at += 2
        else:
            labels, at = read_name(wire, at)
            owner, lowered, name = tuple(labels), (), None
        rdtype, rdclass, ttl, rdlen = _RR.unpack_from(wire, at)
        at += _RR.size
        if rdtype in _DECLINED_TYPES:
            return -1
        if at + rdlen > len(wire):
            return -1
        if rdtype == _OPT:
            # RFC 6891 §6.1.1: one OPT, in the additional section, owned by the root.
            if opt is None or opt.has_opt or owner != (b"",):
                return -1
            if rdlen:  # options: read (and so checked) by dnspython, as from_wire does
                _dnspython_rdata(parser.get(), at, rdclass, rdtype, rdlen)
            opt.has_opt = True
            opt.ednsflags = ttl
            at += rdlen
            continue
        if rdclass != _IN:
            return -1
        light = RECORDS.get(rdtype)
        if light is not None:
            rdata: dns.rdata.Rdata | Record = light(wire, at, rdlen)
        else:
            rdata = _dnspython_rdata(parser.get(), at, rdclass, rdtype, rdlen)
        raw = wire[at : at + rdlen]
        at += rdlen
        if ttl > 0x7FFFFFFF:
            ttl = 0
        # Owner names compare without regard to ASCII case (RFC 4343), as Name does.
        key = (lowered or tuple(label.lower() for label in owner), rdclass, rdtype)
        rrs = found.get(key)
        if rrs is None:
            rrs = found[key] = RRs(name or make_name(owner), rdclass, rdtype, ttl)
            section.append(rrs)
        rrs.add(rdata, raw, ttl)
    return at


def _dnspython_rdata(
    parser: dns.wire.Parser, at: int, rdclass: int, rdtype: int, rdlen: int
) -> dns.rdata.Rdata:
    """What dns.rdata.from_wire_parser does, minus converting the class and type to enums
    for every record, and the exception wrapper (any error declines)."""
    parser.seek(at)
    rdclass_, rdtype_, cls = _rdata_class(rdclass, rdtype)
    with parser.restrict_to(rdlen):
        return cls.from_wire_parser(rdclass_, rdtype_, parser, None)


def _rdata_class(
    rdclass: int, rdtype: int
) -> tuple[dns.rdataclass.RdataClass, dns.rdatatype.RdataType, type[dns.rdata.Rdata]]:
    """The enums and the dnspython class for a record's class and type, memoized."""
    known = _RDATA_CLASSES.get((rdclass, rdtype))
    if known is None:
        enum_class = dns.rdataclass.RdataClass.make(rdclass)
        enum_type = dns.rdatatype.RdataType.make(rdtype)
        known = (enum_class, enum_type, dns.rdata.get_rdata_class(enum_class, enum_type))
        if len(_RDATA_CLASSES) < 1024:  # any of 2^32 pairs can arrive: a bounded memo
            _RDATA_CLASSES[(rdclass, rdtype)] = known
    return known


_RDATA_CLASSES: dict[
    tuple[int, int],
    tuple[dns.rdataclass.RdataClass, dns.rdatatype.RdataType, type[dns.rdata.Rdata]],
] = {}
