"""The TLS-RPT check (RFC 8460): the `_smtp._tls.DOMAIN` TXT record that tells sending
servers where to report failed TLS sessions (`v=TLSRPTv1; rua=mailto:…,https://…`).

Optional, like BIMI: without a record the card is grey unless the domain sets
`tls_rpt = true`. One record exactly (§3: otherwise senders assume none), its grammar
(esm_tui.checks.transport_txt), and report URIs that are `mailto:` or `https:` only.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import replace

from esm_tui.checks.context import RETRY_STEP, CheckContext, unknown_result
from esm_tui.checks.transport_txt import TxtSyntaxError, parse, starts_with
from esm_tui.dns import Answer, Failure
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

CHECK = "tls_rpt"
VERSION = "v=TLSRPTv1"
REF = "RFC 8460 §3"

CODES: dict[str, str] = {
    "tls_rpt.absent": "No TLS-RPT record (optional, and not expected for this domain).",
    "tls_rpt.missing": "tls_rpt = true, but no TLS-RPT record is published.",
    "tls_rpt.valid": "One TLS-RPT record, valid, with its report destinations.",
    "tls_rpt.not-tlsrptv1": "TXT data at _smtp._tls that does not start with v=TLSRPTv1 "
    "(senders discard it).",
    "tls_rpt.multiple-records": "More than one v=TLSRPTv1 record: senders then assume "
    "there is none.",
    "tls_rpt.syntax-error": "The record does not follow RFC 8460's grammar: senders ignore it.",
    "tls_rpt.rua-missing": "The record has no rua= (the required report destinations).",
    "tls_rpt.rua-repeated": "rua= appears more than once (senders may read either).",
    "tls_rpt.uri-not-https": "A report URI uses http:, which RFC 8460 does not allow "
    "(reports are posted over HTTPS only).",
    "tls_rpt.uri-scheme": "A report URI with a scheme other than mailto: or https:.",
    "tls_rpt.uri-invalid": "A report URI that is malformed (no address, no host).",
    "tls_rpt.unknown-field": "A field RFC 8460 does not define (senders ignore it).",
    "tls_rpt.dns-failure": "The TXT query could not be answered.",
}

_ADDRESS = re.compile(r"[^@\s]+@[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?\Z")


def qname(domain: str) -> str:
    return f"_smtp._tls.{domain}."


async def check(domain: DomainSettings, ctx: CheckContext) -> RecordResult:
    name = domain.name.lower().rstrip(".")
    where = qname(name)
    outcome = await ctx.query(where, "TXT")
    if isinstance(outcome, Failure):
        result = unknown_result(CHECK, where, "TXT", outcome, record=None, rua=[])
        return replace(result, fix=Fix((RETRY_STEP,)))
    texts = tuple(outcome.texts()) if isinstance(outcome, Answer) else ()
    ttl = outcome.ttl if isinstance(outcome, Answer) else None
    findings, record, rua = _evaluate(domain, name, texts)
    status = (
        Status.NONE
        if any(f.code in ("tls_rpt.absent",) for f in findings)
        else status_from_findings(findings)
    )
    return RecordResult(
        check=CHECK,
        status=status,
        summary=_summary(status, findings, rua),
        query_name=where,
        query_type="TXT",
        records=texts,
        ttl=ttl,
        findings=tuple(findings),
        fix=_fix(name, rua, findings) if status not in (Status.OK, Status.NONE) else None,
        details={"record": record, "rua": list(rua)},
    )


def _evaluate(
    domain: DomainSettings, name: str, texts: tuple[str, ...]
) -> tuple[list[Finding], str | None, list[str]]:
    where = f"_smtp._tls.{name}"
    records = [t for t in texts if starts_with(t, VERSION)]
    if not records:
        findings = [
            Finding(
                Severity.INFO,
                "tls_rpt.not-tlsrptv1",
                f"The TXT data at {where} does not start with {VERSION} ({_quote(text)}); "
                "senders discard it.",
                REF,
            )
            for text in texts[:3]
        ]
        if domain.tls_rpt_expected:
            findings.insert(
                0,
                Finding(
                    Severity.FAIL,
                    "tls_rpt.missing",
                    f"TLS-RPT is expected for {name} (tls_rpt = true) but {where} has no "
                    f"{VERSION} record: sending servers cannot report TLS failures to you.",
                    REF,
                ),
            )
        else:
            findings.insert(
                0,
                Finding(
                    Severity.INFO,
                    "tls_rpt.absent",
                    f"No TLS-RPT record at {where}; it is optional and not expected for this "
                    "domain.",
                    REF,
                ),
            )
        return findings, None, []
    if len(records) > 1:
        return (
            [
                Finding(
                    Severity.FAIL,
                    "tls_rpt.multiple-records",
                    f"{where} has {len(records)} {VERSION} records; senders then assume "
                    "there is none (RFC 8460 §3). Keep one.",
                    REF,
                )
            ],
            records[0],
            _all_uris(records),
        )
    text = records[0]
    try:
        record = parse(text, VERSION, spaced=("rua",))
    except TxtSyntaxError as exc:
        finding = Finding(
            Severity.FAIL,
            "tls_rpt.syntax-error",
            f"The TLS-RPT record at {where} is not valid: {exc.reason}. Senders ignore it.",
            REF,
        )
        return [finding], text, _all_uris(records)
    findings: list[Finding] = []
    count = record.count("rua")
    if count == 0:
        findings.append(
            Finding(
                Severity.FAIL,
                "tls_rpt.rua-missing",
                f"The TLS-RPT record at {where} has no rua= field: reports have nowhere to go.",
                REF,
            )
        )
    elif count > 1:
        findings.append(
            Finding(
                Severity.WARN,
                "tls_rpt.rua-repeated",
                "rua= appears more than once; put every destination in one rua=, separated "
                "by commas.",
                REF,
            )
        )
    for key, _value in record.fields:
        if key != "rua":
            findings.append(
                Finding(
                    Severity.INFO,
                    "tls_rpt.unknown-field",
                    f"{key}= is not a field of RFC 8460; senders ignore it.",
                    REF,
                )
            )
    uris = [u for key, value in record.fields if key == "rua" for u in split_uris(value)]
    findings.extend(f for uri in uris if (f := uri_finding(uri)) is not None)
    if not any(f.severity != Severity.INFO for f in findings):
        findings.insert(
            0,
            Finding(
                Severity.INFO,
                "tls_rpt.valid",
                f"Reports of failed TLS sessions go to {', '.join(uris)}.",
                REF,
            ),
        )
    return findings, text, uris


def split_uris(value: str) -> list[str]:
    """rua's URIs (`*WSP "," *WSP` between them; a `,` inside a URI is %-encoded)."""
    return [part.strip(" \t") for part in value.split(",") if part.strip(" \t")]


def uri_finding(uri: str) -> Finding | None:
    """What is wrong with one report URI, or None."""
    scheme, colon, rest = uri.partition(":")
    scheme = scheme.lower()
    shown = _quote(uri)
    if not colon:
        return Finding(
            Severity.FAIL, "tls_rpt.uri-invalid", f"{shown} is not a URI (no scheme).", REF
        )
    if scheme == "http":
        return Finding(
            Severity.FAIL,
            "tls_rpt.uri-not-https",
            f"{shown} uses http:; RFC 8460 §3 allows only mailto: and https:, so senders "
            "do not post reports there. Use https: (the receiver must accept HTTPS POSTs).",
            REF,
        )
    if scheme == "mailto":
        address = urllib.parse.unquote(rest.split("?", 1)[0])
        if not _ADDRESS.match(address):
            return Finding(
                Severity.FAIL,
                "tls_rpt.uri-invalid",
                f"{shown} is not a mail address (mailto:user@domain).",
                REF,
            )
        return None
    if scheme == "https":
        host = urllib.parse.urlsplit(uri).hostname
        if not host:
            return Finding(Severity.FAIL, "tls_rpt.uri-invalid", f"{shown} has no host name.", REF)
        return None
    return Finding(
        Severity.FAIL,
        "tls_rpt.uri-scheme",
        f"{shown}: only mailto: and https: report URIs are defined (RFC 8460 §3).",
        REF,
    )


def _all_uris(records: list[str]) -> list[str]:
    """The report URIs of records that are broken as a whole, to keep them in the fix."""
    uris: list[str] = []
    for text in records:
        for part in text.split(";"):
            key, eq, value = part.strip(" \t").partition("=")
            if eq and key.strip().lower() == "rua":
                uris.extend(u for u in split_uris(value) if u not in uris)
    return uris


def _fix(name: str, uris: list[str], findings: list[Finding]) -> Fix:
    """One record, with every report destination that works kept (an http: one moved to
    https:, which the steps say to confirm), or a mailbox to create when none is left."""
    kept: list[str] = []
    steps: list[str] = []
    for uri in uris:
        problem = uri_finding(uri)
        if problem is None:
            candidate = uri
        elif problem.code == "tls_rpt.uri-not-https":
            candidate = "https:" + uri.partition(":")[2]
            steps.append(
                f"Confirm that {candidate} accepts reports over HTTPS before publishing "
                f"(the record had {uri})."
            )
        else:
            steps.append(f"Drop {uri} (not a mailto: or https: address).")
            continue
        if candidate not in kept:
            kept.append(candidate)
    if not kept:
        kept = [f"mailto:tls-reports@{name}"]
        steps.append(
            f"Create the mailbox tls-reports@{name} (or put an address that receives "
            "reports, e.g. your DMARC report service's TLS-RPT address, in its place)."
        )
    value = f"{VERSION}; rua={','.join(kept)}"
    codes = {f.code for f in findings}
    if "tls_rpt.multiple-records" in codes:
        lead = f"Replace the TLS-RPT records at _smtp._tls.{name} with this one record:"
    elif "tls_rpt.missing" in codes:
        lead = f"Publish this TXT record at _smtp._tls.{name}:"
    else:
        lead = f"Replace the TLS-RPT record at _smtp._tls.{name} with:"
    return Fix(
        steps=(lead, value, *steps),
        record=FixRecord(qname(name), "TXT", value),
    )


def _summary(status: Status, findings: list[Finding], rua: list[str]) -> str:
    if status == Status.NONE:
        return "no TLS-RPT record (optional)"
    if status == Status.OK:
        return f"reports to {len(rua)} {'address' if len(rua) == 1 else 'addresses'}"
    first = next(f for f in findings if f.severity != Severity.INFO)
    return {
        "tls_rpt.missing": "no TLS-RPT record",
        "tls_rpt.multiple-records": "several TLS-RPT records",
        "tls_rpt.syntax-error": "invalid TLS-RPT record",
        "tls_rpt.rua-missing": "no report address (rua=)",
        "tls_rpt.rua-repeated": "rua= given twice",
        "tls_rpt.uri-not-https": "a report URI is http:",
        "tls_rpt.uri-scheme": "a report URI is not mailto:/https:",
        "tls_rpt.uri-invalid": "a report URI is malformed",
    }.get(first.code, "TLS-RPT record has problems")


def _quote(text: str, limit: int = 60) -> str:
    return '"' + (text if len(text) <= limit else text[: limit - 1] + "…") + '"'
