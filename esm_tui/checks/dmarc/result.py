"""The DMARC check itself: `check()` ties discovery, policy, findings and fix into the card.

Besides what the other modules judge, it says what is wrong at `_dmarc.DOMAIN` itself
(several records, no v=DMARC1, a CNAME beside the TXT) and when no record applies at all
(and one sits at the apex instead); then the summary and the details of the card.
"""

from __future__ import annotations

from dataclasses import replace

from esm_tui.checks.context import RETRY_STEP, CheckContext, unknown_result
from esm_tui.checks.dmarc.discovery import Discovery, discover
from esm_tui.checks.dmarc.fix import propose_fix
from esm_tui.checks.dmarc.mail_use import report_delivery, sends_no_mail
from esm_tui.checks.dmarc.parse import starts_with_dmarc1
from esm_tui.checks.dmarc.policy import EffectivePolicy, effective_policy
from esm_tui.checks.dmarc.report_auth import external_reports
from esm_tui.checks.dmarc.tags import record_findings
from esm_tui.checks.dmarc.verdict import (
    CHECK,
    REF_DISCOVERY,
    REF_FORMAT,
    REF_WALK,
    Verdict,
    quote,
    settle,
)
from esm_tui.dns import Answer, Failure
from esm_tui.model import DomainSettings, Fix, RecordResult, Severity, Status

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
    "dmarc.rua-undeliverable": "A rua address at a domain that accepts no mail (null MX, "
    "or no such domain): its reports cannot arrive.",
    "dmarc.delegated": "_dmarc.DOMAIN is a CNAME (delegated to a provider): the target's "
    "record applies; fixes name its operator and never propose a TXT beside the CNAME.",
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


async def check(domain: DomainSettings, ctx: CheckContext) -> RecordResult:
    """The DMARC card of one domain (SPEC §4 "DMARC")."""
    name = domain.name.lower().rstrip(".")
    qname = f"_dmarc.{name}."
    # One question for _dmarc: the TXT answer carries the CNAME chain it followed (a
    # delegation), so no CNAME query of its own (issue 18 item 7: 10 % of a bulk run's
    # queries, and a failure of that query made a good record unknown).
    discovery = await discover(name, ctx)
    own = discovery.own
    if isinstance(own.outcome, Failure):
        result = unknown_result(CHECK, qname, "TXT", own.outcome, **_EMPTY_DETAILS)
        return replace(result, fix=Fix((RETRY_STEP,)))

    verdict = Verdict([], [])
    _own_name(verdict, discovery)
    _delegation(verdict, discovery)
    policy = effective_policy(discovery)
    no_mail: str | None = None
    if discovery.record is None:
        await _missing(verdict, discovery, ctx)
        no_mail = await sends_no_mail(name, ctx)
    else:
        # An unanswered name below the record found might have held the one that applies.
        verdict.pending.extend((f, Severity.FAIL) for f in discovery.failures)
        record_findings(verdict, discovery, policy)
        await external_reports(verdict, discovery, ctx)
        await report_delivery(verdict, discovery, ctx)

    status, findings = settle(verdict)
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
        fix=propose_fix(discovery, policy, findings, status, no_mail=no_mail),
        details=_details(discovery, policy),
    )


def _own_name(verdict: Verdict, discovery: Discovery) -> None:
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
            f"The TXT record at {where} does not start with v=DMARC1 ({quote(others[0])}); "
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


def _delegation(verdict: Verdict, discovery: Discovery) -> None:
    """Say where a CNAME at `_dmarc.DOMAIN` leads, and whose record applies."""
    from esm_tui.checks.dmarc.fix import delegation_target, operator_of

    target = delegation_target(discovery)
    if target is None:
        return
    verdict.add(
        Severity.INFO,
        "dmarc.delegated",
        f"_dmarc.{discovery.domain} is a CNAME to {target.rstrip('.')}: the record there is "
        f"the one that applies, published by the operator of {operator_of(target)}.",
        "RFC 9989 §4.10.1",
    )


async def _missing(verdict: Verdict, discovery: Discovery, ctx: CheckContext) -> None:
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
