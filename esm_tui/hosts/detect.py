"""Which DNS host serves a domain's zone: find the zone, read its NS RRset, match the catalogue.

One question in the common case: `NS` at the domain's own name. A domain that is its zone's
apex (nearly all of them) answers with the zone's NS RRset at once. A name below its zone's
apex answers NODATA or NXDOMAIN, whose SOA (RFC 2308 §3) names the zone: its NS RRset is
the second question, cached for every other domain of that zone. Only when a resolver
strips the SOA from negative answers does the search walk up one label at a time, asking
NS at each parent (a zone cut is where an NS RRset answers).

Every question goes through the check's `CheckContext`, so a check cycle asks each once
(the Dns cache), the propagation code's `NS` question for the same zone is the same cached
answer, and a user's recheck (`fresh`) asks again. A domain that is an alias (CNAME) is in
its parent's zone: the walk starts there.

Failures are values: `None` when the NS records could not be read (a timeout, SERVFAIL, a
zone without NS, a name no delegated zone holds); never an exception for DNS trouble.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from esm_tui.dns import Answer, Failure, NoData, NxDomain, Outcome, absolute
from esm_tui.hosts.catalogue import OTHER, match
from esm_tui.model import ZoneHost

if TYPE_CHECKING:  # checks/__init__.py imports this module: no cycle at run time
    from esm_tui.checks.context import CheckContext

#: Labels walked up from a name looking for its zone before giving up (as propagation's).
_MAX_WALK = 16


def domain_query(domain: str) -> tuple[str, str]:
    """The question detection starts with, for `check_domain`'s prefetch."""
    return absolute(domain), "NS"


async def detect_host(domain: str, ctx: CheckContext) -> ZoneHost | None:
    """The host of `domain`'s zone, `other` when no pattern matches, None when unreadable."""
    name = absolute(domain)
    outcome = await ctx.query(name, "NS")
    if isinstance(outcome, Failure):
        return None
    if outcome.cnames:
        # An alias is not a zone apex: its zone is the one holding the CNAME, above it.
        parent = _parent(name)
        return await _walk(parent, ctx) if parent else None
    if isinstance(outcome, Answer):
        return _named(name, outcome)
    if outcome.zone:
        zone = absolute(outcome.zone)
        if not _is_ancestor(zone, name):
            return None  # an SOA that does not enclose the name: not to be trusted
        return await _zone_host(zone, ctx)
    parent = _parent(name)
    return await _walk(parent, ctx) if parent else None


async def _walk(name: str, ctx: CheckContext) -> ZoneHost | None:
    """Ask NS at `name`, then at each parent, until an NS RRset answers (the zone cut)."""
    current: str | None = name
    for _ in range(_MAX_WALK):
        if current is None:
            return None
        outcome = await ctx.query(current, "NS")
        if isinstance(outcome, Failure):
            return None
        if isinstance(outcome, Answer) and not outcome.cnames:
            return _named(current, outcome)
        if isinstance(outcome, NoData | NxDomain) and outcome.zone and not outcome.cnames:
            zone = absolute(outcome.zone)
            if _is_ancestor(zone, current):
                return await _zone_host(zone, ctx)
        current = _parent(current)
    return None


async def _zone_host(zone: str, ctx: CheckContext) -> ZoneHost | None:
    outcome = await ctx.query(zone, "NS")
    if not isinstance(outcome, Answer) or outcome.cnames:
        return None
    return _named(zone, outcome)


def _named(zone: str, outcome: Outcome) -> ZoneHost | None:
    """The ZoneHost for `zone` from its NS answer; None for the root or a top-level domain
    (a name that no delegated zone holds: nobody hosts it) or an empty NS set."""
    if zone.count(".") < 2 or not isinstance(outcome, Answer):
        return None
    nameservers = tuple(
        sorted({absolute(str(r.target)) for r in outcome.rdatas if hasattr(r, "target")})
    )
    if not nameservers:
        return None
    host = match(nameservers)
    return ZoneHost(
        id=host.id,
        name=None if host.id == OTHER else host.name,
        nameservers=nameservers,
        zone=zone,
    )


def _parent(name: str) -> str | None:
    """`b.example.` for `a.b.example.`; None above a top-level domain."""
    labels = name.rstrip(".").split(".")
    return absolute(".".join(labels[1:])) if len(labels) > 1 else None


def _is_ancestor(zone: str, name: str) -> bool:
    """`zone` is `name` or one of its ancestors (both absolute, lower-case)."""
    return name == zone or name.endswith("." + zone) or zone == "."
