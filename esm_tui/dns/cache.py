"""The per-cycle cache's entries: one question's outcome once known, and who waits for it.

`Dns` keeps one `CacheEntry` per (name, type, servers, recursion); concurrent askers of
the same question wait on the same entry, so each question is sent once per cycle.
"""

from __future__ import annotations

import asyncio
import time

from esm_tui.dns.outcomes import Outcome
from esm_tui.dns.priority import Waiter


class Countdown:
    """One waiter for several cache entries (`Dns.prefetch`): its future is done when
    each of them has woken it, i.e. when all their queries are answered."""

    __slots__ = ("count", "future")

    def __init__(self, future: asyncio.Future[None]) -> None:
        self.future = future
        self.count = 0

    def done(self) -> bool:
        return self.future.done()

    def set_result(self, _result: None) -> None:
        self.count -= 1
        if self.count <= 0 and not self.future.done():
            self.future.set_result(None)


class CacheEntry:
    """One cached question: its outcome once known, and the askers waiting for it.

    Completed by its `QuestionMachine` directly (no future or task of its own: a bulk run has
    thousands). An asker cancelled while waiting leaves the question running, as
    asyncio.shield would, with one list of waiters instead of a future per asker.
    """

    __slots__ = ("created", "error", "outcome", "waiters")

    def __init__(self) -> None:
        self.created = time.monotonic()
        self.outcome: Outcome | None = None
        self.error: BaseException | None = None
        #: Askers waiting, woken together when the outcome is known.
        self.waiters: list[Waiter] = []

    def done(self) -> bool:
        return self.outcome is not None or self.error is not None

    def usable(self) -> bool:
        """Done with an outcome (not failed by a bug or a closed socket)."""
        return self.outcome is not None

    def result(self) -> Outcome:
        if self.error is not None:
            raise self.error
        assert self.outcome is not None, "result() of a question still in flight"
        return self.outcome

    def finish(self, outcome: Outcome | None, error: BaseException | None = None) -> None:
        if self.done():
            return
        self.outcome, self.error = outcome, error
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self) -> Outcome:
        """The outcome, once known."""
        if not self.done():
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self.waiters.append(waiter)
            await waiter
        return self.result()
