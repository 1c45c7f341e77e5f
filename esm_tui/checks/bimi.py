"""The BIMI check (draft-brand-indicators-for-message-identification): the assertion record
at `default._bimi.DOMAIN`, and whether DMARC is strict enough for the logo to show.

BIMI is optional: without a record (or with a declination) the card is grey unless the
domain sets `bimi = true`. The DMARC part reuses `dmarc.discover()`; the Dns cache answers
its queries, which the DMARC check asks too.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, replace

from esm_tui.checks import dmarc
from esm_tui.checks.bimi_parse import (
    BimiRecord,
    BimiSyntaxError,
    https_url_problem,
    looks_like_bimi,
    parse_bimi,
    starts_with_bimi1,
)
from esm_tui.checks.context import RETRY_STEP, CheckContext, failure_finding, unknown_result
from esm_tui.dns import Answer, Failure, absolute, eager
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

CHECK = "bimi"
SELECTOR = "default"

_DRAFT = "draft-brand-indicators-for-message-identification"
REF_RECORD = f"{_DRAFT} §4.3"
REF_DECLINE = f"{_DRAFT} §4.3.1"
REF_FORMATS = f"{_DRAFT} §4.3.2"
REF_AUTH = f"{_DRAFT} §7.1"
REF_DISCOVERY = f"{_DRAFT} §7.2"

CODES: dict[str, str] = {
    "bimi.absent": "No BIMI record (optional, and not expected for this domain).",
    "bimi.declined": "A declination record (v=BIMI1; l=; a=;): the domain shows no logo.",
    "bimi.missing": "bimi = true, but no BIMI record is published.",
    "bimi.not-bimi1": "The record at default._bimi does not start with v=BIMI1.",
    "bimi.foreign-record": "TXT data at default._bimi that is no BIMI record at all (e.g. a "
    "wildcard's SPF record): ignored, as receivers do, when BIMI is not expected.",
    "bimi.multiple-records": "More than one BIMI record (receivers then use none).",
    "bimi.syntax-error": "The BIMI record is not a valid tag list.",
    "bimi.l-missing": "The required l= tag is absent.",
    "bimi.l-not-https": "l= is not an https URL.",
    "bimi.l-not-svg": "l= points to an image format BIMI does not allow (only SVG).",
    "bimi.a-not-https": "a= is not an https URL, so no mark certificate can be fetched.",
    "bimi.no-authority": "No a= (no mark certificate): major mailbox providers show no logo.",
    "bimi.dmarc-not-enforced": "DMARC is not at enforcement, so the logo will not show.",
    "bimi.unknown-tag": "A tag BIMI does not define (ignored).",
    "bimi.invalid-value": "An optional tag has a value receivers ignore.",
    "bimi.dns-failure": "A query needed for the verdict could not be answered.",
}


#: Image suffixes that are not SVG: "MUST be treated as a permanent error" (§4.3.2).
_OTHER_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".ico", ".tif", ".tiff")


# -- the check ------------------------------------------------------------------------


async def check(domain: DomainSettings, ctx: CheckContext) -> RecordResult:
    name = domain.name.lower().rstrip(".")
    qname = f"{SELECTOR}._bimi.{name}."
    outcome, discovery = await eager.gather(ctx.query(qname, "TXT"), dmarc.discover(name, ctx))
    if isinstance(outcome, Failure):
        result = unknown_result(CHECK, qname, "TXT", outcome, record=None, l=None, a=None)
        return replace(result, fix=Fix((RETRY_STEP,)))
    texts = tuple(outcome.texts()) if isinstance(outcome, Answer) else ()
    ttl = outcome.ttl if isinstance(outcome, Answer) else None
    evaluation = _evaluate(domain, name, texts)
    findings = list(evaluation.findings)
    status = evaluation.status
    if status != Status.NONE:
        findings.extend(_dmarc_findings(name, discovery))
        status = status_from_findings(findings)
        if discovery.failures and status != Status.FAIL:
            # The DMARC part of the verdict is not known (SPEC §4): BIMI's own findings
            # stand, but the card is unknown, not "DMARC not at enforcement".
            status = Status.UNKNOWN
    record = evaluation.record
    return RecordResult(
        check=CHECK,
        status=status,
        summary=(
            "DMARC could not be looked up"
            if status == Status.UNKNOWN
            else evaluation.summary
            if status != Status.WARN
            else _warn_summary(findings)
        ),
        query_name=qname,
        query_type="TXT",
        records=texts,
        ttl=ttl,
        findings=tuple(findings),
        fix=(
            Fix((RETRY_STEP,))
            if status == Status.UNKNOWN
            else _fix(name, texts, findings)
            if status not in (Status.OK, Status.NONE)
            else None
        ),
        details={
            "record": evaluation.shown,
            "l": record.l if record else None,
            "a": record.a if record else None,
        },
    )


@dataclass
class _Evaluation:
    status: Status
    summary: str
    findings: list[Finding]
    record: BimiRecord | None = None
    shown: str | None = None


def _evaluate(domain: DomainSettings, name: str, texts: tuple[str, ...]) -> _Evaluation:
    where = f"{SELECTOR}._bimi.{name}"
    records = [t for t in texts if starts_with_bimi1(t)]
    shown = records[0] if records else (texts[0] if texts else None)
    if not texts:
        if domain.bimi_expected:
            finding = Finding(
                Severity.FAIL,
                "bimi.missing",
                f"BIMI is expected for {name} (bimi = true) but there is no record at {where}.",
                REF_DISCOVERY,
            )
            return _Evaluation(Status.FAIL, "no BIMI record", [finding])
        finding = Finding(
            Severity.INFO,
            "bimi.absent",
            f"No BIMI record at {where}; BIMI is optional and not expected for this domain.",
            REF_DISCOVERY,
        )
        return _Evaluation(Status.NONE, "no BIMI record (optional)", [finding])
    if not records and not domain.bimi_expected and not any(map(looks_like_bimi, texts)):
        # Receivers discard TXT records without v=BIMI1 (§7.2). A wildcard TXT (often
        # "v=spf1 -all" for every name) answers here on many domains: not a broken BIMI
        # record, and no reason for a red card on a record nobody asked for.
        finding = Finding(
            Severity.INFO,
            "bimi.foreign-record",
            f"The TXT data at {where} is not a BIMI record ({_quote(texts[0])}; a wildcard "
            "record?); receivers ignore it. BIMI is optional and not expected for this domain.",
            REF_DISCOVERY,
        )
        return _Evaluation(Status.NONE, "no BIMI record (optional)", [finding])
    if not records:
        finding = Finding(
            Severity.FAIL,
            "bimi.not-bimi1",
            f"The TXT record at {where} does not start with v=BIMI1 ({_quote(texts[0])}); "
            "receivers ignore it.",
            REF_RECORD,
        )
        return _Evaluation(Status.FAIL, "not a BIMI record", [finding], shown=shown)
    if len(records) > 1:
        finding = Finding(
            Severity.FAIL,
            "bimi.multiple-records",
            f"{where} has {len(records)} BIMI records; receivers then show no logo.",
            REF_DISCOVERY,
        )
        return _Evaluation(Status.FAIL, "several BIMI records", [finding], shown=shown)
    try:
        record = parse_bimi(records[0])
    except BimiSyntaxError as exc:
        finding = Finding(
            Severity.FAIL,
            "bimi.syntax-error",
            f"The BIMI record at {where} is not valid: {exc.reason} at character "
            f"{exc.position + 1}.",
            REF_RECORD,
        )
        return _Evaluation(Status.FAIL, "invalid BIMI record", [finding], shown=shown)
    return _evaluate_record(domain, name, record)


def _evaluate_record(domain: DomainSettings, name: str, record: BimiRecord) -> _Evaluation:
    where = f"{SELECTOR}._bimi.{name}"
    findings: list[Finding] = []
    if record.declined:
        if domain.bimi_expected:
            findings.append(
                Finding(
                    Severity.FAIL,
                    "bimi.declined",
                    f"BIMI is expected for {name} (bimi = true), but {where} is a declination "
                    "record (empty l= and a=): no logo is shown.",
                    REF_DECLINE,
                )
            )
            return _Evaluation(Status.FAIL, "BIMI declined", findings, record, record.text)
        findings.append(
            Finding(
                Severity.INFO,
                "bimi.declined",
                f"{where} declines BIMI (empty l= and a=): no logo is shown, as intended.",
                REF_DECLINE,
            )
        )
        return _Evaluation(Status.NONE, "BIMI declined", findings, record, record.text)
    findings.extend(_location_findings(record, where))
    findings.extend(_authority_findings(record, where))
    findings.extend(_other_tag_findings(record, where))
    status = status_from_findings(findings)
    summary = "logo published" if status == Status.OK else "BIMI record unusable"
    return _Evaluation(status, summary, findings, record, record.text)


def _location_findings(record: BimiRecord, where: str) -> list[Finding]:
    logo = record.l
    if logo is None:
        return [
            Finding(
                Severity.FAIL,
                "bimi.l-missing",
                f"The BIMI record at {where} has no l= tag (the logo location is required).",
                REF_RECORD,
            )
        ]
    if logo == "":
        return []  # with a non-empty a=, the logo comes from the mark certificate
    problem = https_url_problem(logo)
    if problem is not None:
        return [
            Finding(
                Severity.FAIL,
                "bimi.l-not-https",
                f"l={logo} in {where} is not an https URL: {problem}.",
                REF_RECORD,
            )
        ]
    path = urllib.parse.urlsplit(logo).path.lower()
    if path.endswith(_OTHER_IMAGE_SUFFIXES):
        return [
            Finding(
                Severity.FAIL,
                "bimi.l-not-svg",
                f"l={logo} in {where} is not an SVG image; BIMI logos must be SVG "
                "(SVG Tiny Portable/Secure), any other format is a permanent error.",
                REF_FORMATS,
            )
        ]
    return []


def _authority_findings(record: BimiRecord, where: str) -> list[Finding]:
    evidence = record.a
    if not evidence:
        return [
            Finding(
                Severity.WARN,
                "bimi.no-authority",
                f"The BIMI record at {where} has no a= (no mark certificate): major mailbox "
                "providers do not show the logo without a VMC or CMC.",
                REF_RECORD,
            )
        ]
    problem = https_url_problem(evidence)
    if problem is not None:
        return [
            Finding(
                Severity.WARN,
                "bimi.a-not-https",
                f"a={evidence} in {where} is not an https URL ({problem}): the mark "
                "certificate cannot be fetched, so providers that require one show no logo.",
                REF_RECORD,
            )
        ]
    return []


def _other_tag_findings(record: BimiRecord, where: str) -> list[Finding]:
    findings = []
    avp = record.get("avp")
    if avp is not None and avp not in ("personal", "brand"):
        findings.append(
            Finding(
                Severity.INFO,
                "bimi.invalid-value",
                f"avp={avp} in {where} is neither personal nor brand; receivers ignore it.",
                REF_RECORD,
            )
        )
    unknown = record.unknown_tags
    if unknown:
        listed = ", ".join(f"{t}={v}" for t, v in unknown)
        findings.append(
            Finding(
                Severity.INFO,
                "bimi.unknown-tag",
                f"Unknown tag(s) in {where}, ignored by receivers: {listed}.",
                REF_RECORD,
            )
        )
    return findings


def _dmarc_findings(name: str, discovery: dmarc.Discovery) -> list[Finding]:
    """§7.1: no logo unless DMARC passes under an enforced policy (SPEC: else warn)."""
    reasons: list[str] = []
    if discovery.failures:
        # Not judged: whether DMARC is at enforcement depends on the answer not had.
        return [failure_finding(CHECK, f) for f in discovery.failures]
    if discovery.record is None:
        reasons.append("it has no DMARC record")
    else:
        policy = dmarc.effective_policy(discovery)
        record = discovery.parsed
        if policy is None or record is None or policy.applied is None:
            reasons.append(f"its DMARC record at _dmarc.{discovery.location} is invalid")
        else:
            if not policy.enforced:
                reasons.append(_policy_reason(policy))
            if record.pct is not None and record.pct < 100:
                reasons.append(f"pct={record.pct} is below 100")
            if record.sp == "none" and "sp=none" not in " ".join(reasons):
                reasons.append("the DMARC record sets sp=none")
    if not reasons:
        return []
    return [
        Finding(
            Severity.WARN,
            "bimi.dmarc-not-enforced",
            f"DMARC is not at enforcement for {name} ({'; '.join(reasons)}): receivers show "
            "a BIMI logo only for mail under p=quarantine or p=reject.",
            REF_AUTH,
        )
    ]


def _policy_reason(policy: dmarc.EffectivePolicy) -> str:
    if policy.testing and policy.requested != "none":
        return f"{policy.tag}={policy.requested} with t=y is applied as none"
    return f"the policy that applies is {policy.tag}={policy.requested}"


def _warn_summary(findings: list[Finding]) -> str:
    codes = {f.code for f in findings}
    if "bimi.dmarc-not-enforced" in codes:
        return "logo published; DMARC not at enforcement"
    return "logo published; no mark certificate (a=)"


def _quote(text: str, limit: int = 120) -> str:
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return f'"{shown}"'


# -- fix ------------------------------------------------------------------------------


def _template(name: str) -> str:
    return f"v=BIMI1; l=https://{name}/bimi/logo.svg; a=https://{name}/bimi/vmc.pem"


def _fix(name: str, texts: tuple[str, ...], findings: list[Finding]) -> Fix:
    codes = {f.code for f in findings if f.severity != Severity.INFO}
    owner = absolute(f"{SELECTOR}._bimi.{name}")
    steps: list[str] = []
    record: FixRecord | None = None
    if codes & {"bimi.missing", "bimi.declined"}:
        value = _template(name)
        steps.append(
            f'Publish {SELECTOR}._bimi.{name} TXT "{value}" — replace both URLs with where '
            "your SVG Tiny PS logo and your mark certificate (VMC/CMC, PEM) are served."
        )
        record = FixRecord(owner, "TXT", value)
    if "bimi.not-bimi1" in codes:
        rest = "; ".join(
            part.strip()
            for part in texts[0].split(";")
            if part.strip() and part.split("=", 1)[0].strip().lower() != "v"
        )
        value = f"v=BIMI1; {rest}" if rest else _template(name)
        steps.append(f"Start the record with v=BIMI1 (exactly that spelling): {value}")
        record = FixRecord(owner, "TXT", value)
    if "bimi.multiple-records" in codes:
        steps.append(f"Keep a single v=BIMI1 record at {SELECTOR}._bimi.{name}.")
    if "bimi.syntax-error" in codes:
        steps.append("Rewrite the record as 'tag=value' pairs separated by '; ', each tag once.")
    if "bimi.l-missing" in codes or "bimi.l-not-https" in codes:
        steps.append("Set l= to the https:// URL of your logo (an SVG Tiny PS file).")
    if "bimi.l-not-svg" in codes:
        steps.append("Convert the logo to SVG Tiny Portable/Secure and point l= at it.")
    if "bimi.no-authority" in codes or "bimi.a-not-https" in codes:
        steps.append(
            "Obtain a Verified Mark Certificate (or Common Mark Certificate) for the logo and "
            "set a= to the https:// URL of its PEM file."
        )
    if "bimi.dmarc-not-enforced" in codes:
        steps.append(
            "Raise the DMARC policy of the domain to p=quarantine or p=reject (with pct=100 "
            "or no pct, and no sp=none); see the DMARC card."
        )
    if not steps:
        steps.append(RETRY_STEP)
    return Fix(tuple(steps), record)
