"""The DMARC check (RFC 9989, which obsoletes RFC 7489): discovery, policy, reporting.

Discovery is RFC 9989 §4.10: `_dmarc.DOMAIN`, then the DNS tree walk over the parent
domains up to and including the TLD (never the root), at most 8 queries in all. When the
domain has no record of its own, the Organizational Domain chosen by §4.10.2 supplies it
(or, failing that, a Public Suffix Domain's `psd=y` record), applied through `sp`/`np`.

`discover()` and `effective_policy()` are public: the BIMI check uses them. The Dns cache
makes a second `discover()` of the same domain cost no queries.

External report addresses (RFC 9990 §3.2.3) need the Organizational Domains of the record's
domain and of each address's host. esm-tui has no public suffix list: it determines both
with the RFC 9989 §4.10.2 tree walk itself (`organizational_domain()`), which is what
RFC 9989 receivers do. When such a walk cannot be completed, the authorization record is
asked anyway; only its absence then leaves the verdict open (`unknown`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from esm_tui import eager
from esm_tui.checks.context import RETRY_STEP, CheckContext, failure_finding, unknown_result
from esm_tui.checks.dmarc.parse import (
    DmarcRecord,
    DmarcSyntaxError,
    ReportUri,
    format_record,
    parse_dmarc,
    starts_with_dmarc1,
)
from esm_tui.dns import Answer, Failure, NxDomain, Outcome, absolute
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
from esm_tui.once import once

CHECK = "dmarc"

#: RFC 9989 §4.10: "Author Domains with more than eight labels do not result in more than
#: eight DNS queries."
MAX_QUERIES = 8

REF_FORMAT = "RFC 9989 §4.7"
REF_SYNTAX = "RFC 9989 §4.8"
REF_WALK = "RFC 9989 §4.10"
REF_DISCOVERY = "RFC 9989 §4.10.1"
REF_REMOVED = "RFC 9989 Appendix C.5.2"
REF_PCT = "RFC 9989 Appendix A.6"
# "Verifying External Destinations"; section number as SPEC §4 cites it (draft -32 had it in §4).
REF_EXTERNAL = "RFC 9990 §3.2.3"

CODES: dict[str, str] = {
    "dmarc.missing": "No DMARC record for the domain, nor on a parent domain.",
    "dmarc.record-at-apex": "A DMARC record at the domain apex, where it has no effect.",
    "dmarc.multiple-records": "More than one DMARC record at one name (all are discarded).",
    "dmarc.not-dmarc1": "A record at the _dmarc name does not start with v=DMARC1.",
    "dmarc.invalid-policy": "p, sp or np has a value other than none, quarantine or reject.",
    "dmarc.syntax-error": "The record is not a valid DMARC tag list.",
    "dmarc.policy-none": "The policy that applies to the domain is none (monitoring only).",
    "dmarc.testing": "t=y: receivers apply one policy level less than published.",
    "dmarc.pct-partial": "pct below 100 (ignored by RFC 9989 receivers, honoured by older ones).",
    "dmarc.sp-none": "sp=none leaves subdomains unprotected under a stricter p.",
    "dmarc.no-rua": "No aggregate report address (rua).",
    "dmarc.report-unauthorized": "A report address at another organization has not authorized it.",
    "dmarc.invalid-uri": "A rua/ruf entry is not a valid reporting URI.",
    "dmarc.invalid-value": "A tag other than p/sp/np has an invalid value (its default is used).",
    "dmarc.cname-conflict": "A CNAME and a TXT record at the same _dmarc name.",
    "dmarc.inherited": "The domain has no record of its own; a parent's record applies.",
    "dmarc.removed-tag": "A tag removed by RFC 9989 (pct, rf, ri).",
    "dmarc.unknown-tag": "A tag DMARC does not define (ignored).",
    "dmarc.p-not-second": "p is not directly after v (rejected by some RFC 7489 receivers).",
    "dmarc.p-missing": "No p tag (none for RFC 9989; RFC 7489 receivers ignore the record).",
    "dmarc.uri-size": "A report URI carries the obsolete !size suffix.",
    "dmarc.uri-scheme": "A report URI is not mailto: (receivers may not support it).",
    "dmarc.other-txt": "Other TXT records at the _dmarc name (ignored).",
    "dmarc.psd": "The record declares the domain a public suffix (psd=y).",
    "dmarc.dns-failure": "A query needed for the verdict could not be answered.",
}


_EMPTY_DETAILS: dict[str, object] = {
    "record": None,
    "location": None,
    "p": None,
    "sp": None,
    "np": None,
    "pct": None,
    "rua": [],
    "ruf": [],
}

_ONE_LEVEL_LESS = {"reject": "quarantine", "quarantine": "none", "none": "none"}


# -- discovery ------------------------------------------------------------------------


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


# -- the policy that applies ----------------------------------------------------------


@dataclass(frozen=True)
class EffectivePolicy:
    """The policy receivers apply to the domain, and where it comes from."""

    requested: str | None  # none / quarantine / reject; None: the record gives no policy
    tag: str  # "p", "sp" or "np"
    testing: bool = False  # t=y
    pct: int | None = None
    #: The domain's existence is unknown and sp and np would give different policies.
    uncertain: bool = False
    #: The policy tag was absent (p), or invalid so that RFC 9989 falls back to none.
    defaulted: bool = False

    @property
    def applied(self) -> str | None:
        """With t=y receivers apply one level less (RFC 9989 §4.7 "t")."""
        if self.requested is None:
            return None
        return _ONE_LEVEL_LESS[self.requested] if self.testing else self.requested

    @property
    def enforced(self) -> bool:
        """RFC 9989 §3.2.9: the applied policy is not none."""
        return self.applied in ("quarantine", "reject")


def effective_policy(discovery: Discovery) -> EffectivePolicy | None:
    """The policy for the discovered domain; None when no readable record applies."""
    record = discovery.parsed
    if record is None:
        return None
    testing = record.t == "y"
    if any(record.problem(tag) for tag in ("p", "sp", "np")):
        # RFC 9989 §4.10.1: an invalid p/sp/np means p=none if a rua is usable, else no DMARC.
        fallback = "none" if any(u.valid for u in record.rua) else None
        return EffectivePolicy(fallback, "p", testing, record.pct, defaulted=True)
    if not discovery.inherited:
        return EffectivePolicy(record.p or "none", "p", testing, record.pct, defaulted=not record.p)
    as_existing = _inherited(record, exists=True)
    as_missing = _inherited(record, exists=False)
    if discovery.domain_exists is None:
        tag, policy = as_existing
        uncertain = as_missing[1] != policy
    else:
        tag, policy = as_existing if discovery.domain_exists else as_missing
        uncertain = False
    return EffectivePolicy(policy, tag, testing, record.pct, uncertain, defaulted=not record.p)


def _inherited(record: DmarcRecord, *, exists: bool) -> tuple[str, str]:
    if not exists and record.np:
        return "np", record.np
    if record.sp:
        return "sp", record.sp
    return "p", record.p or "none"


# -- the check ------------------------------------------------------------------------


@dataclass
class _Verdict:
    findings: list[Finding]
    #: Unanswered queries, with the worst severity their answer could have added.
    pending: list[tuple[Failure, Severity]]

    def add(self, severity: Severity, code: str, message: str, ref: str) -> None:
        self.findings.append(Finding(severity, code, message, ref))


async def check(domain: DomainSettings, ctx: CheckContext) -> RecordResult:
    name = domain.name.lower().rstrip(".")
    qname = f"_dmarc.{name}."
    discovery, cname = await eager.gather(discover(name, ctx), ctx.query(qname, "CNAME"))
    own = discovery.own
    if isinstance(own.outcome, Failure):
        result = unknown_result(CHECK, qname, "TXT", own.outcome, **_EMPTY_DETAILS)
        return replace(result, fix=Fix((RETRY_STEP,)))

    verdict = _Verdict([], [])
    _own_name(verdict, discovery, cname)
    policy = effective_policy(discovery)
    if discovery.record is None:
        await _missing(verdict, discovery, ctx)
    else:
        # An unanswered name below the record found might have held the one that applies.
        verdict.pending.extend((f, Severity.FAIL) for f in discovery.failures)
        _record_findings(verdict, discovery, policy)
        await _external_reports(verdict, discovery, ctx)

    status, findings = _settle(verdict)
    outcome = own.outcome
    return RecordResult(
        check=CHECK,
        status=status,
        summary=_summary(discovery, policy, status),
        query_name=qname,
        query_type="TXT",
        records=own.texts,
        ttl=outcome.ttl if isinstance(outcome, Answer) else None,
        findings=tuple(findings),
        fix=_fix(discovery, policy, findings, status),
        details=_details(discovery, policy),
    )


def _own_name(verdict: _Verdict, discovery: Discovery, cname: Outcome) -> None:
    """What is wrong at `_dmarc.DOMAIN` itself, whatever applies in the end."""
    own = discovery.own
    where = f"_dmarc.{discovery.domain}"
    if len(own.dmarc) > 1:
        verdict.add(
            Severity.FAIL,
            "dmarc.multiple-records",
            f"{where} has {len(own.dmarc)} DMARC records; receivers discard them all and "
            "act as if there were none.",
            REF_WALK,
        )
    others = [t for t in own.texts if not starts_with_dmarc1(t)]
    if others and not own.dmarc:
        verdict.add(
            Severity.FAIL,
            "dmarc.not-dmarc1",
            f"The TXT record at {where} does not start with v=DMARC1 ({_quote(others[0])}); "
            "receivers ignore it. The version tag must come first, spelled exactly DMARC1.",
            REF_FORMAT,
        )
    elif others:
        verdict.add(
            Severity.INFO,
            "dmarc.other-txt",
            f"{where} also holds {len(others)} TXT record(s) that are not DMARC records; "
            "receivers ignore them.",
            REF_WALK,
        )
    txt_is_direct = isinstance(own.outcome, Answer) and not own.outcome.cnames
    if isinstance(cname, Answer) and txt_is_direct:
        target = cname.values()[0] if cname.values() else "?"
        verdict.add(
            Severity.WARN,
            "dmarc.cname-conflict",
            f"{where} has both a CNAME (to {target}) and TXT records; a name with a CNAME "
            "may hold no other data, and resolvers disagree on which one to return.",
            "RFC 2181 §10.1",
        )
    elif isinstance(cname, Failure) and txt_is_direct:
        verdict.pending.append((cname, Severity.WARN))


async def _missing(verdict: _Verdict, discovery: Discovery, ctx: CheckContext) -> None:
    if not discovery.complete:
        # A parent's record might apply: the walk did not get every answer.
        verdict.pending.extend((f, Severity.FAIL) for f in discovery.failures)
        return
    if discovery.own.texts:
        return  # something unusable is published there: its own finding says what
    walked = ", ".join(f"_dmarc.{x.domain}" for x in discovery.lookups[1:])
    parents = f" nor on its parent domains ({walked})" if walked else ""
    verdict.add(
        Severity.FAIL,
        "dmarc.missing",
        f"No DMARC record at _dmarc.{discovery.domain}{parents}: receivers apply no DMARC "
        "policy and send no reports.",
        REF_DISCOVERY,
    )
    apex = await ctx.query(f"{discovery.domain}.", "TXT")
    if isinstance(apex, Answer) and any(starts_with_dmarc1(t) for t in apex.texts()):
        verdict.add(
            Severity.FAIL,
            "dmarc.record-at-apex",
            f"A DMARC record is published at {discovery.domain} itself; it has no effect "
            f"there. It belongs at _dmarc.{discovery.domain}.",
            "RFC 9989 §4.5",
        )


def _record_findings(
    verdict: _Verdict, discovery: Discovery, policy: EffectivePolicy | None
) -> None:
    where = f"_dmarc.{discovery.location}"
    if discovery.inherited:
        source = "a public suffix domain's (psd=y) record" if discovery.from_psd else "the record"
        verdict.add(
            Severity.INFO,
            "dmarc.inherited",
            f"{discovery.domain} has no DMARC record of its own; {source} at {where} applies "
            "to it through sp/np.",
            REF_DISCOVERY,
        )
    error = discovery.error
    if error is not None:
        verdict.add(
            Severity.FAIL,
            "dmarc.syntax-error",
            f"The DMARC record at {where} is not valid: {error.reason} at character "
            f"{error.position + 1} of {_quote(discovery.record or '')}.",
            REF_SYNTAX,
        )
        return
    record = discovery.parsed
    if record is None:
        return
    _policy_findings(verdict, discovery, record, policy)
    _tag_findings(verdict, record, where)
    if discovery.existence_failure is not None and policy is not None and policy.uncertain:
        verdict.pending.append((discovery.existence_failure, Severity.WARN))


def _policy_findings(
    verdict: _Verdict,
    discovery: Discovery,
    record: DmarcRecord,
    policy: EffectivePolicy | None,
) -> None:
    where = f"_dmarc.{discovery.location}"
    for tag in ("p", "sp", "np"):
        problem = record.problem(tag)
        if problem is not None:
            verdict.add(
                Severity.FAIL,
                "dmarc.invalid-policy",
                f"{tag}={problem.value!r} in {where} is not a policy ({problem.reason}); "
                "receivers then treat the whole record as p=none, or ignore it if it has "
                "no usable rua.",
                REF_DISCOVERY,
            )
    if "p" not in record:
        verdict.add(
            Severity.INFO,
            "dmarc.p-missing",
            f"The record at {where} has no p tag: RFC 9989 reads it as p=none, and receivers "
            "still following RFC 7489 ignore the record.",
            REF_FORMAT,
        )
    if policy is None:
        return
    if policy.requested == "none" and not any(record.problem(t) for t in ("p", "sp", "np")):
        verdict.add(
            Severity.WARN, "dmarc.policy-none", _none_message(discovery, policy), REF_FORMAT
        )
    if record.t == "y" and policy.requested in ("quarantine", "reject"):
        verdict.add(
            Severity.WARN,
            "dmarc.testing",
            f"t=y in {where}: the record is in test mode, so receivers apply "
            f"{policy.applied} instead of {policy.requested} to failing mail.",
            REF_FORMAT,
        )
    if record.pct is not None and record.pct < 100:
        verdict.add(
            Severity.WARN,
            "dmarc.pct-partial",
            f"pct={record.pct} in {where}: receivers still following RFC 7489 apply the "
            f"policy to only {record.pct}% of failing mail (RFC 9989 receivers ignore pct).",
            REF_PCT,
        )
    sp_covers = discovery.inherited and policy.tag == "sp"
    if record.sp == "none" and record.p in ("quarantine", "reject") and not sp_covers:
        verdict.add(
            Severity.WARN,
            "dmarc.sp-none",
            f"sp=none in {where} under p={record.p}: mail from subdomains of "
            f"{discovery.location} is not protected.",
            REF_FORMAT,
        )
    if record.psd == "y" and not discovery.inherited:
        verdict.add(
            Severity.INFO,
            "dmarc.psd",
            f"psd=y in {where} declares {discovery.location} a public suffix domain: "
            "its subdomains count as separate organizations.",
            REF_FORMAT,
        )


def _none_message(discovery: Discovery, policy: EffectivePolicy) -> str:
    where = f"_dmarc.{discovery.location}"
    if not discovery.inherited:
        how = "has no p tag, which means p=none" if policy.defaulted else "says p=none"
        return (
            f"The record at {where} {how}: receivers take no action on mail that fails "
            "DMARC (monitoring only)."
        )
    if policy.tag == "p" and policy.defaulted:
        how = "has no p tag (none)"
    else:
        how = f"sets {policy.tag}=none"
    return (
        f"{discovery.domain} inherits the record at {where}, which {how} for it: "
        "receivers take no action on mail that fails DMARC."
    )


def _tag_findings(verdict: _Verdict, record: DmarcRecord, where: str) -> None:
    for problem in record.problems:
        if problem.tag in ("p", "sp", "np"):
            continue
        verdict.add(
            Severity.WARN,
            "dmarc.invalid-value",
            f"{problem.tag}={problem.value!r} in {where} is not valid ({problem.reason}); "
            "receivers ignore it and use the default.",
            REF_SYNTAX,
        )
    for tag in ("rua", "ruf"):
        for uri in getattr(record, tag):
            _uri_findings(verdict, tag, uri, where)
    if not any(u.valid for u in record.rua):
        what = "no rua tag" if "rua" not in record else "no usable rua address"
        verdict.add(
            Severity.WARN,
            "dmarc.no-rua",
            f"The record at {where} has {what}: no receiver sends aggregate reports, so you "
            "cannot see who sends mail as the domain before tightening the policy.",
            REF_FORMAT,
        )
    for tag in record.removed_tags:
        verdict.add(
            Severity.INFO,
            "dmarc.removed-tag",
            f"{tag.name}={tag.value} in {where}: RFC 9989 removed the {tag.name} tag; "
            "RFC 9989 receivers ignore it.",
            REF_REMOVED,
        )
    unknown = record.unknown_tags
    if unknown:
        listed = ", ".join(f"{t.name}={t.value}" for t in unknown)
        verdict.add(
            Severity.INFO,
            "dmarc.unknown-tag",
            f"Unknown tag(s) in {where}, ignored by receivers: {listed}.",
            REF_FORMAT,
        )
    if not record.p_follows_v:
        verdict.add(
            Severity.INFO,
            "dmarc.p-not-second",
            f"p is not directly after v in {where}: fine for RFC 9989, but some receivers "
            "following RFC 7489 reject such a record.",
            "RFC 7489 §6.4",
        )


def _uri_findings(verdict: _Verdict, tag: str, uri: ReportUri, where: str) -> None:
    if not uri.valid:
        verdict.add(
            Severity.WARN,
            "dmarc.invalid-uri",
            f"{tag} entry {_quote(uri.text)} in {where} is not a valid report URI "
            f"({uri.error}); receivers skip it.",
            REF_SYNTAX,
        )
        return
    if uri.size is not None:
        verdict.add(
            Severity.INFO,
            "dmarc.uri-size",
            f"{tag} entry {_quote(uri.text)} in {where} has the size limit !{uri.size}, "
            "which RFC 9989 made obsolete: receivers ignore it.",
            REF_SYNTAX,
        )
    if uri.scheme != "mailto":
        verdict.add(
            Severity.INFO,
            "dmarc.uri-scheme",
            f"{tag} entry {_quote(uri.text)} in {where} is not a mailto: URI; receivers "
            "only have to support mailto: and skip schemes they do not support.",
            REF_FORMAT,
        )


async def _external_reports(verdict: _Verdict, discovery: Discovery, ctx: CheckContext) -> None:
    """RFC 9990 §3.2.3: report addresses at another Organizational Domain must be authorized."""
    record = discovery.parsed
    location = discovery.location
    if record is None or location is None:
        return
    hosts = [
        u.host
        for u in (*record.rua, *record.ruf)
        if u.valid and u.scheme == "mailto" and u.host and u.host != location
    ]
    hosts = list(dict.fromkeys(hosts))
    if not hosts:
        return
    own_org = await organizational_domain(location, ctx)
    results = await eager.gather(*(_authorized(ctx, location, own_org, h) for h in hosts))
    for host, (state, failures) in zip(hosts, results, strict=True):
        if state == "unauthorized":
            verdict.add(
                Severity.WARN,
                "dmarc.report-unauthorized",
                f"Reports for {location} go to {host}, another organization, which has not "
                f"published {location}._report._dmarc.{host} (a TXT record starting with "
                "v=DMARC1): receivers will not send reports there.",
                REF_EXTERNAL,
            )
        elif state == "too-long":
            verdict.add(
                Severity.WARN,
                "dmarc.report-unauthorized",
                f"Reports for {location} go to {host}, another organization, but the "
                f"authorization name {location}._report._dmarc.{host} is longer than DNS "
                "allows, so it can never be confirmed.",
                REF_EXTERNAL,
            )
        elif state == "unsure":
            verdict.pending.extend((f, Severity.WARN) for f in failures)


async def _authorized(
    ctx: CheckContext, location: str, own_org: tuple[str, tuple[Failure, ...]], host: str
) -> tuple[str, tuple[Failure, ...]]:
    """ "same-org", "authorized", "unauthorized", "too-long" or "unsure" (with the failures)."""
    host_org, host_failures = await organizational_domain(host, ctx)
    walk_failures = (*own_org[1], *host_failures)
    if host_org == own_org[0] and not walk_failures:
        return "same-org", ()
    name = f"{location}._report._dmarc.{host}"
    if len(name) > 253 or any(len(label) > 63 for label in name.split(".")):
        # RFC 9990 §3.2.3 step 4: no positive determination can be made.
        return ("unsure", walk_failures) if walk_failures else ("too-long", ())
    outcome = await ctx.query(name + ".", "TXT")
    if isinstance(outcome, Failure):
        return "unsure", (*walk_failures, outcome)
    if isinstance(outcome, Answer) and any(starts_with_dmarc1(t) for t in outcome.texts()):
        return "authorized", ()
    # Not authorized; if a walk failed, the two might share an org domain after all.
    return ("unsure", walk_failures) if walk_failures else ("unauthorized", ())


def _settle(verdict: _Verdict) -> tuple[Status, list[Finding]]:
    """SPEC §4 "Precisely": a fail stands; a verdict an unanswered query could change is unknown."""
    findings = verdict.findings
    status = status_from_findings(findings)
    pending = list({id(f): (f, s) for f, s in verdict.pending}.values())
    if not pending:
        return status, findings
    could_fail = any(s == Severity.FAIL for _, s in pending)
    notes = [failure_finding(CHECK, failure) for failure, _ in pending]
    if status == Status.FAIL or (not could_fail and status == Status.WARN):
        return status, findings + [replace(n, severity=Severity.INFO) for n in notes]
    return Status.UNKNOWN, findings + notes


def _quote(text: str, limit: int = 120) -> str:
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return f'"{shown}"'


# -- summary, details, fix ------------------------------------------------------------


def _summary(discovery: Discovery, policy: EffectivePolicy | None, status: Status) -> str:
    if status == Status.UNKNOWN and discovery.record is None:
        return "DMARC lookup incomplete: some queries failed"
    if discovery.record is None:
        return "no DMARC record"
    if discovery.error is not None or policy is None:
        return "invalid DMARC record"
    record = discovery.parsed
    if record is None:
        return "invalid DMARC record"
    invalid = [t for t in ("p", "sp", "np") if record.problem(t)]
    if invalid:
        tags = "/".join(invalid)
        if policy.requested is None:
            return f"invalid {tags}: receivers ignore the record"
        return f"invalid {tags}: receivers fall back to p={policy.requested}"
    text = f"{policy.tag}={policy.requested}"
    if policy.testing:
        text += " (t=y: testing)"
    if discovery.inherited:
        text = f"inherited from {discovery.location}: {text}"
    count = sum(1 for u in record.rua if u.valid)
    if count:
        text += f", reports to {count} address{'es' if count > 1 else ''}"
    else:
        text += ", no reports"
    return text


def _details(discovery: Discovery, policy: EffectivePolicy | None) -> dict[str, object]:
    details = dict(_EMPTY_DETAILS)
    details.update(
        {
            "record": discovery.record,
            "location": discovery.location,
            "inherited": discovery.inherited,
            "org_domain": discovery.org_domain,
            "policy": policy.applied if policy else None,
            "policy_tag": policy.tag if policy else None,
        }
    )
    record = discovery.parsed
    if record is not None:
        details.update(
            {
                "p": record.p,
                "sp": record.sp,
                "np": record.np,
                "pct": record.pct,
                "rua": [u.text for u in record.rua],
                "ruf": [u.text for u in record.ruf],
                "t": record.t,
                "psd": record.psd,
                "adkim": record.adkim,
                "aspf": record.aspf,
                "fo": record.fo,
            }
        )
    return details


def starter_record(domain: str) -> str:
    """The first record to publish for a domain without DMARC (monitoring, with reports)."""
    return f"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}"


_PATH_STEPS = (
    "Read the aggregate reports for a few weeks and make every legitimate sender pass SPF or "
    "DKIM aligned with the domain.",
    "Then raise the policy to p=quarantine; once the reports show only unwanted mail failing, "
    "raise it to p=reject.",
)


def _fix(
    discovery: Discovery,
    policy: EffectivePolicy | None,
    findings: list[Finding],
    status: Status,
) -> Fix | None:
    if status in (Status.OK, Status.NONE):
        return None
    codes = {f.code for f in findings if f.severity != Severity.INFO}
    domain = discovery.domain
    own_name = absolute(f"_dmarc.{domain}")
    steps: list[str] = []
    record: FixRecord | None = None
    if "dmarc.missing" in codes:
        value = starter_record(domain)
        steps.append(
            f'Publish _dmarc.{domain} TXT "{value}" — replace dmarc-reports@{domain} with a '
            "mailbox you actually read (or your report service's address)."
        )
        steps.extend(_PATH_STEPS)
        record = FixRecord(own_name, "TXT", value)
    if "dmarc.multiple-records" in codes:
        steps.append(
            f"Delete all but one DMARC record at _dmarc.{domain}: merge their tags into one."
        )
    if "dmarc.not-dmarc1" in codes:
        repaired = _repair_version(discovery.own.texts[0])
        steps.append(
            f"Start the record at _dmarc.{domain} with v=DMARC1 (exactly that spelling), "
            "followed by '; ' and the other tags."
        )
        if repaired is not None:
            steps.append(f"Publish at _dmarc.{domain}: {repaired}")
            record = FixRecord(own_name, "TXT", repaired)
    if "dmarc.cname-conflict" in codes:
        steps.append(f"Keep either the CNAME or the TXT record at _dmarc.{domain}, not both.")
    if "dmarc.record-at-apex" in codes:
        steps.append(f"Remove the v=DMARC1 TXT record at {domain} itself.")
    if discovery.record is not None:
        steps.extend(_record_steps(discovery, codes))
        proposed = _corrected(discovery, policy, codes)
        if proposed is not None:
            where = f"_dmarc.{discovery.location}"
            if discovery.inherited and _fix_own(codes):
                where = f"_dmarc.{domain}"
            steps.append(f"Publish at {where}: {proposed}")
            record = record or FixRecord(absolute(where), "TXT", proposed)
        if "dmarc.report-unauthorized" in codes:
            steps.extend(_authorization_steps(discovery))
    if not steps:
        steps.append(RETRY_STEP)
    return Fix(tuple(dict.fromkeys(steps)), record)


def _repair_version(text: str) -> str | None:
    """The record with its version tag put first, when the rest then parses."""
    terms = [t.strip(" \t") for t in text.split(";") if t.strip(" \t")]
    rest = [t for t in terms if t.split("=", 1)[0].strip(" \t").lower() != "v"]
    candidate = "; ".join(["v=DMARC1", *rest])
    try:
        parse_dmarc(candidate)
    except DmarcSyntaxError:
        return None
    return candidate


def _fix_own(codes: set[str]) -> bool:
    # An inherited sp/np=none is best fixed by giving the domain its own record.
    return "dmarc.policy-none" in codes


def _record_steps(discovery: Discovery, codes: set[str]) -> list[str]:
    steps = []
    if "dmarc.syntax-error" in codes:
        error = discovery.error
        detail = f" ({error.reason} at character {error.position + 1})" if error else ""
        steps.append(
            f"Rewrite the record at _dmarc.{discovery.location} as 'tag=value' pairs "
            f"separated by '; ', each tag once{detail}."
        )
    if "dmarc.invalid-policy" in codes:
        steps.append("Give p (and sp/np, if used) one of: none, quarantine, reject.")
    if "dmarc.policy-none" in codes:
        steps.append(_PATH_STEPS[0])
        if discovery.inherited:
            steps.append(
                f"Either give {discovery.domain} a record of its own (below), or raise the "
                f"subdomain policy (sp/np) in the record at _dmarc.{discovery.location}."
            )
    if "dmarc.no-rua" in codes:
        steps.append(
            f"The proposed rua=mailto:dmarc-reports@{discovery.domain} is an example: use a "
            "mailbox you actually read (or your report service's address)."
        )
    return steps


def _authorization_steps(discovery: Discovery) -> list[str]:
    record = discovery.parsed
    location = discovery.location
    if record is None or location is None:
        return []
    hosts = {u.host for u in (*record.rua, *record.ruf) if u.valid and u.host}
    return [
        f"Ask the operator of {host} to publish {location}._report._dmarc.{host} TXT "
        '"v=DMARC1", or send the reports to an address in your own domain.'
        for host in sorted(h for h in hosts if h != location)
    ]


def _corrected(discovery: Discovery, policy: EffectivePolicy | None, codes: set[str]) -> str | None:
    """The record with every tag-level problem fixed, all other tags kept as published."""
    record = discovery.parsed
    if record is None:
        return None
    tags = [(t.name, t.value) for t in record.tags if t.name != "v"]
    change = False

    def drop(name: str) -> None:
        nonlocal tags, change
        before = len(tags)
        tags = [(n, v) for n, v in tags if n != name]
        change = change or len(tags) != before

    def put(name: str, value: str) -> None:
        nonlocal tags, change
        if any(n == name for n, _ in tags):
            tags = [(n, value if n == name else v) for n, v in tags]
        else:
            tags.insert(0 if name == "p" else len(tags), (name, value))
        change = True

    own_record = discovery.inherited and _fix_own(codes)
    if own_record:
        # A record of the domain's own: its p is what the parent gave, raised to quarantine.
        tags = [(n, v) for n, v in tags if n not in ("p", "sp", "np", "psd")]
        put("p", "quarantine")
    if record.problem("p") is not None:
        put("p", "none")  # the safe start; the steps lead on to quarantine and reject
    for tag in ("sp", "np"):
        if record.problem(tag) is not None:
            drop(tag)  # absent, they follow p
    if "dmarc.policy-none" in codes and not own_record:
        put(policy.tag if policy else "p", "quarantine")
        if record.sp == "none" and (policy is None or policy.tag == "p"):
            drop("sp")  # else subdomains would stay at none under the raised p
    if "dmarc.testing" in codes:
        drop("t")
    if "dmarc.pct-partial" in codes:
        drop("pct")
    if "dmarc.sp-none" in codes:
        drop("sp")
    for problem in record.problems:
        if problem.tag not in ("p", "sp", "np"):
            drop(problem.tag)
    if "dmarc.invalid-uri" in codes:
        for tag in ("rua", "ruf"):
            valid = [u.text for u in getattr(record, tag) if u.valid]
            if tag in record:
                drop(tag)
                if valid:
                    tags.append((tag, ",".join(valid)))
    if "dmarc.no-rua" in codes:
        put("rua", f"mailto:dmarc-reports@{discovery.domain}")
    if not change:
        return None
    # p right after v suits receivers of both RFCs.
    tags.sort(key=lambda item: 0 if item[0] == "p" else 1)
    return format_record(tags)
