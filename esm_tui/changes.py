"""A record's status change between two checks, as `check --until-ok`, `monitor` and the
notifications name it: time, domain, record, old → new, summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from esm_tui.model import CHECK_NAMES, DomainReport, Status
from esm_tui.text import display_safe

#: Statuses that need nothing more: `--until-ok` is done when every record has one.
DONE = (Status.OK, Status.NONE)


@dataclass(frozen=True)
class Change:
    """One record's status change between two checks."""

    at: datetime
    domain: str
    check: str
    old: Status
    new: Status
    summary: str

    def line(self) -> str:
        """The line `--until-ok` and `monitor` print: time, domain, record, old → new, summary."""
        at = self.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return (
            f"{at} {display_safe(self.domain)} {self.check} {self.old} → {self.new}: "
            f"{display_safe(self.summary)}"
        )


def changes(before: dict[tuple[str, str], Status], reports: Sequence[DomainReport]) -> list[Change]:
    """The status changes of `reports` against `before` (updated in place); a record seen
    for the first time is no change."""
    found: list[Change] = []
    for report in reports:
        names = [n for n in CHECK_NAMES if n in report.checks]
        names += [n for n in report.checks if n not in CHECK_NAMES]
        for name in names:
            result = report.checks[name]
            key = (report.domain, name)
            old = before.get(key)
            before[key] = result.status
            if old is not None and old is not result.status:
                at = report.checked_at if report.checked_at.tzinfo else datetime.now(UTC)
                found.append(Change(at, report.domain, name, old, result.status, result.summary))
    return found
