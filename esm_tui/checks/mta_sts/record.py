"""The `_mta-sts.DOMAIN` TXT record (RFC 8461 §3.1), and the finding codes of the check.

Senders keep the TXT records that start with `v=STSv1`; unless exactly one is left and
it is valid (with an `id` of 1–32 letters and digits), they assume the domain has no
policy, and fetch nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from esm_tui.checks.transport_txt import TxtSyntaxError, parse, starts_with
from esm_tui.model import DomainSettings, Finding, Severity, Status

VERSION = "v=STSv1"
REF_TXT = "RFC 8461 §3.1"
REF_POLICY = "RFC 8461 §3.2"
REF_FETCH = "RFC 8461 §3.3"
REF_MATCH = "RFC 8461 §4.1"

_ID = re.compile(r"[A-Za-z0-9]{1,32}\Z")

CODES: dict[str, str] = {
    "mta_sts.absent": "No MTA-STS record (optional, and not expected for this domain).",
    "mta_sts.missing": "mta_sts = true, but no MTA-STS record is published.",
    "mta_sts.not-stsv1": "TXT data at _mta-sts that does not start with v=STSv1 (ignored).",
    "mta_sts.multiple-records": "More than one v=STSv1 record: senders assume no policy.",
    "mta_sts.syntax-error": "The TXT record does not follow RFC 8461's grammar.",
    "mta_sts.id-invalid": "The record's id= is missing or not 1–32 letters and digits.",
    "mta_sts.policy-host-missing": "mta-sts.DOMAIN does not exist (no address): no policy.",
    "mta_sts.policy-not-found": "The policy URL answers 404/410: no policy is served.",
    "mta_sts.policy-http-status": "The policy URL answers an HTTP error other than 404.",
    "mta_sts.policy-redirect": "The policy URL redirects; senders do not follow redirects.",
    "mta_sts.policy-certificate": "The certificate of mta-sts.DOMAIN is not valid for it "
    "(expired, self-signed, wrong name): senders do not accept the policy.",
    "mta_sts.policy-too-large": "The policy file is over 64 KB.",
    "mta_sts.policy-unreachable": "The policy could not be fetched (timeout, refused, 5xx): "
    "unknown, not red.",
    "mta_sts.policy-tls": "The TLS handshake with the policy host failed: unknown.",
    "mta_sts.policy-content-type": "The policy is not served as text/plain.",
    "mta_sts.policy-syntax": "A line of the policy is not key: value, or a required field "
    "(version, mode, max_age) is missing.",
    "mta_sts.policy-version": "The policy's version is not STSv1.",
    "mta_sts.policy-mode": "The policy's mode is not enforce, testing or none.",
    "mta_sts.policy-max-age": "max_age is not a number, or over 31557600 (a year).",
    "mta_sts.policy-no-mx": "No mx: line in an enforce or testing policy.",
    "mta_sts.policy-repeated-field": "version, mode or max_age is given twice.",
    "mta_sts.policy-blank-line": "Blank lines in the policy (not in the grammar).",
    "mta_sts.mx-pattern-invalid": "An mx: pattern that is not a host name or *.domain.",
    "mta_sts.mode-none": "mode: none — senders neither enforce nor report.",
    "mta_sts.mode-testing": "mode: testing — senders report failures but deliver.",
    "mta_sts.max-age-short": "max_age under a day.",
    "mta_sts.mx-covered": "Every MX host matches an mx: pattern of the policy.",
    "mta_sts.mx-not-covered": "An MX host matches no mx: pattern: refused by senders in "
    "enforce mode (red), reported in testing (orange).",
    "mta_sts.null-mx": "The domain has a null MX: the policy has nothing to protect.",
    "mta_sts.dns-failure": "A query needed for the verdict could not be answered.",
}


@dataclass
class TxtVerdict:
    """What the TXT says: `status` NONE (absent, not expected), else the record and its id
    (None: the check fails on the TXT alone, with `summary` and the fix's `lead`)."""

    status: Status | None
    findings: list[Finding] = field(default_factory=list)
    record: str | None = None
    id: str | None = None
    summary: str = ""
    lead: str = ""
    missing: bool = False


def read_txt(domain: DomainSettings, name: str, texts: tuple[str, ...]) -> TxtVerdict:
    where = f"_mta-sts.{name}"
    records = [t for t in texts if starts_with(t, VERSION)]
    foreign = [
        Finding(
            Severity.INFO,
            "mta_sts.not-stsv1",
            f"The TXT data at {where} does not start with {VERSION} ({_quote(t)}); senders "
            "ignore it.",
            REF_TXT,
        )
        for t in texts[:3]
        if not starts_with(t, VERSION)
    ]
    if not records:
        if not domain.mta_sts_expected:
            absent = Finding(
                Severity.INFO,
                "mta_sts.absent",
                f"No MTA-STS record at {where}; it is optional and not expected for this domain.",
                REF_TXT,
            )
            return TxtVerdict(Status.NONE, [absent, *foreign])
        missing = Finding(
            Severity.FAIL,
            "mta_sts.missing",
            f"MTA-STS is expected for {name} (mta_sts = true) but {where} has no {VERSION} "
            "record: senders deliver without requiring TLS.",
            REF_TXT,
        )
        return TxtVerdict(
            Status.FAIL,
            [missing, *foreign],
            summary="no MTA-STS record",
            lead="Publish an MTA-STS policy, in testing mode first:",
            missing=True,
        )
    if len(records) > 1:
        finding = Finding(
            Severity.FAIL,
            "mta_sts.multiple-records",
            f"{where} has {len(records)} {VERSION} records; senders then assume there is no "
            "policy. Keep one.",
            REF_TXT,
        )
        return TxtVerdict(
            Status.FAIL,
            [finding],
            record=records[0],
            summary="several MTA-STS records",
            lead=f"Replace the {VERSION} records at {where} with one.",
        )
    try:
        record = parse(records[0], VERSION)
    except TxtSyntaxError as exc:
        finding = Finding(
            Severity.FAIL,
            "mta_sts.syntax-error",
            f"The MTA-STS record at {where} is not valid: {exc.reason}; senders assume no policy.",
            REF_TXT,
        )
        return TxtVerdict(
            Status.FAIL,
            [finding],
            record=records[0],
            summary="invalid MTA-STS record",
            lead=f"Replace the record at {where} with a valid one.",
        )
    record_id = record.first("id")
    if record_id is None or not _ID.match(record_id):
        finding = Finding(
            Severity.FAIL,
            "mta_sts.id-invalid",
            f"The MTA-STS record at {where} "
            + ("has no id=" if record_id is None else f"has id={_quote(record_id)}")
            + " (1 to 32 letters and digits); senders assume no policy.",
            REF_TXT,
        )
        return TxtVerdict(
            Status.FAIL,
            [finding],
            record=records[0],
            summary="MTA-STS id invalid",
            lead=f"Replace the record at {where} with one whose id is letters and digits.",
        )
    return TxtVerdict(None, list(foreign), record=records[0], id=record_id)


def _quote(text: str, limit: int = 60) -> str:
    return '"' + (text if len(text) <= limit else text[: limit - 1] + "…") + '"'
