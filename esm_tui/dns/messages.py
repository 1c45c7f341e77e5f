"""DNS messages as the DNS layer sends and reads them: the bytes of a query, whether a
reply answers it, and what a reply says (an outcome, or the next CNAME target to ask).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from esm_tui.dns.names import name_text
from esm_tui.dns.outcomes import Answer, Failure, NoData, NxDomain, Outcome

if TYPE_CHECKING:
    import dns.message
    import dns.rrset

    from esm_tui.dns.reply import Reply, RRs

#: CNAME hops followed before we call it a loop; RFC 1034 gives no limit, resolvers use ~8-16.
MAX_CNAME_HOPS = 12
#: The EDNS buffer size of the DNS Flag Day 2020: avoids IP fragmentation.
EDNS_PAYLOAD = 1232

#: A reply as read: by `reply.decode`, or by dnspython when that declines (or over TCP).
ReplyMessage: TypeAlias = "dns.message.Message | Reply"


def rdtype_number(rdtype: str) -> int:
    """`dns.rdatatype.from_text`, memoized for the handful of types the checks ask."""
    qtype = dns.rdatatype.from_text(rdtype)
    if len(RDTYPE_NUMBERS) < 64:
        RDTYPE_NUMBERS[rdtype] = qtype
    return qtype


RDTYPE_NUMBERS: dict[str, int] = {}


#: Header bits (RFC 1035 §4.1.1) as plain ints: `int & IntFlag` runs the enum's Python code.
_QR = 0x8000
_OPCODE = 0x7800
TC = 0x0200
#: Header flags of a query: RD, or nothing (opcode QUERY, no AD/CD, as dnspython sends them).
_RD = 0x0100
#: QDCOUNT 1, ANCOUNT 0, NSCOUNT 0, ARCOUNT 1 (the OPT record).
_COUNTS = b"\x00\x01\x00\x00\x00\x00\x00\x01"
#: RFC 6891 §6.1.2 OPT pseudo-record: root owner, TYPE 41, CLASS = UDP payload size,
#: TTL = extended RCODE 0, version 0, no DO flag; no options.
_OPT = b"\x00\x00\x29" + EDNS_PAYLOAD.to_bytes(2, "big") + b"\x00\x00\x00\x00\x00\x00"
_RCODES_WITHOUT_QUESTION = frozenset(
    {dns.rcode.FORMERR, dns.rcode.SERVFAIL, dns.rcode.NOTIMP, dns.rcode.REFUSED}
)


def encode_query(qname: dns.name.Name, qtype: int, rd: bool = True, qid: int = 0) -> bytes:
    """The wire form of a query for (qname, qtype, IN) with EDNS0 (RFC 1035 §4.1, RFC 6891).

    Byte for byte what `dns.message.make_query(qname, qtype, use_edns=0, payload=1232)`
    renders (tests hold it to that), at a fraction of the cost: the format is fixed and
    every part of it is ours (the name is an already validated `dns.name.Name`), so
    there is nothing to parse. The reply is still decoded by dnspython.
    """
    labels = b"".join(len(label).to_bytes(1, "big") + label for label in qname.labels)
    return b"".join(
        (
            qid.to_bytes(2, "big"),
            (_RD if rd else 0).to_bytes(2, "big"),
            _COUNTS,
            labels,
            qtype.to_bytes(2, "big"),
            b"\x00\x01",
            _OPT,
        )
    )


def _same_name(a: dns.name.Name, b: dns.name.Name) -> bool:
    """`a == b` (case-insensitive, RFC 4343), with the common identical case first."""
    return a.labels == b.labels or a == b


def is_response(response: ReplyMessage, qname: dns.name.Name, qtype: int) -> bool:
    """`Message.is_response` for a query we encoded (the mux already matched the ID): a
    response (QR), opcode QUERY, and our question, or none in an error reply."""
    if not response.flags & _QR or response.flags & _OPCODE:
        return False
    if not response.question:
        return response.rcode() in _RCODES_WITHOUT_QUESTION
    return all(
        q.rdtype == qtype and q.rdclass == dns.rdataclass.IN and _same_name(q.name, qname)
        for q in response.question
    )


@dataclass
class Response:
    message: ReplyMessage
    server: str


def failed(qname: dns.name.Name, qtype: int, reason: str, server: str) -> Failure:
    return Failure(qname.to_text().lower(), dns.rdatatype.to_text(qtype), reason, server)


def _negative_soa(message: ReplyMessage) -> tuple[int | None, str | None, int | None]:
    """(negative TTL, zone, serial) from the SOA in the authority section, or Nones.

    The negative TTL is RFC 2308 §5's min(SOA TTL, SOA MINIMUM).
    """
    for rrset in message.authority:
        if rrset.rdtype == dns.rdatatype.SOA and len(rrset):
            soa = rrset[0]
            return min(rrset.ttl, soa.minimum), name_text(rrset.name).lower(), soa.serial
    return None, None, None


def interpret(
    response: Response,
    name: str,
    rdtype: str,
    current: dns.name.Name,
    qtype: int,
    cnames: list[str],
) -> tuple[Outcome | None, dns.name.Name]:
    """Turn one reply into an outcome, or into the next CNAME target still to ask."""
    message, where = response.message, response.server
    seen: set[dns.name.Name] | None = None  # made when there is a CNAME to follow
    while True:
        rrset = _find(message, current, qtype)
        if rrset is not None:
            return Answer(name, rdtype, rrset.ttl, tuple(rrset), where, tuple(cnames)), current
        cname = (
            None if qtype == dns.rdatatype.CNAME else _find(message, current, dns.rdatatype.CNAME)
        )
        if cname is None or not len(cname):
            break
        if seen is None:
            seen = {current}
        current = cname[0].target
        if current in seen or len(cnames) >= MAX_CNAME_HOPS:
            return Failure(name, rdtype, "CNAME loop", where), current
        seen.add(current)
        cnames.append(current.to_text().lower())
    negative, zone, serial = _negative_soa(message)
    if message.rcode() == dns.rcode.NXDOMAIN:
        return NxDomain(name, rdtype, negative, where, tuple(cnames), zone, serial), current
    if cnames and negative is None and not _find(message, current, dns.rdatatype.CNAME):
        # The server gave the chain only up to an out-of-zone target: ask for the target.
        return None, current
    return NoData(name, rdtype, negative, where, tuple(cnames), zone, serial), current


def _find(message: ReplyMessage, owner: dns.name.Name, rdtype: int) -> dns.rrset.RRset | RRs | None:
    for rrset in message.answer:
        if (
            rrset.rdtype == rdtype
            and rrset.rdclass == dns.rdataclass.IN
            and _same_name(rrset.name, owner)
        ):
            return rrset
    return None
