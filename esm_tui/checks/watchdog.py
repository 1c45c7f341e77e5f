"""Bounds on one record check: its CPU per step and its total time (issue 19 item 5).

The checks of every domain share one event loop (the dashboard's engine process, or the
`check` command). A check that computes for seconds without awaiting stalls every other
domain's check behind it; one that awaits for minutes keeps its domain's report from
ever finishing. Neither should happen — the parsers are linear (see their module
comments) and each query is bounded by the resolver's timeout and retries — but a bound
that does not depend on every parser being right keeps the engine responsive anyway:

- **CPU per step.** Each step of the check coroutine (the code between two awaits) runs
  with a CPU-time alarm (`setitimer(ITIMER_VIRTUAL)`, signal SIGVTALRM) of `STEP_CPU`
  seconds. If it fires, the step is interrupted with `TookTooLong`, a BaseException so
  that no `except Exception` in a parser swallows it. Only in the main thread (Python
  delivers signals there) and where the platform has the timer; elsewhere only the total
  bound applies. A signal cannot interrupt a single C call (one `re` match): the parsers
  use no backtracking patterns for that reason.
- **Total time.** The whole check may take `WALL_FACTOR` × the resolver's timeout ×
  (retries + 1): the worst honest case is a handful of sequential queries that all time
  out. Past it the check is cancelled.

Either way the record is `unknown` with "the check took too long", and the other records
and domains go on. Measured cost of the per-step timer: two `setitimer` calls per step,
about 1 µs each (benchmarks/bulk_check.py showed no change within its noise).
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Coroutine, Generator
from typing import Any, TypeVar

T = TypeVar("T")

#: CPU seconds one step of a check may use (a 64 KB hostile record takes < 0.5 s).
STEP_CPU = 5.0
#: The total bound, in resolver timeouts × tries.
WALL_FACTOR = 10


class TookTooLong(BaseException):
    """A check ran past its bound; BaseException so that checks cannot catch it by accident."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


_ARMED = False
_BUDGET = STEP_CPU  # the running step's, for the message


def _alarm(signum: int, frame: object) -> None:
    if _ARMED:  # a late signal after the step ended is ignored
        raise TookTooLong(f"one step used more than {_BUDGET:g} s of CPU")


_INSTALLED = False


def _can_time_steps() -> bool:
    """Install the alarm's handler once (it does nothing unless a step is running)."""
    global _INSTALLED
    if not hasattr(signal, "setitimer"):
        return False
    if threading.current_thread() is not threading.main_thread():
        return False
    if not _INSTALLED:
        signal.signal(signal.SIGVTALRM, _alarm)
        _INSTALLED = True
    return True


class _Timed:
    """Awaiting this runs `coro` step by step, each under the CPU alarm."""

    __slots__ = ("_budget", "_coro")

    def __init__(self, coro: Coroutine[Any, Any, T], budget: float) -> None:
        self._coro = coro
        self._budget = budget

    def __await__(self) -> Generator[Any, Any, Any]:
        global _ARMED, _BUDGET
        coro, sent, thrown = self._coro, None, None
        while True:
            _ARMED, _BUDGET = True, self._budget
            signal.setitimer(signal.ITIMER_VIRTUAL, self._budget)
            try:
                value = coro.throw(thrown) if thrown is not None else coro.send(sent)
            except StopIteration as stop:
                return stop.value
            except TookTooLong:
                coro.close()
                raise
            finally:
                _ARMED = False
                signal.setitimer(signal.ITIMER_VIRTUAL, 0)
            try:
                sent, thrown = (yield value), None
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - thrown in (a cancellation): passed on
                sent, thrown = None, exc


async def bounded(coro: Coroutine[Any, Any, T], wall: float, step_cpu: float | None = None) -> T:
    """`await coro`, raising TookTooLong past `wall` seconds or a step past `step_cpu`
    CPU seconds (default STEP_CPU)."""
    budget = STEP_CPU if step_cpu is None else step_cpu
    timed: Any = _Timed(coro, budget) if _can_time_steps() else coro
    try:
        async with asyncio.timeout(wall):
            return await timed
    except TimeoutError:
        raise TookTooLong(f"it ran for more than {wall:g} s") from None


def wall_bound(timeout: float, retries: int) -> float:
    """The total bound of one check for a resolver asked with `timeout` and `retries`."""
    return WALL_FACTOR * timeout * (retries + 1)
