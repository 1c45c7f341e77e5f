"""Asking the authoritative servers and the resolvers, and attaching the verdict to a report.

For each record: the zone (SOA, walking up from the name) → its NS hosts → their
addresses → each address asked directly with recursion off at the configured port, plus
the SOA serial of each; the configured resolver's answer (the cached one the check used)
and each compare resolver. Every (server, name, type) is asked once per call, however
many records share a zone, even when `fresh` bypasses the Dns cache.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

import dns.rcode

from esm_tui.dns import (
    Answer,
    Dns,
    Failure,
    NoData,
    NxDomain,
    Outcome,
    Server,
    absolute,
    format_server,
)
from esm_tui.model import DomainReport, Propagation, RecordResult, ServerAnswer, Status
from esm_tui.propagation.classify import AUTHORITATIVE, RESOLVER, classify, merge

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Labels walked up from a name looking for its zone before giving up.
_MAX_WALK = 16


@dataclass(frozen=True)
class Target:
    """One (name, type) whose propagation is looked at."""

    name: str
    rdtype: str


@dataclass(frozen=True)
class ZoneServers:
    """A zone and its authoritative servers: (address, port) with the NS host name."""

    zone: str
    servers: tuple[tuple[Server, str], ...]


async def attach_propagation(
    report: DomainReport,
    dns: Dns,
    *,
    port: int = 53,
    compare_resolvers: Sequence[Server] = (),
    fresh: bool = False,
) -> DomainReport:
    """A copy of `report` whose RecordResults carry `propagation` (None where undecidable).

    Never raises for DNS trouble (those are values); a bug in here is logged and leaves
    that record's propagation None rather than failing the check.
    """
    collector = Collector(dns, port=port, compare_resolvers=compare_resolvers, fresh=fresh)
    names = list(report.checks)
    found = await asyncio.gather(
        *(_guarded(collector, report.domain, report.checks[n]) for n in names)
    )
    checks = {
        name: replace(report.checks[name], propagation=p)
        for name, p in zip(names, found, strict=True)
    }
    return replace(report, checks=checks)


async def _guarded(collector: Collector, domain: str, result: RecordResult) -> Propagation | None:
    try:
        return await collector.propagation(domain, result)
    except Exception:
        log.exception("propagation of %s %s failed", result.check, domain)
        return None


def targets(domain: str, result: RecordResult) -> list[Target]:
    """The names whose data the card shows: for DKIM each selector's name, for DMARC the
    name the record was found at (a parent's, after the tree walk), else the query."""
    rdtype = result.query_type.upper()
    details: Mapping[str, Any] = result.details or {}
    if result.check == "dkim":
        selectors = details.get("selectors")
        if isinstance(selectors, Mapping) and selectors:
            return [Target(absolute(f"{sel}._domainkey.{domain}"), rdtype) for sel in selectors]
    if result.check == "dmarc":
        location = details.get("location")
        if isinstance(location, str) and location:
            return [Target(absolute(f"_dmarc.{location}"), rdtype)]
    return [Target(absolute(result.query_name), rdtype)]


class Collector:
    """The queries of one propagation pass, each asked once (see the module docstring)."""

    def __init__(
        self,
        dns: Dns,
        *,
        port: int = 53,
        compare_resolvers: Sequence[Server] = (),
        fresh: bool = False,
        now: datetime | None = None,
    ) -> None:
        self.dns = dns
        self.port = port
        self.compare_resolvers = tuple(compare_resolvers)
        self.fresh = fresh
        #: When the resolvers' TTLs were read: the configured resolver's answer is the
        #: check's, just before; the compare resolvers are asked first thing. ETAs count
        #: from here, not from the end of a pass a slow authoritative server held up.
        self.now = now or datetime.now(UTC)
        self._tasks: dict[tuple[object, ...], asyncio.Task[Any]] = {}

    async def _once(self, key: tuple[object, ...], make: Callable[[], Awaitable[T]]) -> T:
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(make())
            self._tasks[key] = task
        return await asyncio.shield(task)

    # -- one record --------------------------------------------------------------------

    async def propagation(self, domain: str, result: RecordResult) -> Propagation | None:
        wanted = _wanted(result)
        parts = await asyncio.gather(
            *(self.target_propagation(t, wanted) for t in targets(domain, result))
        )
        return merge(parts)

    async def target_propagation(
        self, target: Target, wanted: tuple[str, str] | None = None
    ) -> Propagation | None:
        """`wanted`: (owner name, value) of the record the fix proposes, if any."""
        # The resolvers first, at once: their TTLs are read against `self.now`.
        resolvers_task = asyncio.ensure_future(self.resolver_answers(target))
        try:
            located = await self.zone_of(target.name)
            zone_servers = await self.zone_servers(located[0]) if located else None
            if located is None or zone_servers is None:
                return None
            zone, owner = located
            auth = await asyncio.gather(
                *(
                    self.authoritative_answer(server, host, zone, owner, target.rdtype)
                    for server, host in zone_servers.servers
                )
            )
            resolvers = await resolvers_task
        finally:
            resolvers_task.cancel()
        value = None
        if wanted is not None and wanted[0] in (target.name, owner):
            value = wanted[1]
        return classify(owner, target.rdtype, auth, resolvers, now=self.now, wanted=value)

    # -- the zone and its servers --------------------------------------------------------

    async def zone_of(self, name: str) -> tuple[str, str] | None:
        """(zone, owner): the zone holding `name`'s data, and the owner name to ask its
        servers for — the CNAME target if `name` is an alias, since an authoritative
        server does not chase an alias out of its zone."""
        return await self._once(("zone", name), lambda: self._find_zone(name))

    async def _find_zone(self, name: str) -> tuple[str, str] | None:
        outcome = await self.dns.query(name, "SOA")
        owner = name
        if not isinstance(outcome, Failure) and outcome.cnames:
            owner = outcome.cnames[-1]
        current = owner
        for _ in range(_MAX_WALK):
            if isinstance(outcome, Failure):
                return None
            zone = _soa_owner(outcome)
            if zone is not None:
                return zone, owner
            # No SOA in the reply (some forwarders drop the authority section): ask the
            # parent, where the SOA is the answer if the parent is the zone apex.
            parent = _parent(current)
            if parent is None:
                return None
            current = parent
            outcome = await self.dns.query(current, "SOA")
        return None

    async def zone_servers(self, zone: str) -> ZoneServers | None:
        return await self._once(("ns", zone), lambda: self._find_servers(zone))

    async def _find_servers(self, zone: str) -> ZoneServers | None:
        outcome = await self.dns.query(zone, "NS")
        if not isinstance(outcome, Answer):
            return None
        hosts = sorted(
            {absolute(r.target.to_text()) for r in outcome.rdatas if hasattr(r, "target")}
        )
        found = await asyncio.gather(*(self._addresses(h) for h in hosts))
        servers: dict[Server, str] = {}
        for host, addresses in zip(hosts, found, strict=True):
            for address in addresses:
                servers.setdefault((address, self.port), host)
        if not servers:
            return None
        return ZoneServers(zone, tuple(servers.items()))

    async def _addresses(self, host: str) -> list[str]:
        answers = await asyncio.gather(self.dns.query(host, "A"), self.dns.query(host, "AAAA"))
        return [v for a in answers if isinstance(a, Answer) for v in a.values()]

    # -- the answers -------------------------------------------------------------------------

    async def authoritative_answer(
        self, server: Server, host: str, zone: str, owner: str, rdtype: str
    ) -> ServerAnswer:
        outcome, serial = await asyncio.gather(
            self._once(
                ("auth", server, owner, rdtype),
                lambda: self.dns.query_server(server, owner, rdtype, fresh=self.fresh),
            ),
            self.serial(server, zone),
        )
        answer = server_answer(outcome, AUTHORITATIVE, format_server(server), rdtype, host=host)
        if isinstance(outcome, NxDomain | NoData) and not outcome.cnames and outcome.zone != zone:
            # A negative answer without this zone's SOA is a referral or a lame server.
            answer = replace(
                answer,
                error=f"not authoritative for {zone} (no SOA of the zone in its answer: "
                "a lame delegation?)",
            )
        return replace(answer, serial=serial)

    async def serial(self, server: Server, zone: str) -> int | None:
        outcome = await self._once(
            ("auth", server, zone, "SOA"),
            lambda: self.dns.query_server(server, zone, "SOA", fresh=self.fresh),
        )
        if isinstance(outcome, Answer) and outcome.rdatas:
            return getattr(outcome.rdatas[0], "serial", None)
        return None

    async def resolver_answers(self, target: Target) -> list[ServerAnswer]:
        """The configured resolver (its cached answer, the one the check used), then each
        compare resolver."""
        mine = self.dns.query(target.name, target.rdtype)
        others = [
            self._once(
                ("resolver", server, target.name, target.rdtype),
                lambda server=server: self.dns.query_server(
                    server, target.name, target.rdtype, recursion=True, fresh=self.fresh
                ),
            )
            for server in self.compare_resolvers
        ]
        outcomes = await asyncio.gather(mine, *others)
        configured = format_server(self.dns.nameservers[0]) if self.dns.nameservers else ""
        labels = [outcomes[0].server or configured] + [
            format_server(s) for s in self.compare_resolvers
        ]
        return [
            server_answer(o, RESOLVER, where, target.rdtype)
            for o, where in zip(outcomes, labels, strict=True)
        ]


def _soa_owner(outcome: Outcome) -> str | None:
    """The zone an SOA query revealed: the SOA's owner, in the answer or the authority."""
    if isinstance(outcome, Answer):
        return absolute(outcome.canonical) if outcome.rdatas else None
    if isinstance(outcome, NxDomain | NoData):
        return outcome.zone
    return None


def _parent(name: str) -> str | None:
    """`b.example.` for `a.b.example.`; None above a top-level domain (never the root)."""
    labels = name.rstrip(".").split(".")
    return absolute(".".join(labels[1:])) if len(labels) > 1 else None


def _wanted(result: RecordResult) -> tuple[str, str] | None:
    """(owner, value) of the record the fix proposes, when the card is not yet fine."""
    fix = result.fix
    if fix is None or fix.record is None or result.status in (Status.OK, Status.NONE):
        return None
    if fix.record.type.upper() != result.query_type.upper():
        return None
    return absolute(fix.record.name), fix.record.value


def server_answer(
    outcome: Outcome, role: str, server: str, rdtype: str, *, host: str = ""
) -> ServerAnswer:
    """One outcome as a row of the propagation matrix (records raw, as SPEC §3)."""
    match outcome:
        case Answer():
            records = outcome.texts() if rdtype.upper() in ("TXT", "SPF") else outcome.values()
            return ServerAnswer(server, role, "NOERROR", tuple(records), outcome.ttl, None, host)
        case NxDomain():
            return ServerAnswer(
                server, role, "NXDOMAIN", (), outcome.negative_ttl, outcome.serial, host
            )
        case NoData():
            return ServerAnswer(
                server, role, "NOERROR", (), outcome.negative_ttl, outcome.serial, host
            )
        case Failure():
            return ServerAnswer(
                server, role, failure_rcode(outcome.reason), host=host, error=outcome.reason
            )
    raise TypeError(outcome)


def failure_rcode(reason: str) -> str:
    """`SERVFAIL`/`REFUSED`/… when the server answered with one, `TIMEOUT`, else `ERROR`."""
    first = reason.split(" ", 1)[0]
    if first.isupper():
        try:
            dns.rcode.from_text(first)
        except dns.rcode.UnknownRcode:
            pass
        else:
            return first
    if reason.startswith("timeout"):
        return "TIMEOUT"
    return "ERROR"
