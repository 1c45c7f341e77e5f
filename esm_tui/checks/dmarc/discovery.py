"""Where the DMARC record of a domain comes from: RFC 9989 §4.10 discovery.

Discovery asks `_dmarc.DOMAIN`, then walks the DNS tree over the parent domains up to and
including the TLD (never the root), at most 8 queries in all. When the domain has no record
of its own, the Organizational Domain chosen by §4.10.2 supplies it (or, failing that, a
Public Suffix Domain's `psd=y` record), applied through `sp`/`np`.

`discover()` is public: the BIMI check uses it too. The Dns cache makes a second
`discover()` of the same domain cost no queries.

esm-tui has no public suffix list: `organizational_domain()` determines a name's
Organizational Domain with the §4.10.2 tree walk itself, which is what RFC 9989 receivers
do (report_auth.py needs it for external report addresses).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from esm_tui.checks.context import CheckContext
from esm_tui.checks.dmarc.parse import (
    DmarcRecord,
    DmarcSyntaxError,
    parse_dmarc,
    starts_with_dmarc1,
)
from esm_tui.dns import Answer, Failure, NxDomain, Outcome, eager
from esm_tui.once import once

#: RFC 9989 §4.10: "Author Domains with more than eight labels do not result in more than
#: eight DNS queries."
MAX_QUERIES = 8


@dataclass(frozen=True)
class Lookup:
    """One `_dmarc` TXT query of a discovery: the outcome and the DMARC records at that name."""

    domain: str  # lower-case, no trailing dot
    outcome: Outcome

    # The views below are cached (the fields are frozen): the checks read them dozens of
    # times per domain.

    @property
    def failed(self) -> bool:
        return isinstance(self.outcome, Failure)

    @once
    def texts(self) -> tuple[str, ...]:
        return tuple(self.outcome.texts()) if isinstance(self.outcome, Answer) else ()

    @once
    def dmarc(self) -> tuple[str, ...]:
        """RFC 9989 §4.10 step 2: only records that start with v=DMARC1 count."""
        return tuple(t for t in self.texts if starts_with_dmarc1(t))

    @once
    def record(self) -> str | None:
        """The DMARC record here, if exactly one (several are all discarded)."""
        found = self.dmarc
        return found[0] if len(found) == 1 else None

    @once
    def psd(self) -> str | None:
        """The psd tag of the record here ("y", "n", "u"), None when absent or unreadable."""
        if self.record is None:
            return None
        try:
            return parse_dmarc(self.record).psd
        except DmarcSyntaxError:
            return None


@dataclass(frozen=True)
class Discovery:
    """Where the DMARC record of a domain comes from (RFC 9989 §4.10.1)."""

    domain: str
    lookups: tuple[Lookup, ...]  # in tree-walk order; lookups[0] is `_dmarc.DOMAIN`
    location: str | None = None
    org_domain: str | None = None
    #: True: the applied record is a Public Suffix Domain's (psd=y).
    from_psd: bool = False
    #: RFC 9989 §3.2.13: False when the domain is NXDOMAIN (np applies); None if unknown.
    domain_exists: bool | None = True
    existence_failure: Failure | None = None

    @property
    def own(self) -> Lookup:
        return self.lookups[0]

    @property
    def inherited(self) -> bool:
        return self.location is not None and self.location != self.domain

    @once
    def record(self) -> str | None:
        if self.location is None:
            return None
        for lookup in self.lookups:
            if lookup.domain == self.location:
                return lookup.record
        return None

    @once
    def parsed(self) -> DmarcRecord | None:
        record = self.record
        if record is None:
            return None
        try:
            return parse_dmarc(record)
        except DmarcSyntaxError:
            return None

    @property
    def error(self) -> DmarcSyntaxError | None:
        record = self.record
        if record is None:
            return None
        try:
            parse_dmarc(record)
        except DmarcSyntaxError as exc:
            return exc
        return None

    @property
    def failures(self) -> tuple[Failure, ...]:
        """The tree-walk queries that went unanswered: the discovery may be incomplete."""
        return tuple(x.outcome for x in self.lookups if isinstance(x.outcome, Failure))

    @property
    def complete(self) -> bool:
        return not self.failures


def _labels(name: str) -> list[str]:
    return [label for label in name.lower().rstrip(".").split(".") if label]


def tree_walk(domain: str) -> list[str]:
    """The names RFC 9989 §4.10 queries for `domain`, the domain first, the TLD last.

    A name of more than 8 labels jumps from itself to its last 7 labels, so there are never
    more than 8 names (the root is never asked).
    """
    labels = _labels(domain)
    if not labels:
        return []
    names = [".".join(labels)]
    count = len(labels)
    first_parent = min(count - 1, MAX_QUERIES - 1)
    for size in range(first_parent, 0, -1):
        names.append(".".join(labels[-size:]))
    return names


async def _lookup(ctx: CheckContext, domain: str) -> Lookup:
    return Lookup(domain, await ctx.query(f"_dmarc.{domain}.", "TXT"))


async def _walk(ctx: CheckContext, names: Sequence[str]) -> list[Lookup]:
    """Ask the names at once, then keep them in order up to the first psd=y/psd=n record."""
    lookups = await eager.gather(*(_lookup(ctx, name) for name in names))
    kept: list[Lookup] = []
    for lookup in lookups:
        kept.append(lookup)
        if lookup.psd in ("y", "n"):
            break  # §4.10 step 6: a psd tag stops the walk
    return kept


def _org_domain(start: str, lookups: Sequence[Lookup]) -> tuple[str, Lookup | None]:
    """RFC 9989 §4.10.2: the Organizational Domain of `start`, and a psd=y record if met.

    `lookups` is the tree walk from `start` (included, first).
    """
    found = [x for x in lookups if x.record is not None]
    for lookup in found:  # longest name first
        if lookup.psd == "n":
            return lookup.domain, None
        if lookup.psd == "y" and lookup.domain != start:
            labels = _labels(start)
            below = ".".join(labels[-(len(_labels(lookup.domain)) + 1) :])
            return below, lookup
    if found:
        return found[-1].domain, None  # the record with the fewest labels
    return start, None


async def discover(domain_name: str, ctx: CheckContext) -> Discovery:
    """Find the DMARC record that applies to `domain_name` (RFC 9989 §4.10.1)."""
    names = tree_walk(domain_name)
    if not names:
        return Discovery(
            domain_name, (Lookup(domain_name, Failure(domain_name, "TXT", "empty name")),)
        )
    domain = names[0]
    own = await _lookup(ctx, domain)
    if own.failed or own.record is not None:
        # Own record: it applies as it is. Own query failed: nothing can be decided.
        location = domain if own.record is not None else None
        return Discovery(domain, (own,), location=location)
    walked = [own, *await _walk(ctx, names[1:])]
    org, psd_lookup = _org_domain(domain, walked)
    chosen = next((x for x in walked if x.domain == org and x.record is not None), None)
    if chosen is None and psd_lookup is not None:
        chosen = psd_lookup
    if chosen is None:
        return Discovery(domain, tuple(walked), org_domain=org)
    exists, failure = await _existence(ctx, domain, chosen)
    return Discovery(
        domain,
        tuple(walked),
        location=chosen.domain,
        org_domain=org,
        from_psd=chosen is psd_lookup,
        domain_exists=exists,
        existence_failure=failure,
    )


async def _existence(
    ctx: CheckContext, domain: str, chosen: Lookup
) -> tuple[bool | None, Failure | None]:
    """Whether the domain exists, when `np` would make a difference (RFC 9989 §4.10.1)."""
    try:
        record = parse_dmarc(chosen.record or "")
    except DmarcSyntaxError:
        return True, None
    if "np" not in record:
        return True, None
    # Any answer but NXDOMAIN means the name exists (RFC 9989 Appendix A.4); the MX check
    # asks the same question, so the cache answers it.
    outcome = await ctx.query(f"{domain}.", "MX")
    if isinstance(outcome, Failure):
        return None, outcome
    return not isinstance(outcome, NxDomain), None


async def organizational_domain(name: str, ctx: CheckContext) -> tuple[str, tuple[Failure, ...]]:
    """The RFC 9989 §4.10.2 Organizational Domain of `name`, with any unanswered queries.

    This is what esm-tui uses instead of a public suffix list: the tree walk itself.
    """
    names = tree_walk(name)
    if not names:
        return name, ()
    lookups = await _walk(ctx, names)
    org, _ = _org_domain(names[0], lookups)
    return org, tuple(x.outcome for x in lookups if isinstance(x.outcome, Failure))
