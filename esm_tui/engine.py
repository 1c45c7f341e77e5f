"""The dashboard's check engine: DNS and the five checks in a process of their own.

This module is the dashboard's side (`Engine`); the process itself is engine_process.py.

A check is mostly CPU: decoding replies, evaluating SPF, parsing keys. Run on the
dashboard's event loop, a full refresh of 1,000 domains kept that loop busy for tens of
seconds and a key press waited behind it (measured: median 1.3 s from key to repaint).
In a thread it would still share the interpreter lock with the screen. So the engine
runs in a child process, on the other core: the dashboard sends it requests (check a
domain, ask the authoritative servers about a report) and awaits the reports, which
come back pickled. Everything else — the schedule, the history, the screen — stays in
the dashboard.

The child is a new interpreter (`python -c`, not a fork: the dashboard already runs
threads, which a fork must not copy; not multiprocessing's "spawn", which re-imports the
caller's main module) in a session of its own (a ctrl+c or hangup of the terminal is
the dashboard's to handle), started on the first request. It holds one `Dns` (its cache
and its shared sockets), answers requests concurrently, serves their queries by
`priority` (the domain on screen first, propagation after every check), and ends when
the dashboard's end of the pipe closes. If it dies anyway (killed, out of memory) the
requests in flight fail with `EngineError` and the next request starts a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from esm_tui.dns import Server
from esm_tui.model import DomainReport, DomainSettings

if TYPE_CHECKING:
    from esm_tui.dnssec.anchors import Anchors

log = logging.getLogger(__name__)

#: Priorities of the queries (lower first): a check the user asked for, then the
#: automatic checks in list order (`CHECK + index`), then propagation.
URGENT = 0.0
CHECK = 1.0
PROPAGATION = 1e9


class EngineError(RuntimeError):
    """The engine process ended (or failed to start) while a request was in flight."""


@dataclass(frozen=True)
class Propagate:
    """Ask the authoritative servers right after the check (how, and at what priority)."""

    priority: float
    port: int = 53
    compare_resolvers: tuple[Server, ...] = ()


@dataclass(frozen=True)
class DnsParams:
    """What the engine builds its `Dns` from (sent again when [settings] change)."""

    nameservers: tuple[Server, ...]
    timeout: float
    retries: int
    concurrency: int
    max_age: float | None
    #: What the checks need of [settings] besides DNS (CheckContext's fields).
    trust_anchors: Anchors | None = None
    https_port: int = 443


class Engine:
    """The dashboard's handle on the engine process; use from one event loop."""

    def __init__(self, params: DnsParams) -> None:
        self._params = params
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        #: The second reply of a check asked with `Propagate`: by request id, and by
        #: domain (the latest check's), until `propagation()` takes it.
        self._second: dict[int, asyncio.Future[DomainReport]] = {}
        self._later: dict[str, tuple[object, int]] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._requests: Connection | None = None
        self._outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._starting: asyncio.Lock | None = None
        self._closed = False
        #: Requests sent and processes started so far (tests and the benchmark).
        self.requests_sent = 0
        self.starts = 0

    @property
    def params(self) -> DnsParams:
        return self._params

    @property
    def pid(self) -> int | None:
        """The engine process's id while it runs (for the benchmark's CPU and RSS)."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def configure(self, params: DnsParams) -> None:
        """New resolver settings: the engine builds a new `Dns` (and a new cache)."""
        self._params = params
        if self._requests is not None:
            self._send(("configure", 0, params))

    async def check(
        self,
        settings: DomainSettings,
        fresh: bool,
        priority: float,
        propagate: Propagate | None = None,
    ) -> DomainReport:
        """`check_domain` of `settings`, run in the engine.

        With `propagate`, the engine goes on to ask the authoritative servers about the
        report it has just sent (no second trip of the report through the pipes, which
        cost the dashboard ~0.7 ms per domain to pickle); `propagation()` awaits that.
        """
        if propagate is None:
            return await self._request("check", (settings, fresh, None), priority)
        request_id = next(self._ids)
        second: asyncio.Future[DomainReport] = asyncio.get_running_loop().create_future()
        self._second[request_id] = second
        try:
            report = await self._request(
                "check", (settings, fresh, propagate), priority, request_id=request_id
            )
        except BaseException:
            self._second.pop(request_id, None)
            raise
        superseded = self._later.pop(settings.name, None)
        if superseded is not None:
            self._drop_second(superseded[1])
        self._later[settings.name] = (report.checked_at, request_id)
        return report

    async def propagation(self, report: DomainReport) -> DomainReport | None:
        """The report with propagation, from the check that produced `report` with
        `propagate`; None when there is none (then ask `propagate()`)."""
        entry = self._later.get(report.domain)
        if entry is None or entry[0] != report.checked_at:
            return None
        del self._later[report.domain]
        request_id = entry[1]
        second = self._second.get(request_id)
        if second is None:
            return None
        try:
            return await second
        except asyncio.CancelledError:
            self._drop_second(request_id)
            raise
        finally:
            self._second.pop(request_id, None)

    def _drop_second(self, request_id: int) -> None:
        """Nobody will wait for this propagation: stop it in the engine."""
        second = self._second.pop(request_id, None)
        if second is not None and not second.done():
            second.cancel()
            self._send(("cancel", request_id, None))

    async def propagate(
        self,
        report: DomainReport,
        fresh: bool,
        priority: float,
        port: int,
        compare_resolvers: Sequence[Server],
    ) -> DomainReport:
        """`attach_propagation` of `report`, run in the engine."""
        args = (report, fresh, port, tuple(compare_resolvers))
        return await self._request("propagate", args, priority)

    def close(self) -> None:
        """End the engine (its pipe closes; it exits) and fail what is still pending."""
        self._closed = True
        if self._requests is not None:
            self._requests = None
            self._outbox.put(None)  # the writer closes the pipe: the engine sees its end
        process, self._process = self._process, None
        if process is not None:
            _reap(process)
        self._fail_all("the engine was closed")

    # -- the parent's side of the pipes ----------------------------------------------------------

    async def _request(
        self, kind: str, args: tuple[Any, ...], priority: float, request_id: int | None = None
    ) -> Any:
        if self._closed:
            raise EngineError("the engine was closed")
        self._loop = asyncio.get_running_loop()
        if self._requests is None:
            await self._ensure_started()
        if request_id is None:
            request_id = next(self._ids)
        future: asyncio.Future[Any] = self._loop.create_future()
        self._pending[request_id] = future
        try:
            self._send((kind, request_id, (priority, *args)))
            return await future
        except asyncio.CancelledError:
            if self._pending.pop(request_id, None) is not None:
                self._send(("cancel", request_id, None))
            raise
        finally:
            self._pending.pop(request_id, None)

    async def _ensure_started(self) -> None:
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:  # a thousand first checks start one process
            if self._requests is not None:
                return
            try:
                await asyncio.to_thread(self._start)  # spawning waits on the child: off the loop
            except OSError as exc:
                raise EngineError(f"could not start the engine process: {exc}") from exc
        if self._closed:  # the dashboard closed meanwhile
            self.close()
            raise EngineError("the engine was closed")

    def _send(self, message: tuple[str, int, Any]) -> None:
        """Queue a request for the writer thread: the event loop never blocks on the
        pipe (it did, for half a second at startup, while the engine was busy reading
        the first thousand requests)."""
        if self._requests is not None:
            self._outbox.put(message)
            self.requests_sent += 1

    def _write(self, requests: Connection, outbox: queue.SimpleQueue[Any]) -> None:
        """Thread: pickle and send the queued requests; close the pipe at the sentinel
        (or at once when the engine is closed: what is still queued no longer matters)."""
        try:
            while (message := outbox.get()) is not None and not self._closed:
                try:
                    data = pickle.dumps(message)
                except Exception as exc:  # noqa: BLE001 - a bug: that request fails, not all
                    self._in_loop(
                        self._deliver, ("error", message[1], f"request not sent: {exc!r}")
                    )
                    continue
                requests.send_bytes(data)
        except (OSError, ValueError) as exc:  # the engine died: the reader fails the rest
            log.debug("engine request lost: %s", exc)
        finally:
            requests.close()

    def _in_loop(self, callback: Callable[..., None], *args: object) -> None:
        """From a thread: run `callback(*args)` on the event loop, if there is one still."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(callback, *args)

    def start(self) -> None:
        """Start the engine process now (it imports its modules meanwhile) rather than
        at the first request; an error is left for that request to report."""
        if self._requests is None and not self._closed:
            try:
                self._start()
            except OSError as exc:
                log.warning("the engine did not start: %s", exc)

    def _start(self) -> None:
        if self._requests is not None:
            return
        request_read, request_write = os.pipe()
        result_read, result_write = os.pipe()
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", _CHILD, str(request_read), str(result_write)],
                pass_fds=(request_read, result_write),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError:
            os.close(request_write)
            os.close(result_read)
            raise
        finally:
            # The child holds its own copies; ours must close so that EOF can be seen.
            os.close(request_read)
            os.close(result_write)
        requests = Connection(request_write, readable=False)
        results = Connection(result_read, writable=False)
        outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        outbox.put(("configure", 0, self._params))  # the child's first message
        threading.Thread(
            target=self._write, args=(requests, outbox), daemon=True, name="engine writer"
        ).start()
        threading.Thread(
            target=self._read, args=(results, requests), daemon=True, name="engine reader"
        ).start()
        # Published last, the outbox before the pipe: this runs in a thread, and a
        # request sent meanwhile must go after the settings, into this outbox.
        self._process, self._outbox = process, outbox
        self._requests = requests
        self.starts += 1

    def _read(self, results: Connection, requests: Connection) -> None:
        """Thread: unpickle replies as they come (blocking reads, off the event loop).

        The loop is looked up per reply: the process may be started before the loop
        runs (`start()`), and a reply only comes after a request, which sets it."""
        try:
            while True:
                self._in_loop(self._deliver, results.recv())  # no loop: nobody waits
        except (EOFError, OSError):
            pass
        finally:
            results.close()
            if self._loop is None:
                self._ended(requests)  # no loop, no futures: safe from this thread
            else:
                self._in_loop(self._ended, requests)

    def _deliver(self, message: tuple[str, int, Any]) -> None:
        kind, request_id, value = message
        future = self._pending.pop(request_id, None)
        if future is None:  # not the first reply: the propagation that followed a check
            future = self._second.get(request_id)
        if future is None or future.done():
            return  # cancelled meanwhile
        if kind == "ok":
            future.set_result(value)
        else:
            future.set_exception(EngineError(value))

    def _ended(self, requests: Connection) -> None:
        """The engine's results pipe closed: it exited or died."""
        if self._requests is requests:  # not a process already replaced by a new one
            self._requests = None
            self._outbox.put(None)
            process, self._process = self._process, None
            if process is not None:
                _reap(process)
            self._fail_all("the engine process ended (it is restarted on the next check)")

    def _fail_all(self, reason: str) -> None:
        pending, self._pending = self._pending, {}
        second, self._second = self._second, {}
        self._later.clear()
        for future in [*pending.values(), *second.values()]:
            if not future.done():
                future.set_exception(EngineError(reason))
                future.exception()  # retrieved: a second reply nobody awaits is no error


#: The child's program: its two pipes are passed as file descriptors.
_CHILD = (
    "import sys; from esm_tui.engine_process import serve; "
    "serve(int(sys.argv[1]), int(sys.argv[2]))"
)


def _reap(process: subprocess.Popen[bytes]) -> None:
    try:
        process.wait(timeout=1)  # it exits at the end of file of its requests
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=1)
