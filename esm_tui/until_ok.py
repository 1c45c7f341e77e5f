"""`esm-tui check --until-ok`: re-check every `every` seconds until every selected record
is ok or none, printing one line per status change; the worst status at the end.

Ctrl-C (or the timeout) ends the wait and returns the worst status of the last check.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from esm_tui.model import CHECK_NAMES, DomainReport, Status, worst
from esm_tui.text import display_safe

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


async def run_until_ok(
    names: Sequence[str],
    check: Callable[[str], Awaitable[DomainReport]],
    clear_cache: Callable[[], None],
    *,
    every: float,
    timeout: float | None,
    on_changes: Callable[[list[Change]], None] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> Status:
    """Check `names` until all are done (ok/none) or `timeout` seconds passed."""
    stream = out if out is not None else sys.stdout
    notes = err if err is not None else sys.stderr
    deadline = None if timeout is None else time.monotonic() + timeout
    statuses: dict[tuple[str, str], Status] = {}
    status = Status.UNKNOWN
    first = True
    try:
        while True:
            clear_cache()  # every round asks again: the point is to see the change
            reports = await asyncio.gather(*(check(n) for n in names))
            found = changes(statuses, reports)
            for change in found:
                stream.write(change.line() + "\n")
            stream.flush()
            if found and on_changes is not None:
                on_changes(found)
            status = worst(statuses.values())
            if first:
                # Where it starts, on stderr: stdout keeps to one line per change.
                _waiting(notes, reports)
                first = False
            if status in DONE:
                return status
            if deadline is not None and time.monotonic() >= deadline:
                return status
            pause = every if deadline is None else min(every, deadline - time.monotonic())
            await asyncio.sleep(max(0.0, pause))
    except asyncio.CancelledError:
        return status


def _waiting(notes: TextIO, reports: Sequence[DomainReport]) -> None:
    for report in reports:
        for name, result in report.checks.items():
            if result.status not in DONE:
                notes.write(
                    f"esm-tui: waiting for {display_safe(report.domain)} {name}: "
                    f"{result.status} ({display_safe(result.summary)})\n"
                )
    notes.flush()
