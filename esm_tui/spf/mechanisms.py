"""The DNS side of one RFC 7208 `check_host()` evaluation: its queries, the §4.6.4 limits,
and the mechanisms that match by asking DNS (a, mx, ptr, exists).

`MechanismLookups` is the base of the evaluation in evaluate.py, which walks the records
(terms in order, include, redirect, macros, exp=) and stops at the first match. Here a DNS
error in a mechanism ends the evaluation in temperror (§5); PTR lookups of `ptr` and the
`p` macro skip errors instead (§5.5).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Protocol

import dns.name

from esm_tui.dns import Answer, Failure, Outcome, eager
from esm_tui.spf.macros import presentation
from esm_tui.spf.parse import Mechanism

#: The labels of the root name: a null MX (RFC 7505) names it.
_ROOT = dns.name.root.labels

#: §4.6.4: at most 10 MX or PTR names per mechanism.
MAX_NAMES = 10

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Resolver(Protocol):
    """What check_host() asks DNS through: an `esm_tui.dns.Dns` or a `CheckContext`."""

    async def query(self, name: str, rdtype: str) -> Outcome: ...


class Stop(Exception):
    """Internal: a permerror or temperror that ends the whole evaluation (§4.6.4, §5)."""

    def __init__(self, result: str, reason: str, chain: Sequence[str] = ()) -> None:
        super().__init__(reason)
        self.result = result
        self.reason = reason
        self.chain = list(chain)


class MechanismLookups:
    """One evaluation's queries (each answer logged), its lookup counters, and the
    mechanisms that match by DNS."""

    def __init__(self, resolver: Resolver, ip: IpAddress, max_lookups: int, max_void: int) -> None:
        self.resolver = resolver
        self.ip = ip
        self.max_lookups = max_lookups
        self.max_void = max_void
        self.lookups = 0
        self.voids = 0
        #: Every answer this evaluation used, in order (an include's slice is its memo's).
        self._log: list[tuple[str, str, Outcome]] = []

    async def query(self, name: str | dns.name.Name, rdtype: str) -> Outcome:
        """Names we built are plain text; names from DNS (MX, PTR targets) stay Name
        objects until here, so no escaping is lost or doubled."""
        text = dns_text(name)
        outcome = await self.resolver.query(text, rdtype)
        self._log.append((text, rdtype, outcome))
        return outcome

    def count(self, term: str) -> None:
        self.lookups += 1
        if self.lookups > self.max_lookups:
            reason = f"{term}: more than {self.max_lookups} DNS-querying terms (§4.6.4)"
            raise Stop("permerror", reason, [term])

    def void(self, term: str) -> None:
        self.voids += 1
        if self.voids > self.max_void:
            reason = f"{term}: more than {self.max_void} void lookups (§4.6.4)"
            raise Stop("permerror", reason, [term])

    async def addresses(
        self, name: str | dns.name.Name, term: str, *, void: bool
    ) -> list[IpAddress]:
        """A or AAAA (by the client's family) of `name`; a DNS error is a temperror."""
        rdtype = "A" if self.ip.version == 4 else "AAAA"
        outcome = await self.query(name, rdtype)
        if isinstance(outcome, Failure):
            raise _dns_error(term, outcome)
        if not isinstance(outcome, Answer):
            if void:
                self.void(term)
            return []
        return [ipaddress.ip_address(r.address) for r in outcome.rdatas]

    def in_range(self, addresses: list[IpAddress], mechanism: Mechanism) -> bool:
        length = mechanism.cidr4 if self.ip.version == 4 else mechanism.cidr6
        for address in addresses:
            width = address.max_prefixlen if length is None else length
            if self.ip in ipaddress.ip_network(f"{address}/{width}", strict=False):
                return True
        return False

    async def match_a(self, mechanism: Mechanism, target: str) -> bool:
        found = await self.addresses(target, mechanism.text, void=True)
        return self.in_range(found, mechanism)

    async def match_mx(self, mechanism: Mechanism, target: str) -> bool:
        outcome = await self.query(target, "MX")
        if isinstance(outcome, Failure):
            raise _dns_error(mechanism.text, outcome)
        if not isinstance(outcome, Answer):
            self.void(mechanism.text)
            return False
        if len(outcome.rdatas) > MAX_NAMES:
            reason = (
                f"{mechanism.text}: {target} has {len(outcome.rdatas)} MX records, "
                f"over the limit of {MAX_NAMES} (§4.6.4)"
            )
            raise Stop("permerror", reason, [mechanism.text])
        ordered = sorted(outcome.rdatas, key=lambda r: (r.preference, r.exchange))
        # RFC 7505 null MX ("0 .") names no host: nothing to look up.
        hosts = [r.exchange for r in ordered if r.exchange.labels != _ROOT]
        found = await eager.gather(
            *(self.addresses(h, mechanism.text, void=False) for h in hosts), return_exceptions=True
        )
        for addresses in found:  # in preference order, as a sequential evaluation would see them
            if isinstance(addresses, BaseException):
                raise addresses
            if self.in_range(addresses, mechanism):
                return True
        return False

    async def ptr_names(self, term: str | None) -> list[dns.name.Name] | None:
        """The first 10 PTR names of the client address, or None after a DNS error."""
        outcome = await self.query(self.ip.reverse_pointer, "PTR")
        if isinstance(outcome, Failure):
            return None
        if not isinstance(outcome, Answer):
            if term is not None:
                self.void(term)
            return []
        return [r.target for r in outcome.rdatas][:MAX_NAMES]

    async def validated(self, names: list[dns.name.Name]) -> list[dns.name.Name]:
        """§5.5: the names whose A/AAAA records hold the client address (errors skip a name)."""

        async def check(name: dns.name.Name) -> bool:
            try:
                return self.ip in await self.addresses(name, "ptr", void=False)
            except Stop:
                return False

        verdicts = await eager.gather(*(check(n) for n in names))
        return [n for n, ok in zip(names, verdicts, strict=True) if ok]

    async def match_ptr(self, mechanism: Mechanism, target: str) -> bool:
        names = await self.ptr_names(mechanism.text)
        if not names:
            return False  # includes a failed PTR lookup: "fails to match" (§5.5)
        wanted = target.lower()
        candidates = [n for n in names if is_within(dns_text(n), wanted)]
        return bool(await self.validated(candidates))

    async def match_exists(self, mechanism: Mechanism, target: str) -> bool:
        outcome = await self.query(target, "A")  # always A, whatever the family (§5.7)
        if isinstance(outcome, Failure):
            raise _dns_error(mechanism.text, outcome)
        if not isinstance(outcome, Answer):
            self.void(mechanism.text)
            return False
        return True


def dns_text(name: str | dns.name.Name) -> str:
    """The text form the DNS layer takes: escaped presentation form, no trailing dot."""
    if isinstance(name, dns.name.Name):
        return name.to_text(omit_final_dot=True)
    return presentation(name)


def _dns_error(term: str, outcome: Failure) -> Stop:
    """A DNS error during a mechanism: the topmost check_host() gives temperror (§5)."""
    reason = f"{term}: {outcome.rdtype} lookup of {outcome.name} failed: {outcome.reason}"
    return Stop("temperror", reason, [term])


def is_within(name: str, domain: str) -> bool:
    name = name.lower().rstrip(".")
    domain = domain.lower().rstrip(".")
    return name == domain or name.endswith("." + domain)
