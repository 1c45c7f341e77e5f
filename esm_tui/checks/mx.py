"""The MX check: is there an MX, does every host resolve, does mail go through the relay?

SPEC §4 "MX". Every MX host's A and AAAA are asked at once; the Dns layer shares the
answers between domains that use the same hosts.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass, replace

import dns.name

from esm_tui.checks.context import RETRY_STEP, CheckContext, failure_finding, unknown_result
from esm_tui.dns import Answer, Failure, NoData, NxDomain, Outcome, absolute, eager
from esm_tui.dns.names import name_text
from esm_tui.model import (
    DomainSettings,
    Finding,
    Fix,
    FixRecord,
    RecordResult,
    Severity,
    Status,
    status_from_findings,
)

#: The labels of the root name: a null MX (RFC 7505) names it.
_ROOT = dns.name.root.labels

CHECK = "mx"

CODES: dict[str, str] = {
    "mx.domain-missing": "The domain does not exist (NXDOMAIN).",
    "mx.missing": "No MX record (the relay needs one, even if an A record could receive mail).",
    "mx.no-address": "No MX host resolves to an IPv4 or IPv6 address.",
    "mx.null-mx-mixed": "A null MX is published together with other MX records.",
    "mx.null-mx": "A null MX: the domain declares that it receives no mail.",
    "mx.host-unresolved": "Some MX hosts do not resolve to an address.",
    "mx.ip-target": "An MX target is an IP address instead of a host name.",
    "mx.cname-target": "An MX target is an alias (CNAME).",
    "mx.relay-missing": "[relay] mx is set and no MX host matches it.",
    "mx.relay-bypass": "[relay] mx is set and some MX hosts do not match it.",
    "mx.dns-failure": "A query needed for the verdict could not be answered.",
}


#: Preferences given to the relay hosts in a proposed fix, in the order configured.
_FIX_PREFERENCE_STEP = 10


@dataclass(frozen=True)
class MxHost:
    """One MX target and what its A/AAAA lookups gave."""

    preference: int
    host: str  # as published, absolute (trailing dot)
    addresses: tuple[str, ...] = ()
    resolved: bool | None = None  # None: a lookup failed and no address came back
    cname: bool = False
    failures: tuple[Failure, ...] = ()

    @property
    def is_ip(self) -> bool:
        return _is_ip(self.host)


# -- names and globs --------------------------------------------------------------------


def _norm(name: str) -> str:
    """Case-insensitive, trailing dot ignored (SPEC §4 "Names")."""
    return name.strip().lower().rstrip(".")


@functools.lru_cache(maxsize=1024)  # asked several times per host, for every domain
def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(_norm(host))
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=256)  # the same few [relay] patterns, for every host
def _glob_regex(pattern: str) -> re.Pattern[str]:
    # A "*" label stands for one or more whole labels; any other label is literal.
    parts = [
        r"[^.]+(?:\.[^.]+)*" if label == "*" else re.escape(label)
        for label in _norm(pattern).split(".")
    ]
    return re.compile(r"\.".join(parts))


def matches_relay(host: str, patterns: tuple[str, ...] | list[str]) -> bool:
    """Whether `host` matches one of the `[relay] mx` names/globs (SPEC §4 "Names")."""
    name = _norm(host)
    return any(_glob_regex(p).fullmatch(name) is not None for p in patterns if _norm(p))


def _is_glob(pattern: str) -> bool:
    return "*" in pattern


# -- the check ------------------------------------------------------------------------


async def check(domain: DomainSettings, ctx: CheckContext) -> RecordResult:
    qname = absolute(domain.name)
    outcome = await ctx.query(qname, "MX")
    if isinstance(outcome, Failure):
        result = unknown_result(CHECK, qname, "MX", outcome, null_mx=False, hosts=[])
        return replace(result, fix=Fix((RETRY_STEP,)))
    if isinstance(outcome, NxDomain):
        return _nxdomain(domain, qname)
    if isinstance(outcome, NoData) or not outcome.rdatas:
        return await _no_mail_fix(_no_mx(domain, qname), domain, ctx)
    return await _evaluate(domain, ctx, qname, outcome)


def _nxdomain(domain: DomainSettings, qname: str) -> RecordResult:
    finding = Finding(
        Severity.FAIL,
        "mx.domain-missing",
        f"The domain {domain.name} does not exist (NXDOMAIN): no mail can be delivered to it.",
        "RFC 2308 §2.1",
    )
    steps = (
        f"Check the spelling of {domain.name} in the configuration.",
        "If the name is right, make sure it is registered and delegated to your DNS servers "
        "(the parent zone must list its NS records).",
    )
    return RecordResult(
        check=CHECK,
        status=Status.FAIL,
        summary="the domain does not exist",
        query_name=qname,
        query_type="MX",
        findings=(finding,),
        fix=Fix(steps),
        details={"null_mx": False, "hosts": []},
    )


def _no_mx(domain: DomainSettings, qname: str) -> RecordResult:
    finding = Finding(
        Severity.FAIL,
        "mx.missing",
        f"{domain.name} has no MX record. Senders would fall back to the domain's own A/AAAA "
        "address (the RFC 5321 implicit MX), but the filtering relay needs an MX record that "
        "points to it.",
        "RFC 5321 §5.1",
    )
    return RecordResult(
        check=CHECK,
        status=Status.FAIL,
        summary="no MX record",
        query_name=qname,
        query_type="MX",
        findings=(finding,),
        fix=_relay_fix(domain, "Publish MX records for the domain that point to the relay."),
        details={"null_mx": False, "hosts": []},
    )


async def _no_mail_fix(
    result: RecordResult, domain: DomainSettings, ctx: CheckContext
) -> RecordResult:
    """No MX, and an SPF record that authorizes nobody: the domain says it sends no mail;
    the null MX (RFC 7505) says it receives none either (issue 18 item 5). With the relay
    expected for it, that stays the fix, the null MX the alternative."""
    from esm_tui.checks.dmarc.mail_use import sends_no_mail

    why = await sends_no_mail(domain.name, ctx)
    if why is None:
        return result
    name = absolute(domain.name)
    step = (
        f"{domain.name} sends no mail ({why}): publish {name} MX 0 . (a null MX, RFC 7505) "
        "so that senders know it receives none either; with DMARC p=reject."
    )
    if domain.relay_mx and result.fix is not None:
        return replace(result, fix=replace(result.fix, steps=(*result.fix.steps, "Or: " + step)))
    return replace(result, fix=Fix((step,), FixRecord(name, "MX", "0 .")))


async def _evaluate(
    domain: DomainSettings, ctx: CheckContext, qname: str, answer: Answer
) -> RecordResult:
    entries = sorted(
        ((r.preference, r.exchange) for r in answer.rdatas),
        key=lambda e: (e[0], name_text(e[1]).lower()),
    )
    # `labels == (b"",)`: the root, without Name.__eq__'s general (and slow) comparison.
    null_entries = [e for e in entries if e[1].labels == _ROOT]
    targets = [(pref, name_text(name)) for pref, name in entries if name.labels != _ROOT]
    hosts = await _resolve_all(ctx, targets)

    findings: list[Finding] = []
    # Answers we could not get, with the worst severity their real answer could have added.
    pending: list[tuple[Failure, Severity]] = []

    if null_entries and targets:
        findings.append(
            Finding(
                Severity.FAIL,
                "mx.null-mx-mixed",
                f'{domain.name} publishes a null MX ("0 .", no mail accepted) together with '
                f"{len(targets)} other MX record(s); RFC 7505 forbids mixing them and senders "
                "may treat the domain as receiving no mail.",
                "RFC 7505 §3",
            )
        )
    elif null_entries:
        findings.append(
            Finding(
                Severity.WARN,
                "mx.null-mx",
                f'{domain.name} publishes a null MX ("0 ."): it declares that it receives '
                "no mail at all.",
                "RFC 7505 §3",
            )
        )

    findings.extend(_target_findings(hosts))
    pending.extend(_resolution_verdict(domain, hosts, findings))
    findings.extend(_relay_findings(domain, hosts, bool(null_entries)))

    status, findings = _settle(findings, pending)
    null_only = bool(null_entries) and not targets
    return RecordResult(
        check=CHECK,
        status=status,
        summary=_summary(hosts, null_only, status),
        query_name=qname,
        query_type="MX",
        records=tuple(answer.values()),
        ttl=answer.ttl,
        findings=tuple(findings),
        fix=_fix(domain, findings, hosts),
        details={
            "null_mx": bool(null_entries),
            "hosts": [
                {"preference": h.preference, "host": h.host, "addresses": list(h.addresses)}
                for h in hosts
            ],
        },
    )


async def _resolve_all(ctx: CheckContext, targets: list[tuple[int, str]]) -> list[MxHost]:
    unique = list(dict.fromkeys(_norm(host) for _, host in targets))
    lookups = await eager.gather(*(_resolve(ctx, name) for name in unique))
    by_name = dict(zip(unique, lookups, strict=True))
    hosts = []
    for preference, host in targets:
        addresses, resolved, cname, failures = by_name[_norm(host)]
        hosts.append(MxHost(preference, host, addresses, resolved, cname, failures))
    return hosts


async def _resolve(
    ctx: CheckContext, name: str
) -> tuple[tuple[str, ...], bool | None, bool, tuple[Failure, ...]]:
    """A and AAAA of one host: (addresses, resolved, is a CNAME, failed lookups)."""
    outcomes: list[Outcome] = list(
        await eager.gather(ctx.query(name + ".", "A"), ctx.query(name + ".", "AAAA"))
    )
    addresses: list[str] = []
    failures: list[Failure] = []
    cname = False
    for outcome in outcomes:
        if isinstance(outcome, Failure):
            failures.append(outcome)
            continue
        # A followed CNAME shows in any outcome, so no separate CNAME query is needed.
        cname = cname or bool(outcome.cnames)
        if isinstance(outcome, Answer):
            addresses.extend(outcome.values())
    if addresses:
        resolved: bool | None = True
    elif failures:
        resolved = None
    else:
        resolved = False
    return tuple(addresses), resolved, cname, tuple(failures)


def _target_findings(hosts: list[MxHost]) -> list[Finding]:
    findings = []
    for host in hosts:
        if host.is_ip:
            findings.append(
                Finding(
                    Severity.WARN,
                    "mx.ip-target",
                    f"The MX target {host.host} is an IP address; an MX must name a host. "
                    "Senders look it up as a host name, which normally fails.",
                    "RFC 1035 §3.3.9",
                )
            )
        if host.cname:
            findings.append(
                Finding(
                    Severity.WARN,
                    "mx.cname-target",
                    f"The MX target {host.host} is an alias (CNAME); an MX must point to the "
                    "canonical host name, and some senders refuse aliases.",
                    "RFC 2181 §10.3",
                )
            )
    return findings


def _resolution_verdict(
    domain: DomainSettings, hosts: list[MxHost], findings: list[Finding]
) -> list[tuple[Failure, Severity]]:
    """Add the resolution findings; return the failed lookups that could change them."""
    if not hosts:
        return []
    resolved = [h for h in hosts if h.resolved is True]
    dead = [h for h in hosts if h.resolved is False]
    unsure = [h for h in hosts if h.resolved is None]
    failures = [f for h in unsure for f in h.failures]
    if not resolved and not unsure:
        findings.append(
            Finding(
                Severity.FAIL,
                "mx.no-address",
                f"None of the MX hosts of {domain.name} resolves to an address "
                f"({_names(dead)}): mail to the domain cannot be delivered.",
                "RFC 5321 §5.1",
            )
        )
        return []
    if dead:
        findings.append(
            Finding(
                Severity.WARN,
                "mx.host-unresolved",
                f"MX host(s) {_names(dead)} do not resolve to an address; senders skip them "
                "and delay mail while they try.",
                "RFC 5321 §5.1",
            )
        )
    if not unsure:
        return []
    # Could an unanswered host have made the verdict worse? Without any resolving host, its
    # answer decides between "no address" (fail) and fine; otherwise at most a warning.
    worst = Severity.WARN if resolved else Severity.FAIL
    return [(f, worst) for f in failures]


def _relay_findings(domain: DomainSettings, hosts: list[MxHost], null_mx: bool) -> list[Finding]:
    patterns = tuple(p for p in domain.relay_mx if _norm(p))
    if not patterns:
        return []
    expected = ", ".join(patterns)
    matching = [h for h in hosts if matches_relay(h.host, patterns)]
    others = [h for h in hosts if not matches_relay(h.host, patterns)]
    if not matching:
        what = "a null MX" if null_mx and not hosts else f"MX host(s) {_names(hosts)}"
        return [
            Finding(
                Severity.FAIL,
                "mx.relay-missing",
                f"{domain.name} has {what}, none of which is the relay ({expected}): "
                "mail does not pass through the filter.",
                "RFC 5321 §5.1",
            )
        ]
    if others:
        return [
            Finding(
                Severity.WARN,
                "mx.relay-bypass",
                f"MX host(s) {_names(others)} are not the relay ({expected}); senders may "
                "deliver there and bypass the filter.",
                "RFC 5321 §5.1",
            )
        ]
    return []


def _names(hosts: list[MxHost]) -> str:
    return ", ".join(dict.fromkeys(h.host for h in hosts))


def _settle(
    findings: list[Finding], pending: list[tuple[Failure, Severity]]
) -> tuple[Status, list[Finding]]:
    """SPEC §4 "Precisely": a fail stands; a verdict an unanswered query could change is unknown."""
    status = status_from_findings(findings)
    if not pending:
        return status, findings
    could_add = Severity.FAIL if any(s == Severity.FAIL for _, s in pending) else Severity.WARN
    notes = [failure_finding(CHECK, failure) for failure, _ in pending]
    if status == Status.FAIL or (could_add == Severity.WARN and status == Status.WARN):
        # The verdict holds whatever the answers would have been: keep the failures as notes.
        return status, findings + [replace(n, severity=Severity.INFO) for n in notes]
    return Status.UNKNOWN, findings + notes


def _summary(hosts: list[MxHost], null_only: bool, status: Status) -> str:
    if null_only:
        return "null MX: the domain receives no mail"
    count = len(hosts)
    resolving = sum(1 for h in hosts if h.resolved)
    # The first host, and how many others: `2 MX hosts (mx1…)` read as if it named both.
    names = list(dict.fromkeys(h.host for h in hosts))
    shown = names[0] + (f" +{len(names) - 1}" if len(names) > 1 else "") if names else ""
    noun = "host" if count == 1 else "hosts"
    if status == Status.UNKNOWN:
        return f"{count} MX {noun}; some lookups failed"
    if resolving == count:
        return f"{count} MX {noun} ({shown}), all resolve"
    return f"{count} MX {noun} ({shown}), {resolving} resolve"


# -- fixes ----------------------------------------------------------------------------


def _relay_records(domain: DomainSettings) -> list[FixRecord]:
    names = [p for p in domain.relay_mx if _norm(p) and not _is_glob(p)]
    return [
        FixRecord(absolute(domain.name), "MX", f"{(i + 1) * _FIX_PREFERENCE_STEP} {absolute(n)}")
        for i, n in enumerate(names)
    ]


def relay_records(domain: DomainSettings) -> list[FixRecord]:
    """Every MX record the relay fix publishes (its `Fix.record` is the first of them):
    esm_tui.hosts gives the DNS host's steps for the whole set."""
    return _relay_records(domain)


def _relay_fix(domain: DomainSettings, first_step: str) -> Fix:
    records = _relay_records(domain)
    if records:
        listed = "; ".join(f"{r.name} MX {r.value}" for r in records)
        return Fix(
            (first_step, f"Publish: {listed}.", "Remove every other MX record."),
            records[0],
        )
    return Fix(
        (
            first_step,
            "Use the relay host names from the e-securemail activation guide, e.g. "
            f"{absolute(domain.name)} MX 10 <relay host>.",
        )
    )


def _fix(domain: DomainSettings, findings: list[Finding], hosts: list[MxHost]) -> Fix | None:
    codes = {f.code for f in findings if f.severity != Severity.INFO}
    if not codes:
        return None
    steps: list[str] = []
    record: FixRecord | None = None
    if "mx.null-mx-mixed" in codes:
        steps.append('Remove the null MX record ("0 .") or every other MX record.')
    if {"mx.relay-missing", "mx.relay-bypass"} & codes:
        relay = _relay_fix(domain, "Point the domain's MX records at the relay.")
        steps.extend(relay.steps)
        record = relay.record
    elif "mx.null-mx" in codes:
        steps.append(
            'If the domain should receive mail, replace the null MX ("0 .") with MX records '
            "for your mail hosts."
        )
    if {"mx.no-address", "mx.host-unresolved"} & codes:
        dead = [h.host for h in hosts if h.resolved is False]
        steps.append(
            f"Give {', '.join(dict.fromkeys(dead))} A/AAAA records, or remove the MX "
            "records that point to them."
        )
    if "mx.ip-target" in codes:
        steps.append("Replace IP-address MX targets with a host name that has A/AAAA records.")
    if "mx.cname-target" in codes:
        aliases = [h.host for h in hosts if h.cname]
        steps.append(
            f"Point the MX records at the canonical names of {', '.join(dict.fromkeys(aliases))} "
            "instead of the aliases."
        )
    if not steps:
        steps.append(RETRY_STEP)
    return Fix(tuple(steps), record)
