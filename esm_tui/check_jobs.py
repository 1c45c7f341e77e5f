"""`esm-tui check` of many domains on every core.

A bulk check is bound by CPU, not by round trips: at 1,000 domains it spends ~3.3 s of
CPU (decoding replies, evaluating SPF for the relay addresses, parsing keys, building
reports) while the round trips need ~0.55 s (benchmarks/bulk.py). One process uses one
core. So past a few hundred domains the run is split:

1. The first `WARM` domains are checked alone. Their answers fill the cache with what
   domains share: the relay's MX hosts and include, provider includes, report services.
2. The process forks. The processes take the rest in small runs, whichever is free
   next (_Tickets), each with its share of `concurrency` (so that the resolver sees no
   more queries in flight than configured), starting from the same warm cache
   (copy-on-write). A shared name first met after the split can be asked once per
   process: DESIGN.md's "one query, once", bent by at most the number of processes, for
   names the warm-up did not meet.
3. Each child sends back, pickled over a pipe, what the caller needs of each report
   (`encode`: for JSON, its text, status and history rows) and exits; the parent puts
   them in the order of the domains. A child that fails (killed, out of memory, a bug) costs
   only time: the parent checks the runs it had taken itself and says so on stderr.

Without os.fork (not Linux/macOS), or for a small run, it is one process as before.
"""

from __future__ import annotations

import asyncio
import gc
import os
import pickle
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from esm_tui.dns import Dns
from esm_tui.model import DomainReport

#: Domains checked before the split: enough to meet the names most domains share.
WARM = 32
#: Domains per process at least: below that a process costs more than it saves.
PER_JOB = 250
#: Processes at most, whatever the core count: each has its own cache and sockets.
MAX_JOBS = 8

Check = Callable[[str], Awaitable[DomainReport]]
T = TypeVar("T")


def plan(domains: int, requested: int | None = None) -> int:
    """How many processes check `domains` domains: `requested` (`--jobs`), else one per
    usable core, at least PER_JOB domains each."""
    if not hasattr(os, "fork"):
        return 1
    if requested is not None:
        return max(1, min(requested, MAX_JOBS, max(1, domains - WARM)))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, MAX_JOBS, (domains - WARM) // PER_JOB))


def check_all(
    names: Sequence[str],
    check: Check,
    encode: Callable[[DomainReport], T],
    dns: Dns,
    jobs: int,
) -> list[T]:
    """`encode` of every domain's report, in the order of `names`, over `jobs` processes.

    `encode` runs where the domain was checked, as soon as it was: what a process sends
    back is what the caller needs of each report (for JSON output its text, status and
    history rows, so the parent neither unpickles nor encodes the children's reports),
    and the report itself can be freed at once. Meant to run inside cli._few_collections:
    it freezes what each finished domain left (see _check_each).
    """
    in_flight = max(16, dns.concurrency)
    if jobs <= 1 or len(names) <= WARM + jobs:
        return _check_in_order(names, check, encode, in_flight)
    results = _check_in_order(names[:WARM], check, encode, in_flight)
    rest = names[WARM:]
    dns.set_concurrency(max(1, dns.concurrency // jobs))
    in_flight = max(16, dns.concurrency)
    tickets = _Tickets.deal(len(rest))
    children = _fork(jobs - 1, rest, tickets, check, encode, in_flight) if tickets else []
    done = _run_each(_taken(rest, tickets), len(rest), check, encode, in_flight)
    if tickets is not None:
        tickets.close()
    failed = 0
    for child in children:
        theirs = _collect(*child)
        if theirs is None:
            failed += 1
        else:
            done.update(theirs)
    missing = [index for index in range(len(rest)) if index not in done]
    if missing:
        who = "a check process" if failed == 1 else f"{failed} check processes"
        which = "it" if failed == 1 else "they"
        print(
            f"esm-tui: {who} failed; checking the {len(missing)} domains {which} had taken here",
            file=sys.stderr,
        )
        queue = ((index, rest[index]) for index in missing)
        done.update(_run_each(queue, len(missing), check, encode, in_flight))
    return results + _in_order(rest, done)


async def _check_each(
    queue: Iterable[tuple[int, str]],
    check: Check,
    encode: Callable[[DomainReport], T],
    workers: int,
) -> dict[int, T]:
    """`encode` of each (index, name)'s report, by index: `workers` domains at a time,
    enough to keep `concurrency` queries in flight, while the rest wait as names rather
    than as thousands of suspended checks and queued queries (at 1,000 domains started at
    once those held ~90 MB at the peak, profiled). `queue` is read only as domains are
    started (see _taken)."""
    results: dict[int, T] = {}
    shared = iter(queue)

    async def worker() -> None:
        for index, name in shared:
            results[index] = encode(await check(name))
            # What this domain's check left is its result (and cached answers), not
            # garbage: out of the collector's reach from now on (see cli._few_collections).
            gc.freeze()

    await asyncio.gather(*(worker() for _ in range(workers)))
    return results


def _run_each(
    queue: Iterable[tuple[int, str]],
    count: int,
    check: Check,
    encode: Callable[[DomainReport], T],
    in_flight: int,
) -> dict[int, T]:
    """_check_each in an event loop of its own, with `in_flight` workers, or one per
    domain when `queue` holds at most `count` (fewer)."""
    return asyncio.run(_check_each(queue, check, encode, min(count, in_flight)))


def _check_in_order(
    names: Sequence[str], check: Check, encode: Callable[[DomainReport], T], in_flight: int
) -> list[T]:
    return _in_order(names, _run_each(enumerate(names), len(names), check, encode, in_flight))


def _in_order(names: Sequence[str], done: dict[int, T]) -> list[T]:
    return [done[index] for index in range(len(names))]


class _Tickets:
    """The rest of the domains in small runs, dealt to whichever process is free: each
    ticket is a run's first index, and all of them are written into a pipe before the
    fork. A process reads one ticket (4 bytes: pipe reads are atomic between processes)
    when it runs out of domains, until the pipe is empty (EOF: its write end is closed).

    A fixed split left one process idle for up to 0.3 s at the end of a bulk run while
    the other finished (the server's load and the records differ from part to part)."""

    #: Tickets at most: all must fit into a pipe's buffer before anyone reads (16 KiB is
    #: the smallest default, macOS's), as 4-byte indexes.
    MAX = 4096
    #: Domains per ticket at least: one read per run, and a small run for a fair end.
    RUN = 4

    def __init__(self, fd: int, run: int) -> None:
        self.fd = fd
        self.run = run

    @classmethod
    def deal(cls, count: int) -> _Tickets | None:
        """A pipe of tickets for `count` domains, or None when no pipe can be had (out of
        descriptors): then the parent checks them all."""
        run = max(cls.RUN, -(-count // cls.MAX))
        try:
            read_fd, write_fd = os.pipe()
        except OSError as exc:
            _cannot_start(exc)
            return None
        try:
            data = b"".join(start.to_bytes(4, "big") for start in range(0, count, run))
            written = os.write(write_fd, data)
        except OSError as exc:
            os.close(read_fd)
            _cannot_start(exc)
            return None
        finally:
            os.close(write_fd)
        if written != len(data):  # a pipe smaller than any known: nothing was dealt
            os.close(read_fd)
            return None
        return cls(read_fd, run)

    def take(self) -> int | None:
        """The first index of the next run, or None when all are taken."""
        data = os.read(self.fd, 4)
        return int.from_bytes(data, "big") if len(data) == 4 else None

    def close(self) -> None:
        os.close(self.fd)


def _taken(names: Sequence[str], tickets: _Tickets | None) -> Iterator[tuple[int, str]]:
    """(index, name) of the runs this process takes, one ticket at a time; every name
    when there are no tickets."""
    if tickets is None:
        yield from enumerate(names)
        return
    while (start := tickets.take()) is not None:
        for index in range(start, min(start + tickets.run, len(names))):
            yield index, names[index]


def _fork(
    count: int,
    names: Sequence[str],
    tickets: _Tickets,
    check: Check,
    encode: Callable[[DomainReport], object],
    in_flight: int,
) -> list[tuple[int, int]]:
    """`count` children taking tickets beside the parent: (pid, read end of its pipe)
    each. One that cannot be started (out of processes or descriptors) is not: the others
    take its share."""
    children: list[tuple[int, int]] = []
    sys.stdout.flush()  # nothing is written yet; a child must never write it twice
    sys.stderr.flush()
    for _ in range(count):
        try:
            read_fd, write_fd = os.pipe()
        except OSError as exc:
            _cannot_start(exc)
            break
        try:
            pid = os.fork()
        except OSError as exc:
            os.close(read_fd)
            os.close(write_fd)
            _cannot_start(exc)
            break
        if pid == 0:
            os.close(read_fd)
            for other in children:  # the pipes of the children forked before
                os.close(other[1])
            _child(names, tickets, check, encode, in_flight, write_fd)
        os.close(write_fd)
        children.append((pid, read_fd))
    return children


def _cannot_start(exc: OSError) -> None:
    reason = exc.strerror or str(exc)
    print(f"esm-tui: could not start a check process ({reason}); checking here", file=sys.stderr)


def _child(
    names: Sequence[str],
    tickets: _Tickets,
    check: Check,
    encode: Callable[[DomainReport], object],
    in_flight: int,
    fd: int,
) -> None:
    """Check the runs of `names` this process takes, write the pickled results (by index)
    to `fd` and end the process.

    os._exit, never a return or sys.exit: the parent's stack, atexit handlers and stdio
    buffers are the parent's to unwind and flush."""
    code = 1
    try:
        results = _run_each(_taken(names, tickets), len(names), check, encode, in_flight)
        data = pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(fd, "wb") as pipe:
            pipe.write(data)
        code = 0
    except BaseException:  # noqa: BLE001 - any failure: the parent checks its runs itself
        pass
    finally:
        os._exit(code)


def _collect(pid: int, fd: int) -> dict[int, Any] | None:
    """The child's results by index, or None when it did not deliver them: the runs it
    had taken are then missing, and the parent checks them."""
    with os.fdopen(fd, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return None
    try:
        results = pickle.loads(data)  # our own forked child wrote it
    except Exception:  # noqa: BLE001 - a truncated pipe: the part is checked again
        return None
    return results if isinstance(results, dict) else None
