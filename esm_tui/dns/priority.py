"""Which query goes first: `QUERY_PRIORITY` (a context variable) and `PriorityLimit`, the
counting semaphore that hands each free slot to the most urgent waiter.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
from typing import Protocol

#: The priority of the queries sent from this context: lower goes first. The dashboard
#: asks for the domains in the order they are listed, and for propagation after every
#: check, so that the domain on screen is answered first even while 999 others wait.
#: A query task inherits the context of the asker that started it (asyncio copies it).
QUERY_PRIORITY: contextvars.ContextVar[float] = contextvars.ContextVar(
    "esm_query_priority", default=0.0
)


class PriorityLimit:
    """A counting semaphore whose release hands the slot to the most urgent waiter.

    Waiters are served by `QUERY_PRIORITY`, then in arrival order (FIFO among equals:
    one `esm-tui check` run, which sets no priority, is plain FIFO). asyncio.Semaphore
    (3.11) also scans its waiters on every release, past those already woken but not
    yet run: with thousands of queries queued behind `concurrency` that scan made
    releases quadratic (profiled: 170 µs per release at 1,000 domains); a heap is
    O(log n).
    """

    def __init__(self, slots: int) -> None:
        self._value = slots
        self._waiters: list[tuple[float, int, asyncio.Future[None] | Waiter]] = []
        self._arrivals = itertools.count()

    def take(self) -> bool:
        """Take a free slot at once, if there is one and nobody is queued for it."""
        if self._value > 0 and not self._waiters:
            self._value -= 1
            return True
        return False

    async def wait(self) -> None:
        """Queue for a slot; served by priority, then first come first served."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (QUERY_PRIORITY.get(), next(self._arrivals), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # handed a slot, then cancelled before using it
            raise

    def queue(self, waiter: Waiter, priority: float) -> None:
        """Queue a callback waiter: its `set_result(None)` is called, holding the slot,
        when its turn comes (by `priority`, then first come first served)."""
        heapq.heappush(self._waiters, (priority, next(self._arrivals), waiter))

    def release(self) -> None:
        while self._waiters:
            waiter = heapq.heappop(self._waiters)[2]
            if not waiter.done():  # a cancelled waiter is skipped
                waiter.set_result(None)
                return
        self._value += 1


class Waiter(Protocol):
    """What PriorityLimit and a cache entry wake: a future, or an object that acts on it."""

    def done(self) -> bool: ...

    def set_result(self, result: None, /) -> None: ...
