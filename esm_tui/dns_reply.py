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
exactly dnspython's verdict. tests/test_dns.py holds the two to the same result.
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

    __slots__ = ("_raw", "name", "rdatas", "rdclass", "rdtype", "ttl")

    def __init__(self, name: dns.name.Name, rdclass: int, rdtype: int, ttl: int) -> None:
        self.name = name
        self.rdclass = rdclass
        self.rdtype = rdtype
        self.ttl = ttl
        self.rdatas: list[dns.rdata.Rdata] = []
        self._raw: list[bytes] = []

    def add(self, rdata: dns.rdata.Rdata, raw: bytes, ttl: int) -> None:
        """Rdataset.add's rules: TTL minimization, no duplicates, singletons replaced.

        `raw` is the record's data as it was on the wire, to tell most records apart
        without rendering both to canonical form as `Rdata.__eq__` does.
        """
        if ttl < self.ttl:
            self.ttl = ttl
        if self.rdtype in _SINGLETONS:
            self.rdatas, self._raw = [rdata], [raw]
            return
        for index, other in enumerate(self._raw):
            if not self._distinct(raw, other, rdata, self.rdatas[index]):
                return
        self.rdatas.append(rdata)
        self._raw.append(raw)

    def _distinct(
        self, raw: bytes, other_raw: bytes, rdata: dns.rdata.Rdata, other: dns.rdata.Rdata
    ) -> bool:
        if raw == other_raw:
            return False  # the same bytes at the same place in one message: the same record
        if self.rdtype in _NAMELESS:
            return True  # the canonical form is the wire form: different bytes, different
        if self.rdtype == dns.rdatatype.MX and raw[:2] != other_raw[:2]:
            return True  # different preference
        return rdata != other  # names inside: compared in canonical form, as a set would

    def __len__(self) -> int:
        return len(self.rdatas)

    def __iter__(self) -> Iterator[dns.rdata.Rdata]:
        return iter(self.rdatas)

    def __getitem__(self, index: int) -> dns.rdata.Rdata:
        return self.rdatas[index]


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
    if qdcount:
        labels, at = read_name(wire, at)
        rdtype, rdclass = _QUESTION.unpack_from(wire, at)
        at += _QUESTION.size
        reply.question.append(Question(dns.name.Name(labels), rdtype, rdclass))
    parser = dns.wire.Parser(wire)  # for the records' data, read by dnspython
    at = _section(wire, parser, at, reply.answer, ancount, None)
    at = _section(wire, parser, at, reply.authority, nscount, None)
    at = _section(wire, parser, at, reply.additional, arcount, reply)
    if at != len(wire):
        return None  # declined (-1) or trailing junk
    return reply


def _section(
    wire: bytes, parser: dns.wire.Parser, at: int, section: list[RRs], count: int, opt: Reply | None
) -> int:
    """Read `count` records from `at` into `section`; the offset after them, or -1 to
    decline. `opt` is the reply when an OPT may occur (the additional section)."""
    if at < 0:
        return at
    found: dict[tuple[tuple[bytes, ...], int, int], RRs] = {}
    for _ in range(count):
        labels, at = read_name(wire, at)
        rdtype, rdclass, ttl, rdlen = _RR.unpack_from(wire, at)
        at += _RR.size
        if rdtype in _DECLINED_TYPES:
            return -1
        parser.seek(at)
        rdclass_, rdtype_, cls = _rdata_class(rdclass, rdtype)
        with parser.restrict_to(rdlen):
            # What dns.rdata.from_wire_parser does, minus converting the class and type
            # to enums for every record, and the exception wrapper (any error declines).
            rdata = cls.from_wire_parser(rdclass_, rdtype_, parser, None)
        raw = wire[at : at + rdlen]
        at += rdlen
        if rdtype == _OPT:
            # RFC 6891 §6.1.1: one OPT, in the additional section, owned by the root.
            if opt is None or opt.has_opt or labels != [b""]:
                return -1
            opt.has_opt = True
            opt.ednsflags = ttl
            continue
        if rdclass != _IN:
            return -1
        if ttl > 0x7FFFFFFF:
            ttl = 0
        # Owner names compare without regard to ASCII case (RFC 4343), as Name does.
        key = (tuple(label.lower() for label in labels), rdclass, rdtype)
        rrs = found.get(key)
        if rrs is None:
            rrs = found[key] = RRs(dns.name.Name(labels), rdclass, rdtype, ttl)
            section.append(rrs)
        rrs.add(rdata, raw, ttl)
    return at


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


def read_name(wire: bytes, at: int) -> tuple[list[bytes], int]:
    """The labels of the (possibly compressed) name at `at`, and the offset after it.

    `dns.name.from_wire_parser`, step for step (RFC 1035 §4.1.4): a pointer must point
    before the name part it ends, chains are limited, and no part may run into the part
    that pointed to it. Any fault raises (the reply is then declined). The labels make a
    valid Name (whose constructor checks the 255-octet limit).
    """
    labels: list[bytes] = []
    end = len(wire)
    start = biggest = at
    after = -1
    hops = 0
    while True:
        if at >= end:
            raise dns.exception.FormError
        count = wire[at]
        at += 1
        if count == 0:
            break
        if count < 64:
            if at + count > end:
                raise dns.exception.FormError
            labels.append(wire[at : at + count])
            at += count
        elif count >= 192:
            if at >= end:
                raise dns.exception.FormError
            target = (count & 0x3F) * 256 + wire[at]
            at += 1
            if target >= biggest:
                raise dns.name.BadPointer
            biggest = target
            hops += 1
            if _MAX_HOPS is not None and hops > _MAX_HOPS:
                raise dns.exception.FormError
            if after < 0:
                after = at
            end, start, at = start, target, target
        else:
            raise dns.name.BadLabelType
    labels.append(b"")
    return labels, at if after < 0 else after


_MAX_HOPS: int | None = getattr(dns.name, "MAX_COMPRESSION_POINTER_CHAIN", None)
