"""`esm-tui check --format nagios`: output of a Nagios/Icinga plugin (the monitoring-plugins
guidelines): one status line `ESM-TUI STATE - text | perfdata`, then one line per record
that is not ok. The exit code stays the caller's (0 ok, 1 warn, 2 fail, 3 unknown).
"""

from __future__ import annotations

from collections.abc import Sequence

from esm_tui.model import CHECK_NAMES, DomainReport, RecordResult, Status, worst
from esm_tui.text import display_safe

#: The status line's text before the perfdata: short enough for every Nagios/Icinga UI
#: (the guidelines ask for a short first line; older cores cut the output).
FIRST_LINE_TEXT_MAX = 200

_STATE = {
    Status.OK: "OK",
    Status.NONE: "OK",
    Status.WARN: "WARNING",
    Status.FAIL: "CRITICAL",
    Status.UNKNOWN: "UNKNOWN",
}
_ADJECTIVE = {Status.FAIL: "failing", Status.WARN: "warning", Status.UNKNOWN: "unknown"}
_COUNTED = (Status.OK, Status.WARN, Status.FAIL, Status.UNKNOWN)


def render(reports: Sequence[DomainReport]) -> str:
    """The plugin output for `reports`, ending in a newline."""
    status = worst(r.status for r in reports)
    lines = [f"ESM-TUI {_STATE[status]} - {_summary(reports, status)} | {_perfdata(reports)}"]
    for report in reports:
        for result in _ordered(report):
            if result.status in (Status.OK, Status.NONE):
                continue
            lines.append(
                f"{_plain(report.domain)} {_label(result.check)} {_STATE[result.status]}: "
                f"{_plain(result.summary)}"
            )
    return "\n".join(lines) + "\n"


def _summary(reports: Sequence[DomainReport], status: Status) -> str:
    if status not in _ADJECTIVE:
        return f"all {len(reports)} domains ok"
    hit = [r for r in reports if r.status is status]
    head = f"{len(hit)} of {len(reports)} domains {_ADJECTIVE[status]}: "
    parts = []
    for report in hit:
        labels = ", ".join(_label(r.check) for r in _ordered(report) if r.status is status)
        parts.append(f"{_plain(report.domain)} ({labels})")
    text = head + ", ".join(parts)
    if len(text) <= FIRST_LINE_TEXT_MAX:
        return text
    # Whole domains only, then an ellipsis: a cut name would read as another domain.
    text = head
    for index, part in enumerate(parts):
        candidate = text + (", " if index else "") + part
        if len(candidate) + len(", …") > FIRST_LINE_TEXT_MAX:
            return text + (", …" if index else "…")
        text = candidate
    return text


def _perfdata(reports: Sequence[DomainReport]) -> str:
    counts = dict.fromkeys(_COUNTED, 0)
    for report in reports:
        for result in report.checks.values():
            if result.status in counts:
                counts[result.status] += 1
    return " ".join(f"{status.value}={counts[status]};;;0" for status in _COUNTED)


def _ordered(report: DomainReport) -> list[RecordResult]:
    known = [report.checks[n] for n in CHECK_NAMES if n in report.checks]
    return known + [r for n, r in report.checks.items() if n not in CHECK_NAMES]


def _label(check: str) -> str:
    return check.upper().replace("_", "-")


def _plain(text: str) -> str:
    """DNS text made safe for a plugin line: no control characters, and no `|` (it would
    start the perfdata) and no line break (it would start another line)."""
    return display_safe(text).replace("|", "/")
