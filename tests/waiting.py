"""Awaiting a condition while the app under test runs (Textual pilot).

The tests poll a condition between short pauses of the running app and give up at a
wall-clock deadline, never after a number of turns: how long a turn lasts depends on the
machine (two cores shared with other test workers, a fresh clone that compiles its
bytecode first), which is what made the bounded-turns version time out on CI while the
app was only slow, not wrong. The deadline is generous on purpose: a test that passes
waits only as long as the condition takes; the deadline only bounds a real failure.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from textual.pilot import Pilot

#: Seconds before a condition that never holds fails the test.
DEADLINE = 60.0
#: Seconds the app runs between two looks at the condition.
STEP = 0.02


async def until(
    pilot: Pilot,
    condition: Callable[[], object],
    what: str = "",
    *,
    deadline: float = DEADLINE,
    state: Callable[[], object] | None = None,
) -> None:
    """Let the app run until `condition()` holds; at the deadline, fail with `state()`."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            detail = f": {state()}" if state is not None else ""
            raise AssertionError(f"timed out after {deadline:g} s waiting for {what}{detail}")
        await pilot.pause(STEP)


async def eventually(
    condition: Callable[[], object], what: str = "", *, deadline: float = DEADLINE
) -> None:
    """`until` without an app: poll `condition` between short sleeps of the event loop.

    For "the request has reached the server" and the like, which a loaded machine can
    take longer to reach than any fixed sleep a test would pick."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {deadline:g} s waiting for {what}")
        await asyncio.sleep(0.005)
