"""`Dns`, the facade every query goes through: limited in flight, served by priority,
retried, cached per cycle, concurrent askers of one question deduplicated.

Built on dnspython's `dns.asyncquery` rather than `dns.asyncresolver`: the resolver
hides which server answered, always sets RD and raises for NXDOMAIN/NODATA, while the
propagation view needs per-server answers with recursion off, negative-caching TTLs
from the SOA, and the bulk path wants one place that counts and limits every query.
Each question is then asked by a `QuestionMachine` (question.py) over the shared UDP
sockets (udp.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence

from esm_tui.dns.cache import CacheEntry, Countdown
from esm_tui.dns.names import absolute
from esm_tui.dns.outcomes import Outcome
from esm_tui.dns.priority import QUERY_PRIORITY, PriorityLimit
from esm_tui.dns.question import QuestionMachine
from esm_tui.dns.servers import Server, system_nameservers
from esm_tui.dns.udp import UdpMux


class Dns:
    """Sends queries: limited in flight, retried, cached per cycle, concurrent askers deduplicated.

    `max_age` bounds how long a cached outcome is reused (None: for the life of this
    object, which is what one `esm-tui check` run wants).
    """

    def __init__(
        self,
        nameservers: Sequence[Server] = (),
        *,
        timeout: float = 5.0,
        retries: int = 2,
        concurrency: int = 64,
        max_age: float | None = None,
    ) -> None:
        self.nameservers: list[Server] = list(nameservers) or system_nameservers()
        self.timeout = timeout
        self.retries = retries
        self.concurrency = concurrency
        self.max_age = max_age
        self.queries_sent = 0
        self._limit: PriorityLimit | None = None
        self._mux: UdpMux | None = None
        self._mux_loop: asyncio.AbstractEventLoop | None = None
        self._cache: dict[tuple[str, str, tuple[Server, ...], bool], CacheEntry] = {}

    def _udp(self) -> UdpMux:
        loop = asyncio.get_running_loop()
        if self._mux is None or self._mux_loop is not loop:
            if self._mux is not None:
                self._mux.close()  # its sockets were read by a loop that has ended
            self._mux, self._mux_loop = UdpMux(), loop
        return self._mux

    def close(self) -> None:
        """Close the shared sockets (they reopen on the next query)."""
        if self._mux is not None:
            self._mux.close()
            self._mux = None

    def set_concurrency(self, slots: int) -> None:
        """Queries in flight at once from now on (between runs: none may be waiting)."""
        self.concurrency = slots
        self._limit = None

    def clear_cache(self) -> None:
        """Forget every cached outcome (in-flight queries finish for their current askers)."""
        self._cache.clear()

    async def query(self, name: str, rdtype: str, *, fresh: bool = False) -> Outcome:
        """Ask the configured resolvers (recursion desired). `fresh` bypasses the cache."""
        name, rdtype, servers = absolute(name), rdtype.upper(), tuple(self.nameservers)
        if not fresh:
            # The common case, inline: an outcome already known (see _cached).
            entry = self._cache.get((name, rdtype, servers, True))
            if entry is not None and entry.done() and not self._expired(entry):
                return entry.result()
        return await self._cached(name, rdtype, servers, True, fresh)

    def peek(self, name: str, rdtype: str) -> Outcome | None:
        """What `query(name, rdtype)` would return at once from the cache, or None when
        it would have to ask (nothing cached, still in flight, or expired)."""
        key = (absolute(name), rdtype.upper(), tuple(self.nameservers), True)
        entry = self._cache.get(key)
        if entry is None or not entry.usable() or self._expired(entry):
            return None
        return entry.outcome

    def prefetch(self, queries: Iterable[tuple[str, str]]) -> asyncio.Future[None] | None:
        """Start asking the configured resolvers for (name, type) pairs, as `query`
        would, unless cached or in flight; a future done once all of them are answered,
        or None when none is pending.

        For a caller about to ask them all anyway (check_domain): it waits once for the
        lot, and its `query` calls then find the answers cached and return at once,
        instead of each suspending as a task of its own with a future to wake it.
        """
        servers = tuple(self.nameservers)
        countdown: Countdown | None = None
        for name, rdtype in queries:
            name, rdtype = absolute(name), rdtype.upper()
            key = (name, rdtype, servers, True)
            entry = self._cache.get(key)
            if entry is None or self._expired(entry):
                entry = self._ask(key)
            if not entry.done():
                if countdown is None:
                    countdown = Countdown(asyncio.get_running_loop().create_future())
                countdown.count += 1
                entry.waiters.append(countdown)
        return countdown.future if countdown is not None else None

    async def query_server(
        self,
        server: Server,
        name: str,
        rdtype: str,
        *,
        recursion: bool = False,
        fresh: bool = False,
    ) -> Outcome:
        """Ask one server directly (recursion off by default: for authoritative servers)."""
        return await self._cached(absolute(name), rdtype.upper(), (server,), recursion, fresh)

    async def _cached(
        self, name: str, rdtype: str, servers: tuple[Server, ...], rd: bool, fresh: bool
    ) -> Outcome:
        key = (name, rdtype, servers, rd)
        entry = self._cache.get(key)
        if entry is None or fresh or self._expired(entry):
            entry = self._ask(key)
        # Not the question itself: one asker being cancelled (a recheck restarting a
        # worker) must not stop the question other askers are waiting on.
        return await entry.wait()

    def _ask(self, key: tuple[str, str, tuple[Server, ...], bool]) -> CacheEntry:
        """Start the question `key` (name, type, servers, rd); its entry in the cache."""
        entry = self._cache[key] = CacheEntry()
        name, rdtype, servers, rd = key
        if self._limit is None:
            self._limit = PriorityLimit(self.concurrency)
        # The question goes on in callbacks, with the priority of the asker who started it.
        QuestionMachine(self, entry, name, rdtype, servers, rd, QUERY_PRIORITY.get()).start()
        return entry

    def _expired(self, entry: CacheEntry) -> bool:
        if self.max_age is None:
            return False
        return time.monotonic() - entry.created > self.max_age
