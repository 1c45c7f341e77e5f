"""The zone a domain's records live in, its primary server, and its record sets as that
server holds them now (what a plan is computed from, and what a publish is checked
against): asked directly over TCP, not through a resolver's cache.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import dns.asyncquery
import dns.exception
import dns.message
import dns.rcode
import dns.rdatatype

from esm_tui.dns import Answer, Dns, Failure, NoData, NxDomain, absolute
from esm_tui.dns.servers import format_server

Server = tuple[str, int]


class ZoneError(Exception):
    """The zone or its primary could not be found; the message says which query failed."""


@dataclass(frozen=True)
class Zone:
    name: str
    #: The SOA MNAME (the primary, where dynamic updates go by default: RFC 2136 §4).
    primary: str
    #: The NS host names.
    nameservers: tuple[str, ...]


async def find_zone(resolver: Dns, domain: str) -> Zone:
    """The zone that holds `domain` (its SOA owner), its primary and its NS names."""
    name = absolute(domain).lower()
    outcome = await resolver.query(name, "SOA", fresh=True)
    if isinstance(outcome, (NoData, NxDomain)) and outcome.zone:
        name = absolute(outcome.zone).lower()
        outcome = await resolver.query(name, "SOA", fresh=True)
    if not isinstance(outcome, Answer) or not outcome.rdatas:
        raise ZoneError(f"could not find the zone of {domain} (SOA {name}: {_why(outcome)})")
    primary = absolute(outcome.rdatas[0].mname.to_text()).lower()  # type: ignore[attr-defined]
    ns = await resolver.query(name, "NS", fresh=True)
    nameservers: tuple[str, ...] = ()
    if isinstance(ns, Answer):
        nameservers = tuple(sorted(absolute(v).lower() for v in ns.values()))
    return Zone(name, primary, nameservers)


async def addresses(resolver: Dns, host: str) -> list[str]:
    """The IPv4 then IPv6 addresses of `host`, through the resolver."""
    out: list[str] = []
    for rdtype in ("A", "AAAA"):
        outcome = await resolver.query(host, rdtype, fresh=True)
        if isinstance(outcome, Answer):
            out.extend(outcome.values())
    return out


async def read_sets(
    server: Server, keys: Iterable[tuple[str, str]], timeout: float
) -> dict[tuple[str, str], list[str] | None]:
    """Each (name, type) record set as `server` holds it: rdata texts; [] when there is
    none; None when the server could not be asked or answered an error."""
    out: dict[tuple[str, str], list[str] | None] = {}
    for name, rdtype in keys:
        out[(name, rdtype)] = await read_set(server, name, rdtype, timeout)
    return out


async def read_set(server: Server, name: str, rdtype: str, timeout: float) -> list[str] | None:
    query = dns.message.make_query(name, rdtype)
    try:
        reply = await dns.asyncquery.tcp(query, server[0], port=server[1], timeout=timeout)
    except (OSError, dns.exception.DNSException):
        return None
    if reply.rcode() == dns.rcode.NXDOMAIN:
        return []
    if reply.rcode() != dns.rcode.NOERROR:
        return None
    wanted = dns.rdatatype.from_text(rdtype)
    for rrset in reply.answer:
        # Only records owned by the name itself: a CNAME's target's records are not here.
        if rrset.rdtype == wanted and rrset.name.to_text().lower() == absolute(name).lower():
            return sorted(r.to_text() for r in rrset)
    return []


def describe(server: Server) -> str:
    return format_server(server)


def _why(outcome: object) -> str:
    if isinstance(outcome, Failure):
        return outcome.reason
    return type(outcome).__name__
