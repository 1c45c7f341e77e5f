"""What the DKIM rules build for one selector (`SelectorResult`), and the label the card
shows for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from esm_tui.model import Finding, FixRecord, Severity, Status

REF = "RFC 6376 §3.6.1"


@dataclass
class SelectorResult:
    """The verdict on one selector, before it is folded into the card."""

    selector: str
    name: str
    discovered: bool
    status: Status
    findings: list[Finding] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    fix_record: FixRecord | None = None
    records: list[str] = field(default_factory=list)
    ttl: int | None = None
    label: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    #: A revoked key (p=): deliberate at a selector nobody configured, so not held against it.
    revoked: bool = False

    def fail(self, code: str, message: str, ref: str, label: str) -> None:
        self.findings.append(Finding(Severity.FAIL, code, message, ref))
        self.label = self.label or label

    def warn(self, code: str, message: str, ref: str) -> None:
        self.findings.append(Finding(Severity.WARN, code, message, ref))

    def info(self, code: str, message: str, ref: str = "") -> None:
        self.findings.append(Finding(Severity.INFO, code, message, ref))


def label(res: SelectorResult) -> str:
    if res.status is Status.WARN and res.details.get("testing"):
        return f"{res.label} testing" if res.label else "testing"
    return res.label or str(res.status)
