"""The DMARC findings as the check collects them, and how they settle into a status.

A `Verdict` holds the findings and the queries that went unanswered, each with the worst
severity its answer could have added; `settle()` applies SPEC §4 "Precisely" to them. The
RFC sections the findings cite are named here once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from esm_tui.checks.context import failure_finding
from esm_tui.dns import Failure
from esm_tui.model import Finding, Severity, Status, status_from_findings

CHECK = "dmarc"

REF_FORMAT = "RFC 9989 §4.7"
REF_SYNTAX = "RFC 9989 §4.8"
REF_WALK = "RFC 9989 §4.10"
REF_DISCOVERY = "RFC 9989 §4.10.1"
REF_REMOVED = "RFC 9989 Appendix C.5.2"
REF_PCT = "RFC 9989 Appendix A.6"
# "Verifying External Destinations"; section number as SPEC §4 cites it (draft -32 had it in §4).
REF_EXTERNAL = "RFC 9990 §3.2.3"


@dataclass
class Verdict:
    """Findings so far, and the unanswered queries that could still change the verdict."""

    findings: list[Finding]
    #: Unanswered queries, with the worst severity their answer could have added.
    pending: list[tuple[Failure, Severity]]

    def add(self, severity: Severity, code: str, message: str, ref: str) -> None:
        self.findings.append(Finding(severity, code, message, ref))


def settle(verdict: Verdict) -> tuple[Status, list[Finding]]:
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


def quote(text: str, limit: int = 120) -> str:
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return f'"{shown}"'
