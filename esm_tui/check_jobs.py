"""`esm-tui check` of many domains on every core.

A bulk check is bound by CPU, not by round trips: at 1,000 domains it spends ~3.3 s of
CPU (decoding replies, evaluating SPF for the relay addresses, parsing keys, building
reports) while the round trips need ~0.55 s (benchmarks/bulk.py). One process uses one
core. So past a few hundred domains the run is split:

1. The first `WARM` domains are checked alone. Their answers fill the cache with what
   domains share: the relay's MX hosts and include, provider includes, report services.
2. The process forks. Each process checks a contiguous part of the rest with its share
   of `concurrency` (so that the resolver sees no more queries in flight than
   configured), starting from the same warm cache (copy-on-write). A shared name first
   met after the split can be asked once per process: DESIGN.md's "one query, once",
   bent by at most the number of processes, for names the warm-up did not meet.
3. Each child sends back, pickled over a pipe, what the caller needs of each report
   (`encode`: for JSON, its text, status and history rows) and exits; the parent puts
   them in the order of the domains. A child that fails (killed, out of memory, a bug) costs
   only time: the parent checks its part itself and says so on stderr.

Without os.fork (not Linux/macOS), or for a small run, it is one process as before.
"""

from __future__ import annotations

import asyncio
import gc
import os
import pickle
import sys
from collections.abc import Awaitable, Callable, Sequence
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
    it freezes what each finished domain left (see _check_in_order).
    """
    in_flight = max(16, dns.concurrency)
    if jobs <= 1 or len(names) <= WARM + jobs:
        return asyncio.run(_check_in_order(names, check, encode, in_flight))
    results = asyncio.run(_check_in_order(names[:WARM], check, encode, in_flight))
    parts = _split(names[WARM:], jobs)
    dns.set_concurrency(max(1, dns.concurrency // jobs))
    in_flight = max(16, dns.concurrency)
    children = _fork(parts[1:], check, encode, in_flight)
    results += asyncio.run(_check_in_order(parts[0], check, encode, in_flight))
    for child, part in zip(children, parts[1:], strict=True):
        theirs: list[T] | None = _collect(*child, len(part)) if child is not None else None
        if theirs is None:
            if child is not None:
                print(
                    f"esm-tui: a check process failed; checking its {len(part)} domains here",
                    file=sys.stderr,
                )
            theirs = asyncio.run(_check_in_order(part, check, encode, in_flight))
        results += theirs
    return results


async def _check_in_order(
    names: Sequence[str], check: Check, encode: Callable[[DomainReport], T], in_flight: int
) -> list[T]:
    """A bounded number of domains at a time, in order: enough to keep `concurrency`
    queries in flight, while the rest wait as names rather than as thousands of
    suspended checks and queued queries (at 1,000 domains started at once those held
    ~90 MB at the peak, profiled)."""
    results: list[T | None] = [None] * len(names)
    queue = iter(enumerate(names))

    async def worker() -> None:
        for index, name in queue:
            results[index] = encode(await check(name))
            # What this domain's check left is its result (and cached answers), not
            # garbage: out of the collector's reach from now on (see cli._few_collections).
            gc.freeze()

    await asyncio.gather(*(worker() for _ in range(min(len(names), in_flight))))
    return [r for r in results if r is not None]


def _split(names: Sequence[str], parts: int) -> list[Sequence[str]]:
    """`parts` contiguous slices of nearly equal length, the parent's first."""
    size, extra = divmod(len(names), parts)
    bounds = [0]
    for index in range(parts):
        bounds.append(bounds[-1] + size + (1 if index < extra else 0))
    return [names[bounds[i] : bounds[i + 1]] for i in range(parts)]


def _fork(
    parts: Sequence[Sequence[str]],
    check: Check,
    encode: Callable[[DomainReport], object],
    in_flight: int,
) -> list[tuple[int, int] | None]:
    """One child per part: (pid, read end of its pipe), or None for a part no process
    could be started for (out of processes or descriptors): the parent checks it."""
    children: list[tuple[int, int] | None] = []
    sys.stdout.flush()  # nothing is written yet; a child must never write it twice
    sys.stderr.flush()
    for part in parts:
        try:
            read_fd, write_fd = os.pipe()
        except OSError as exc:
            _cannot_start(exc)
            children.append(None)
            continue
        try:
            pid = os.fork()
        except OSError as exc:
            os.close(read_fd)
            os.close(write_fd)
            _cannot_start(exc)
            children.append(None)
            continue
        if pid == 0:
            os.close(read_fd)
            for other in children:  # the pipes of the children forked before
                if other is not None:
                    os.close(other[1])
            _child(part, check, encode, in_flight, write_fd)
        os.close(write_fd)
        children.append((pid, read_fd))
    return children


def _cannot_start(exc: OSError) -> None:
    reason = exc.strerror or str(exc)
    print(f"esm-tui: could not start a check process ({reason}); checking here", file=sys.stderr)


def _child(
    part: Sequence[str],
    check: Check,
    encode: Callable[[DomainReport], object],
    in_flight: int,
    fd: int,
) -> None:
    """Check `part`, write the pickled results to `fd` and end the process.

    os._exit, never a return or sys.exit: the parent's stack, atexit handlers and stdio
    buffers are the parent's to unwind and flush."""
    code = 1
    try:
        results = asyncio.run(_check_in_order(part, check, encode, in_flight))
        data = pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(fd, "wb") as pipe:
            pipe.write(data)
        code = 0
    except BaseException:  # noqa: BLE001 - any failure: the parent checks this part itself
        pass
    finally:
        os._exit(code)


def _collect(pid: int, fd: int, expected: int) -> list[Any] | None:
    """The child's results, or None when it did not deliver all of them."""
    with os.fdopen(fd, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return None
    try:
        results = pickle.loads(data)  # our own forked child wrote it
    except Exception:  # noqa: BLE001 - a truncated pipe: the part is checked again
        return None
    if not isinstance(results, list) or len(results) != expected:
        return None
    return results
