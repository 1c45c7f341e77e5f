"""esm_tui.dns.eager: gather/start that run coroutines at once, held to asyncio.gather's results."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from esm_tui.dns import eager

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("eager_test", default="outer")


async def _now(value: object) -> object:
    return value


async def _later(value: object, delay: float = 0.01) -> object:
    await asyncio.sleep(delay)
    return value


async def _fails_now(message: str) -> None:
    raise ValueError(message)


async def _fails_later(message: str) -> None:
    await asyncio.sleep(0.01)
    raise KeyError(message)


async def test_results_in_order_whether_or_not_a_coroutine_waits() -> None:
    coros = [_now(1), _later(2, 0.02), _now(3), _later(4, 0.0)]
    assert await eager.gather(*coros) == [1, 2, 3, 4]
    assert await eager.gather() == []


async def test_no_task_for_a_coroutine_that_does_not_wait() -> None:
    before = len(asyncio.all_tasks())
    started = []

    async def record() -> int:
        started.append(len(asyncio.all_tasks()))
        return 7

    assert await eager.gather(record(), record()) == [7, 7]
    assert started == [before, before]  # ran in this task: none was made
    future = eager.start(record())
    assert future.done() and future.result() == 7


async def test_exceptions_as_asyncio_gather_gives_them() -> None:
    results = await eager.gather(
        _now(1), _fails_now("a"), _fails_later("b"), return_exceptions=True
    )
    assert results[0] == 1
    assert isinstance(results[1], ValueError) and str(results[1]) == "a"
    assert isinstance(results[2], KeyError)
    with pytest.raises(ValueError, match="a"):
        await eager.gather(_now(1), _fails_now("a"), _later(2))
    with pytest.raises(KeyError):
        await eager.gather(_later(1), _fails_later("b"))


async def test_the_others_still_run_when_one_fails_at_once() -> None:
    done = []

    async def finishes() -> None:
        await asyncio.sleep(0.01)
        done.append(True)

    with pytest.raises(ValueError):
        await eager.gather(_fails_now("a"), finishes())
    await asyncio.sleep(0.05)
    assert done == [True]  # as asyncio.gather leaves its other tasks running


async def test_each_coroutine_gets_its_own_context_copy() -> None:
    seen = []

    async def set_and_read(value: str) -> str:
        VAR.set(value)
        await asyncio.sleep(0.01)
        seen.append(VAR.get())
        return VAR.get()

    VAR.set("outer")
    assert await eager.gather(set_and_read("a"), set_and_read("b")) == ["a", "b"]
    assert sorted(seen) == ["a", "b"]
    assert VAR.get() == "outer"  # no leak into the caller, as with tasks


async def test_cancelling_the_gather_cancels_the_waiting_coroutines() -> None:
    cancelled = []

    async def waits() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    outer = asyncio.ensure_future(eager.gather(_now(1), waits(), waits()))
    await asyncio.sleep(0.01)
    outer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await outer
    await asyncio.sleep(0)
    assert cancelled == [True, True]


async def test_start_of_a_waiting_coroutine_is_a_task_that_can_be_cancelled() -> None:
    future = eager.start(_later(5, 0.01))
    assert not future.done()
    assert await future == 5
    failed = eager.start(_fails_now("now"))
    with pytest.raises(ValueError):
        await failed
    slow = eager.start(_later(1, 10))
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
