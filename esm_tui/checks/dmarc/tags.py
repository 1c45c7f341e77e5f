"""What the tags of the applied DMARC record mean for the domain: the findings on them.

The policy tags (p/sp/np, t, pct, psd), values receivers ignore, report URIs (rua/ruf),
removed and unknown tags (RFC 9989 §4.7, §4.8). Pure: no DNS (report_auth.py asks whether
external report addresses are authorized).
"""

from __future__ import annotations

from esm_tui.checks.dmarc.discovery import Discovery
from esm_tui.checks.dmarc.parse import DmarcRecord, ReportUri
from esm_tui.checks.dmarc.policy import EffectivePolicy
from esm_tui.checks.dmarc.verdict import (
    REF_DISCOVERY,
    REF_FORMAT,
    REF_PCT,
    REF_REMOVED,
    REF_SYNTAX,
    Verdict,
    quote,
)
from esm_tui.model import Severity


def record_findings(verdict: Verdict, discovery: Discovery, policy: EffectivePolicy | None) -> None:
    """Whose record applies, whether it parses, and what its policy and other tags say."""
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
            f"{error.position + 1} of {quote(discovery.record or '')}.",
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
    verdict: Verdict,
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


def _tag_findings(verdict: Verdict, record: DmarcRecord, where: str) -> None:
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
        if record.p in ("quarantine", "reject"):
            # Already enforced: "before tightening" would be advice for another domain.
            why = f"nor which legitimate mail your p={record.p} policy sends to spam or rejects"
        else:
            why = "before tightening the policy"
        verdict.add(
            Severity.WARN,
            "dmarc.no-rua",
            f"The record at {where} has {what}: no receiver sends aggregate reports, so you "
            f"cannot see who sends mail as the domain, {why}.",
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


def _uri_findings(verdict: Verdict, tag: str, uri: ReportUri, where: str) -> None:
    if not uri.valid:
        verdict.add(
            Severity.WARN,
            "dmarc.invalid-uri",
            f"{tag} entry {quote(uri.text)} in {where} is not a valid report URI "
            f"({uri.error}); receivers skip it.",
            REF_SYNTAX,
        )
        return
    if uri.size is not None:
        verdict.add(
            Severity.INFO,
            "dmarc.uri-size",
            f"{tag} entry {quote(uri.text)} in {where} has the size limit !{uri.size}, "
            "which RFC 9989 made obsolete: receivers ignore it.",
            REF_SYNTAX,
        )
    if uri.scheme != "mailto":
        verdict.add(
            Severity.INFO,
            "dmarc.uri-scheme",
            f"{tag} entry {quote(uri.text)} in {where} is not a mailto: URI; receivers "
            "only have to support mailto: and skip schemes they do not support.",
            REF_FORMAT,
        )
