"""The engine process: the other side of `esm_tui.engine.Engine`'s pipes.

It is started by the dashboard as `python -c` (see engine.py for why a new interpreter
and not a fork), builds one `Dns` from the first message, then runs each request — check
a domain, or ask its authoritative servers — as a task in a context of its own, so that
its queries are served at the request's priority. Requests are admitted a few at a time
by priority; what the user is looking at runs alone. It ends when the dashboard's end of
the pipe closes.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine
from multiprocessing.connection import Connection
from typing import Any

from esm_tui.checks import check_domain
from esm_tui.checks.context import CheckContext
from esm_tui.dns import QUERY_PRIORITY, Dns
from esm_tui.dns.priority import PriorityLimit
from esm_tui.engine import CHECK, DnsParams
from esm_tui.model import DomainReport
from esm_tui.propagation import attach_propagation


def serve(request_fd: int, result_fd: int) -> None:
    """The engine process's entry point: answer requests until the pipe closes.

    Its stdin, stdout and stderr are /dev/null (the dashboard owns the terminal); errors
    go back to the dashboard as replies.
    """
    requests = Connection(request_fd, writable=False)
    results = Connection(result_fd, readable=False)
    kind, _id, params = requests.recv()  # the first message: the Dns to build
    if kind != "configure":
        raise SystemExit(f"esm-tui engine: expected the settings first, got {kind!r}")
    asyncio.run(_Server(requests, results, params).run())


class _Server:
    def __init__(self, requests: Connection, results: Connection, params: DnsParams) -> None:
        self._requests = requests
        self._results = results
        self._dns = _make_dns(params)
        self._params = params
        self._gate = PriorityLimit(_running_limit(params))
        #: Urgent requests running; `_calm` is set when there are none.
        self._urgent = 0
        self._calm = asyncio.Event()
        self._calm.set()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._done = asyncio.Event()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_reader(self._requests.fileno(), self._readable)
        try:
            await self._done.wait()
        finally:
            loop.remove_reader(self._requests.fileno())
            for task in self._tasks.values():
                task.cancel()
            self._dns.close()

    def _readable(self) -> None:
        try:
            while self._requests.poll():
                self._handle(self._requests.recv())
        except (EOFError, OSError):
            self._done.set()  # the dashboard is gone

    def _handle(self, message: tuple[str, int, Any]) -> None:
        kind, request_id, payload = message
        if kind == "cancel":
            task = self._tasks.pop(request_id, None)
            if task is not None:
                task.cancel()
        elif kind == "configure":
            self._dns.close()
            self._dns = _make_dns(payload)
            self._params = payload
            self._gate = PriorityLimit(_running_limit(payload))
        elif kind in ("check", "propagate"):
            priority, *args = payload
            # The task runs in a context of its own: its queries (and the shared query
            # tasks it starts) are served at this priority.
            context = contextvars.copy_context()
            context.run(QUERY_PRIORITY.set, priority)
            coro = self._run(kind, request_id, args)
            self._tasks[request_id] = asyncio.get_running_loop().create_task(coro, context=context)

    def _context(self, fresh: bool) -> CheckContext:
        params = self._params
        return CheckContext(
            self._dns, fresh, trust_anchors=params.trust_anchors, https_port=params.https_port
        )

    async def _run(self, kind: str, request_id: int, args: list[Any]) -> None:
        try:
            if kind == "check":
                settings, fresh, propagate = args
                report = await self._step(request_id, check_domain(settings, self._context(fresh)))
                if report is not None and propagate is not None:
                    QUERY_PRIORITY.set(propagate.priority)  # this task's context only
                    await self._step(
                        request_id,
                        attach_propagation(
                            report,
                            self._dns,
                            port=propagate.port,
                            compare_resolvers=propagate.compare_resolvers,
                            fresh=fresh,
                        ),
                    )
            else:
                report, fresh, port, compare = args
                propagation = attach_propagation(
                    report, self._dns, port=port, compare_resolvers=compare, fresh=fresh
                )
                await self._step(request_id, propagation)
        except asyncio.CancelledError:
            pass
        finally:
            self._tasks.pop(request_id, None)

    async def _step(self, request_id: int, work: Coroutine[Any, Any, DomainReport]) -> Any:
        """Run `work` once admitted, and send its report (or why it failed)."""
        # Admitted by priority, a few at a time: a thousand checks started at once would
        # interleave, and the domain on screen would finish with the last of them
        # (measured: rank 17 of 1,000 after 2.9 s, with query priorities alone). What
        # the user is looking at (URGENT) takes no place and runs alone: the others wait
        # until it is done (sharing the CPU with the first 64 admitted, it took 1 s
        # instead of 0.3 s to its first cards at startup).
        urgent = QUERY_PRIORITY.get() < CHECK
        gate = None if urgent else self._gate
        try:
            if urgent:
                self._urgent += 1
                self._calm.clear()
            else:
                await self._calm.wait()
                if not gate.take():
                    await gate.wait()
        except BaseException:
            work.close()
            raise
        try:
            value = await work
            reply: tuple[str, int, Any] = ("ok", request_id, value)
        except Exception as exc:  # noqa: BLE001 - a bug: the dashboard says so, we go on
            value = None
            reply = ("error", request_id, f"{type(exc).__name__}: {exc}")
        finally:
            if gate is not None:
                gate.release()
            if urgent:
                self._urgent -= 1
                if not self._urgent:
                    self._calm.set()
        try:
            self._results.send(reply)
        except (OSError, EOFError):
            self._done.set()  # the dashboard is gone
        except Exception as exc:  # noqa: BLE001 - a report that does not pickle is a bug
            self._results.send(("error", request_id, f"{type(exc).__name__}: {exc}"))
            return None
        return value


def _running_limit(params: DnsParams) -> int:
    """Requests run at once: enough to keep `concurrency` queries in flight (a check asks
    a handful at a time), few enough that each finishes soon after it starts."""
    return max(8, params.concurrency // 4)


def _make_dns(params: DnsParams) -> Dns:
    return Dns(
        list(params.nameservers),
        timeout=params.timeout,
        retries=params.retries,
        concurrency=params.concurrency,
        max_age=params.max_age,
    )
