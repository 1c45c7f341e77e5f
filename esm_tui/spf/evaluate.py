"""RFC 7208 §4 `check_host()`: evaluate an SPF record for one client address, as a receiver.

All DNS goes through the resolver given (an `esm_tui.dns.Dns` or a `CheckContext`): a
`Failure` outcome is a DNS error, so the evaluation returns `temperror` (§4.4, §5) except
where the RFC says otherwise (PTR lookups of the `ptr` mechanism, the `p` macro and the
explanation fetch all skip or ignore errors). Limits follow §4.6.4: at most 10 terms that
query DNS, at most 10 MX or PTR names per term, at most 2 void lookups.

The records are walked here (terms in order, include, redirect, macros, exp=); the
queries, the counters and the mechanisms that match by DNS are in mechanisms.py.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from esm_tui.dns import Answer, Failure, NoData, NxDomain, Outcome
from esm_tui.spf.errors import SpfSyntaxError, quote
from esm_tui.spf.macros import (
    MacroEnv,
    MacroString,
    expand,
    parse_macro_string,
    query_name,
    valid_initial_domain,
)
from esm_tui.spf.mechanisms import (
    IpAddress,
    MechanismLookups,
    Resolver,
    Stop,
    dns_text,
    is_within,
)
from esm_tui.spf.parse import Mechanism, SpfRecord, is_spf_record, parse_spf

RESULTS = ("none", "neutral", "pass", "fail", "softfail", "temperror", "permerror")
MAX_LOOKUPS = 10
MAX_VOID_LOOKUPS = 2


#: Include evaluations remembered: (target, client address) → what `_Evaluation.include`
#: needs to replay one (see `_Memo`). Bounded: cleared when full.
_MEMO: dict[tuple[str, IpAddress], _Memo] = {}
MEMO_MAX = 4096


@dataclass(frozen=True)
class _Memo:
    """How `include:target` evaluated for one client address, and what it rested on.

    Kept only for an evaluation that expanded no macro and stopped nothing (no error, no
    limit): its result is then a function of the address and the DNS answers alone. It
    is replayed only while the resolver still holds the very same answers (`log`, by
    identity: an answer re-asked after its cache entry expired is a new object), and
    only if its lookups and void lookups still fit under the limits where it is
    replayed; otherwise the include is evaluated afresh, which also finds the exact term
    where a limit is crossed. At 1,000 domains that all include the same providers this
    turned ~9,000 include evaluations into lookups (profiled: check_host was ~17 % of
    the CPU time of a bulk check).
    """

    decision: _Decision
    log: tuple[tuple[str, str, Outcome], ...]
    lookups: int
    voids: int


@dataclass(frozen=True)
class SpfResult:
    """What check_host() decided, why, and the chain of terms that decided it."""

    result: str
    domain: str
    ip: str
    chain: tuple[str, ...] = ()
    reason: str = ""
    #: The exp= explanation (§6.2) when the result is fail and one could be had; else None.
    explanation: str | None = None
    dns_lookups: int = 0
    void_lookups: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "result": self.result,
            "domain": self.domain,
            "ip": self.ip,
            "chain": list(self.chain),
            "reason": self.reason,
            "explanation": self.explanation,
            "dns_lookups": self.dns_lookups,
            "void_lookups": self.void_lookups,
        }


def client_address(ip: str | IpAddress) -> IpAddress:
    """The address as check_host sees it: an IPv4-mapped IPv6 address is IPv4 (§5)."""
    address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def spf_identity(mail_from: str, helo: str) -> tuple[str, str]:
    """(sender, domain) for a MAIL FROM: a null reverse-path checks postmaster@HELO (§2.4);
    a missing local-part becomes "postmaster" (§4.3)."""
    if not mail_from:
        return f"postmaster@{helo}", helo
    local, at, domain = mail_from.rpartition("@")
    if not at:
        return f"postmaster@{mail_from}", mail_from
    return f"{local or 'postmaster'}@{domain}", domain


async def check_host(
    ip: str | IpAddress,
    domain: str,
    sender: str,
    helo: str,
    resolver: Resolver,
    *,
    receiver: str = "unknown",
    max_lookups: int = MAX_LOOKUPS,
    max_void_lookups: int = MAX_VOID_LOOKUPS,
) -> SpfResult:
    """RFC 7208 check_host(<ip>, <domain>, <sender>) with HELO `helo` (for %{h})."""
    evaluation = _Evaluation(
        resolver, client_address(ip), sender, helo, receiver, max_lookups, max_void_lookups
    )
    return await evaluation.run(domain[:-1] if domain.endswith(".") else domain)


@dataclass
class _Decision:
    result: str
    reason: str
    chain: list[str] = field(default_factory=list)
    #: The record whose own term decided (through redirects, not includes): its exp= applies.
    record: SpfRecord | None = None
    domain: str = ""


class _Evaluation(MechanismLookups):
    """One check_host() run: the records term by term, include (remembered across runs, see
    `_Memo`) and redirect, macros, and the exp= explanation of a fail."""

    def __init__(
        self,
        resolver: Resolver,
        ip: IpAddress,
        sender: str,
        helo: str,
        receiver: str,
        max_lookups: int,
        max_void: int,
    ) -> None:
        super().__init__(resolver, ip, max_lookups, max_void)
        self.sender = sender
        self.helo = helo
        self.receiver = receiver
        self._validated: dict[str, str] = {}
        #: Macro expansions so far: an include that made none can be remembered.
        self._macros = 0
        #: The resolver's `peek` (the cached answer, without asking), if it has one:
        #: without it nothing is remembered.
        self._peek: Callable[[str, str], Outcome | None] | None = getattr(resolver, "peek", None)

    async def run(self, domain: str) -> SpfResult:
        if not valid_initial_domain(domain):
            decision = _Decision("none", f"{quote(domain)} is not a valid domain name (§4.3)")
        else:
            try:
                decision = await self.check_host(domain, via=None)
            except Stop as stop:
                decision = _Decision(stop.result, stop.reason, stop.chain)
        explanation = await self.explain(decision) if decision.result == "fail" else None
        return SpfResult(
            decision.result,
            domain,
            str(self.ip),
            tuple(decision.chain),
            decision.reason,
            explanation,
            self.lookups,
            self.voids,
        )

    # -- records ---------------------------------------------------------------------------

    async def check_host(self, domain: str, via: str | None) -> _Decision:
        record = await self.record(domain, via)
        if isinstance(record, str):
            return _Decision("none", record, domain=domain)
        env = self.env(domain)
        for mechanism in record.mechanisms:
            matched, inner = await self.matches(mechanism, domain, env)
            if matched:
                reason = f"{mechanism.text} matched in the record of {domain}"
                return _Decision(mechanism.result, reason, [mechanism.text, *inner], record, domain)
        redirect = record.redirect
        if redirect is None:
            reason = f"no mechanism of {domain} matched and there is no redirect: neutral (§4.7)"
            return _Decision("neutral", reason, [], record, domain)
        self.count(redirect.text)
        target = await self.target(redirect.value, env)
        if target is None:
            raise Stop("permerror", f"{redirect.text}: not a valid domain name (§6.1)", [])
        try:
            decision = await self.check_host(target, via=redirect.text)
        except Stop as stop:
            raise Stop(stop.result, stop.reason, [redirect.text, *stop.chain]) from None
        if decision.result == "none":
            reason = (
                f"{redirect.text}: {decision.reason}; "
                "a redirect to a domain without SPF is a permerror (§6.1)"
            )
            raise Stop("permerror", reason, [redirect.text])
        decision.chain.insert(0, redirect.text)
        return decision

    async def record(self, domain: str, via: str | None) -> SpfRecord | str:
        """The one SPF record of `domain`, or the reason there is none (§4.4, §4.5)."""
        outcome = await self.query(domain, "TXT")
        if isinstance(outcome, Failure):
            raise Stop("temperror", f"TXT lookup of {domain} failed: {outcome.reason}")
        if isinstance(outcome, (NxDomain, NoData)):
            if via is not None:
                self.void(via)
            what = "does not exist (NXDOMAIN)" if isinstance(outcome, NxDomain) else "has no TXT"
            return f"{domain} {what}"
        texts = outcome.raw_texts
        spf = [t for t in texts if is_spf_record(t)]
        if not spf:
            return f"{domain} has no v=spf1 record among its {len(texts)} TXT record(s)"
        if len(spf) > 1:
            reason = f"{domain} has {len(spf)} SPF records; more than one is a permerror (§4.5)"
            raise Stop("permerror", reason)
        try:
            return parse_spf(spf[0])
        except SpfSyntaxError as exc:
            raise Stop("permerror", f"syntax error in the SPF record of {domain}: {exc}") from None

    # -- mechanisms ------------------------------------------------------------------------

    async def matches(
        self, mechanism: Mechanism, domain: str, env: MacroEnv
    ) -> tuple[bool, list[str]]:
        name = mechanism.name
        if name == "all":
            return True, []
        if name in ("ip4", "ip6"):
            network = mechanism.network
            return network is not None and self.ip in network, []
        self.count(mechanism.text)
        target = domain
        if mechanism.domain_spec is not None:
            target = await self.target(mechanism.domain_spec, env)  # type: ignore[assignment]
        if name == "include":
            return await self.include(mechanism, target)
        if target is None:
            return False, []  # a name no query can be made for: no match (see query_name)
        if name == "a":
            return await self.match_a(mechanism, target), []
        if name == "mx":
            return await self.match_mx(mechanism, target), []
        if name == "ptr":
            return await self.match_ptr(mechanism, target), []
        return await self.match_exists(mechanism, target), []

    async def include(self, mechanism: Mechanism, target: str | None) -> tuple[bool, list[str]]:
        if target is None:
            reason = f"{mechanism.text}: not a valid domain name (§5.2)"
            raise Stop("permerror", reason, [mechanism.text])
        decision = self.remembered(target)
        if decision is None:
            log, macros, lookups, voids = len(self._log), self._macros, self.lookups, self.voids
            try:
                decision = await self.check_host(target, via=mechanism.text)
            except Stop as stop:
                raise Stop(stop.result, stop.reason, [mechanism.text, *stop.chain]) from None
            if self._peek is not None and self._macros == macros:
                self.remember(
                    target,
                    decision,
                    self._log[log:],
                    self.lookups - lookups,
                    self.voids - voids,
                )
        if decision.result == "none":
            reason = (
                f"{mechanism.text}: {decision.reason}; "
                "an include of a domain without SPF is a permerror (§5.2)"
            )
            raise Stop("permerror", reason, [mechanism.text])
        return decision.result == "pass", decision.chain

    def env(self, domain: str) -> MacroEnv:
        async def validated_name() -> str:
            return await self.validated_name(domain)

        return MacroEnv(self.sender, domain, self.ip, self.helo, self.receiver, validated_name)

    async def target(self, spec: MacroString, env: MacroEnv) -> str | None:
        if spec.is_static:  # no macro: expanding the text gives the text (§7.3)
            return query_name(spec.literal())
        self._macros += 1
        return query_name(await expand(spec, env))

    # -- remembered includes (see _Memo) ---------------------------------------------------

    def remember(
        self,
        target: str,
        decision: _Decision,
        log: list[tuple[str, str, Outcome]],
        lookups: int,
        voids: int,
    ) -> None:
        if len(_MEMO) >= MEMO_MAX:
            _MEMO.clear()
        chain = list(decision.chain)  # a copy: the caller's redirect path may extend its own
        kept = _Decision(decision.result, decision.reason, chain, decision.record, decision.domain)
        _MEMO[(target, self.ip)] = _Memo(kept, tuple(log), lookups, voids)

    def remembered(self, target: str) -> _Decision | None:
        """The include's decision replayed from `_MEMO`, its lookups counted; or None."""
        peek = self._peek
        memo = _MEMO.get((target, self.ip)) if peek is not None else None
        if memo is None:
            return None
        if (
            self.lookups + memo.lookups > self.max_lookups
            or self.voids + memo.voids > self.max_void
        ):
            return None  # a limit falls inside: evaluated afresh, to stop at the right term
        for name, rdtype, outcome in memo.log:
            if peek(name, rdtype) is not outcome:  # type: ignore[misc]
                return None
        self.lookups += memo.lookups
        self.voids += memo.voids
        self._log.extend(memo.log)  # an enclosing include rests on these answers too
        kept = memo.decision
        return _Decision(kept.result, kept.reason, list(kept.chain), kept.record, kept.domain)

    async def validated_name(self, domain: str) -> str:
        """§7.2 `p`: a validated name of the client, preferring <domain> and its subdomains."""
        if domain not in self._validated:
            names = await self.ptr_names(None) or []
            valid = [dns_text(n) for n in await self.validated(names)]
            wanted = domain.lower()
            ranked = sorted(valid, key=lambda n: (n.lower() != wanted, not is_within(n, wanted)))
            self._validated[domain] = ranked[0] if ranked else "unknown"
        return self._validated[domain]

    async def explain(self, decision: _Decision) -> str | None:
        """§6.2: the exp= text of the record that decided a fail; None whenever it cannot
        be had (no exp, DNS error, no or several TXT records, a syntax error in the text)."""
        record = decision.record
        if record is None or record.exp is None:
            return None
        env = self.env(decision.domain)
        name = await self.target(record.exp.value, env)
        if name is None:
            return None
        outcome = await self.query(name, "TXT")
        if not isinstance(outcome, Answer) or len(outcome.rdatas) != 1:
            return None
        text = b"".join(outcome.rdatas[0].strings).decode("utf-8", "surrogateescape")
        try:
            spec = parse_macro_string(text, spaces=True)
        except SpfSyntaxError:
            return None
        return await expand(spec, env)
