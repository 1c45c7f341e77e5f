"""`esm-tui check --until-ok`: re-check every `every` seconds until every selected record
is ok or none, printing one line per status change; the worst status at the end.

Ctrl-C (or the timeout) ends the wait and returns the worst status of the last check.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TextIO

from esm_tui.changes import DONE, changes
from esm_tui.model import DomainReport, Status, worst
from esm_tui.text import display_safe


async def run_until_ok(
    names: Sequence[str],
    check: Callable[[str], Awaitable[DomainReport]],
    clear_cache: Callable[[], None],
    *,
    every: float,
    timeout: float | None,
    on_round: Callable[[Sequence[DomainReport]], None] | None = None,
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
            if on_round is not None:
                on_round(reports)
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
