"""What a check gets besides the domain: the DNS layer, scoped to one check run."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from esm_tui.dns import Dns, Failure, Outcome, describe
from esm_tui.model import Finding, RecordResult, Severity, Status

if TYPE_CHECKING:
    from esm_tui.dnssec.anchors import Anchors

#: The fix of an `unknown`: nothing to change in the zone, yet.
RETRY_STEP = (
    "Nothing to change yet: the answer could not be had (the finding says why, and how to "
    "look for yourself); esm-tui asks again on the next check."
)


@dataclass
class CheckContext:
    """Queries for one check run.

    With `fresh` (a user's explicit recheck) the first ask of each (name, type) in this
    run bypasses the cache; later asks in the same run share that fresh answer, so the
    five checks of a domain still ask each name once.
    """

    dns: Dns
    fresh: bool = False
    #: `[settings] trust_anchors` loaded; None: the root's built-in anchors.
    trust_anchors: Anchors | None = None
    #: `[settings] https_port`: the port of the MTA-STS policy servers.
    https_port: int = 443
    _asked: set[tuple[str, str]] = field(default_factory=set)

    def query(self, name: str, rdtype: str) -> Coroutine[Any, Any, Outcome]:
        """`Dns.query`'s coroutine itself (awaited by the caller): no coroutine of our
        own around it, as the checks ask ~30 times per domain, mostly cached answers."""
        if not self.fresh:  # the common case (every bulk check): nothing to remember
            return self.dns.query(name, rdtype)
        key = (name.lower().rstrip("."), rdtype.upper())
        fresh = key not in self._asked
        self._asked.add(key)
        return self.dns.query(name, rdtype, fresh=fresh)

    def peek(self, name: str, rdtype: str) -> Outcome | None:
        """`Dns.peek`; None in a fresh run, whose first ask of a name must be a query."""
        return None if self.fresh else self.dns.peek(name, rdtype)

    def prefetch(self, queries: Iterable[tuple[str, str]]) -> asyncio.Future[None] | None:
        """`Dns.prefetch` (see there); None, asking nothing, in a fresh run, whose first
        ask of each name must bypass the cache."""
        return None if self.fresh else self.dns.prefetch(queries)


def failure_finding(check: str, outcome: Failure) -> Finding:
    """The finding that explains an `unknown`: which query could not be answered, and why."""
    if outcome.reason.startswith("CNAME"):
        # Not transient like a timeout: the zone's aliases point back at each other. Still
        # unknown (a resolver answers SERVFAIL, receivers get a temporary error), but the
        # admin should hear that the fix is in the zone, not "the record may be fine".
        return Finding(
            Severity.WARN,
            f"{check}.dns-failure",
            f"Could not get {outcome.rdtype} {outcome.name}: {describe(outcome)}. Its aliases "
            "(CNAME records) loop or chain too far, so no resolver can answer; fix the CNAME "
            "records. esm-tui will ask again.",
            "RFC 1034 §3.6.2",
        )
    if outcome.reason.startswith(("SERVFAIL", "REFUSED")):
        # The resolver answered: the failure is further on, not "is the resolver reachable".
        name, rdtype = outcome.name, outcome.rdtype
        why = (
            "the resolver could not get an answer from the domain's authoritative servers, "
            "or the answer failed DNSSEC validation"
            if outcome.reason.startswith("SERVFAIL")
            else "the server refused to answer (a resolver that does not serve this "
            "address, or an authoritative server that refuses the query)"
        )
        return Finding(
            Severity.WARN,
            f"{check}.dns-failure",
            f"Could not get {rdtype} {name}: {describe(outcome)}: {why}. To see which: "
            f"`dig +cd {rdtype} {name}` (an answer with +cd only is a DNSSEC failure) and "
            f"`dig @<each NS of the zone> {rdtype} {name}`. The record may be fine; esm-tui "
            "will ask again.",
            "RFC 1035 §4.1.1",
        )
    return Finding(
        Severity.WARN,
        f"{check}.dns-failure",
        f"Could not get {outcome.rdtype} {outcome.name}: {describe(outcome)}. "
        "The record may be fine; esm-tui will ask again.",
        "",
    )


def unknown_result(
    check: str, query_name: str, query_type: str, outcome: Failure, **details: object
) -> RecordResult:
    """A whole record check that could not be decided because a query failed."""
    return RecordResult(
        check=check,
        status=Status.UNKNOWN,
        summary=f"DNS query failed: {outcome.reason}",
        query_name=query_name,
        query_type=query_type,
        findings=(failure_finding(check, outcome),),
        details=dict(details),
    )
