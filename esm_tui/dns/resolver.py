"""The DNS layer: every query esm-tui sends goes through `Dns`.

Outcomes are values, never exceptions: `Answer`, `NxDomain`, `NoData` or `Failure`.
A check can then tell "the record is absent" (an answer) from "we could not ask"
(a failure that must never paint a card red).

Built on dnspython's `dns.asyncquery` rather than `dns.asyncresolver`: the resolver
hides which server answered, always sets RD and raises for NXDOMAIN/NODATA, while the
propagation view needs per-server answers with recursion off, negative-caching TTLs
from the SOA, and the bulk path wants one place that counts and limits every query.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import heapq
import ipaddress
import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeAlias

import dns.exception
import dns.flags
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from esm_tui.dns import reply as dns_reply
from esm_tui.dns.udp import UdpMux
from esm_tui.once import once

if TYPE_CHECKING:
    # dns.message, dns.asyncquery and dns.resolver are imported where they are used (a
    # reply dns_reply declines, TCP, /etc/resolv.conf): together ≈ 30 ms of every start.
    import dns.message
    import dns.rrset

Server = tuple[str, int]

#: CNAME hops followed before we call it a loop; RFC 1034 gives no limit, resolvers use ~8-16.
MAX_CNAME_HOPS = 12
#: The EDNS buffer size of the DNS Flag Day 2020: avoids IP fragmentation.
EDNS_PAYLOAD = 1232


class NameserverError(ValueError):
    """A nameserver string that is not `IP`, `IP:PORT` or `[IPv6]:PORT`."""


def parse_nameserver(text: str, default_port: int = 53) -> Server:
    """Parse `IP`, `IP:PORT` or `[IPv6]:PORT` (a bare IPv6 address is allowed too)."""
    text = text.strip()
    host, port = text, default_port
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise NameserverError(f"{text!r}: missing ']' after the IPv6 address")
        host, rest = text[1:end], text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise NameserverError(f"{text!r}: expected ':PORT' after ']'")
            port = _parse_port(text, rest[1:])
    elif text.count(":") == 1:
        host, port_text = text.split(":")
        port = _parse_port(text, port_text)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise NameserverError(
            f"{text!r} is not an IP address (use IP, IP:PORT or [IPv6]:PORT)"
        ) from None
    return (str(address), port)


def _parse_port(text: str, port_text: str) -> int:
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise NameserverError(f"{text!r}: port must be a number from 1 to 65535")
    return int(port_text)


def format_server(server: Server) -> str:
    """`IP:PORT`, with brackets around IPv6 addresses."""
    host, port = server
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def system_nameservers() -> list[Server]:
    """The resolvers of /etc/resolv.conf (or the platform equivalent)."""
    import dns.resolver

    try:
        resolver = dns.resolver.Resolver(configure=True)
    except dns.resolver.NoResolverConfiguration:
        return []
    return [(str(ns), 53) for ns in resolver.nameservers]


def name_from_text(name: str) -> dns.name.Name:
    """`dns.name.from_text(name)`, the same Name or the same error, faster for the
    common case: an absolute ASCII name without escapes is its labels split at the dots
    (the Name constructor checks label and name lengths). Anything else goes to dnspython
    (IDNA for non-ASCII, backslash escapes, relative names, the root)."""
    if name.endswith(".") and name != "." and name.isascii() and "\\" not in name:
        labels = name.encode("ascii").split(b".")
        if b"" in labels[:-1] or max(map(len, labels)) > 63:
            return dns.name.Name(labels)  # raises what dnspython raises
        return dns_reply.make_name(tuple(labels))  # checks the 255-octet limit
    return dns.name.from_text(name)


def _qtype(rdtype: str) -> int:
    """`dns.rdatatype.from_text`, memoized for the handful of types the checks ask."""
    qtype = dns.rdatatype.from_text(rdtype)
    if len(_QTYPES) < 64:
        _QTYPES[rdtype] = qtype
    return qtype


_QTYPES: dict[str, int] = {}


@functools.lru_cache(maxsize=8192)  # pure; called for every query, mostly the same names
def absolute(name: str) -> str:
    """Lower-case, with exactly one trailing dot: the form used for keys and JSON."""
    name = name.strip().lower().rstrip(".")
    return name + "."


def decode_txt(strings: Sequence[bytes]) -> str:
    """TXT character-strings joined without separators; invalid UTF-8 kept as `\\xNN` (SPEC §3)."""
    return b"".join(strings).decode("utf-8", errors="backslashreplace")


@dataclass(frozen=True)
class Answer:
    """Records of the asked type, after following any CNAMEs."""

    name: str
    rdtype: str
    ttl: int
    rdatas: tuple[dns.rdata.Rdata, ...]
    server: str = ""
    cnames: tuple[str, ...] = ()

    @property
    def canonical(self) -> str:
        """The owner of the records: the last CNAME target, or the asked name."""
        return self.cnames[-1] if self.cnames else self.name

    def texts(self) -> list[str]:
        """For TXT answers: each record as one decoded string (SPEC §3 `records`)."""
        return [decode_txt(r.strings) for r in self.rdatas if hasattr(r, "strings")]

    @once
    def raw_texts(self) -> tuple[str, ...]:
        """For TXT answers: each record's strings joined, undecodable bytes kept as
        surrogates (so that parsers reject them as non-ASCII). Decoded once per answer:
        a bulk check reads the same cached answers (shared SPF includes) thousands of
        times."""
        return tuple(b"".join(r.strings).decode("utf-8", "surrogateescape") for r in self.rdatas)

    def values(self) -> list[str]:
        """Each record in presentation format (for non-TXT types)."""
        return [r.to_text() for r in self.rdatas]


@dataclass(frozen=True)
class NxDomain:
    """The name does not exist. `negative_ttl` is the RFC 2308 TTL from the SOA, if sent.

    `zone` and `serial`: owner and serial of that SOA (the zone that said no), if sent.
    """

    name: str
    rdtype: str
    negative_ttl: int | None = None
    server: str = ""
    cnames: tuple[str, ...] = ()
    zone: str | None = None
    serial: int | None = None


@dataclass(frozen=True)
class NoData:
    """The name exists but has no records of this type (`zone`, `serial`: as for NxDomain)."""

    name: str
    rdtype: str
    negative_ttl: int | None = None
    server: str = ""
    cnames: tuple[str, ...] = ()
    zone: str | None = None
    serial: int | None = None


@dataclass(frozen=True)
class Failure:
    """No usable answer: timeout, SERVFAIL, REFUSED, garbage, network error."""

    name: str
    rdtype: str
    reason: str
    server: str = ""


Outcome = Answer | NxDomain | NoData | Failure
#: A reply as read: by `dns_reply.decode`, or by dnspython when that declines (or over TCP).
_Message: TypeAlias = "dns.message.Message | dns_reply.Reply"


def describe(outcome: Outcome) -> str:
    """A short phrase for messages: `NXDOMAIN`, `no TXT record`, `timeout from 1.2.3.4:53`."""
    match outcome:
        case Answer():
            return f"{len(outcome.rdatas)} {outcome.rdtype} record(s)"
        case NxDomain():
            return "NXDOMAIN (the name does not exist)"
        case NoData():
            return f"no {outcome.rdtype} record (NODATA)"
        case Failure():
            return outcome.reason
    raise TypeError(outcome)


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
        self._waiters: list[tuple[float, int, asyncio.Future[None] | _Waiter]] = []
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

    def queue(self, waiter: _Waiter, priority: float) -> None:
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


class _Waiter(Protocol):
    """What PriorityLimit and a cache entry wake: a future, or an object that acts on it."""

    def done(self) -> bool: ...

    def set_result(self, result: None, /) -> None: ...


class _Countdown:
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


class _CacheEntry:
    """One cached question: its outcome once known, and the askers waiting for it.

    Completed by its `_Question` directly (no future or task of its own: a bulk run has
    thousands). An asker cancelled while waiting leaves the question running, as
    asyncio.shield would, with one list of waiters instead of a future per asker.
    """

    __slots__ = ("created", "error", "outcome", "waiters")

    def __init__(self) -> None:
        self.created = time.monotonic()
        self.outcome: Outcome | None = None
        self.error: BaseException | None = None
        #: Askers waiting, woken together when the outcome is known.
        self.waiters: list[_Waiter] = []

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
        self._cache: dict[tuple[str, str, tuple[Server, ...], bool], _CacheEntry] = {}

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
        countdown: _Countdown | None = None
        for name, rdtype in queries:
            name, rdtype = absolute(name), rdtype.upper()
            key = (name, rdtype, servers, True)
            entry = self._cache.get(key)
            if entry is None or self._expired(entry):
                entry = self._ask(key)
            if not entry.done():
                if countdown is None:
                    countdown = _Countdown(asyncio.get_running_loop().create_future())
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

    def _ask(self, key: tuple[str, str, tuple[Server, ...], bool]) -> _CacheEntry:
        """Start the question `key` (name, type, servers, rd); its entry in the cache."""
        entry = self._cache[key] = _CacheEntry()
        name, rdtype, servers, rd = key
        if self._limit is None:
            self._limit = PriorityLimit(self.concurrency)
        # The question goes on in callbacks, with the priority of the asker who started it.
        _Question(self, entry, name, rdtype, servers, rd, QUERY_PRIORITY.get()).start()
        return entry

    def _expired(self, entry: _CacheEntry) -> bool:
        if self.max_age is None:
            return False
        return time.monotonic() - entry.created > self.max_age


class _Question:
    """One question asked of `servers`: retries, the next server, CNAME hops and the TCP
    fallback, as callbacks on the event loop that end in its cache entry's outcome.

    A coroutine per question cost a task, and a wake-up of it for every slot, reply
    and hop: in a bulk run more CPU than the DNS messages themselves (profiled). Here
    the UDP reader calls `on_reply`, which decodes, judges and either finishes or sends
    the next question at once. Only the rare TCP fallback runs as a task.
    """

    __slots__ = (
        "cnames",
        "current",
        "dns",
        "entry",
        "holding",
        "hops",
        "key",
        "last",
        "limit",
        "name",
        "priority",
        "qtype",
        "rd",
        "rdtype",
        "server",
        "servers",
        "tcp",
        "timer",
        "tries",
    )

    def __init__(
        self,
        owner: Dns,
        entry: _CacheEntry,
        name: str,
        rdtype: str,
        servers: tuple[Server, ...],
        rd: bool,
        priority: float,
    ) -> None:
        self.dns, self.entry, self.priority = owner, entry, priority
        # The limit it was started under: its slot goes back there even if the Dns gets a
        # new one meanwhile (set_concurrency).
        assert owner._limit is not None  # made by Dns._ask
        self.limit: PriorityLimit = owner._limit
        self.name, self.rdtype, self.servers, self.rd = name, rdtype, servers, rd
        self.cnames: list[str] = []
        self.hops = 0
        self.holding = False  # holds a slot of the concurrency limit
        self.key: tuple[str, int, int] | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.tcp: asyncio.Task[dns.message.Message] | None = None
        self.last: Failure | None = None
        self.server: Server = ("", 0)

    def start(self) -> None:
        if not self.servers:
            self.finish(
                Failure(
                    self.name, self.rdtype, "no nameserver configured (empty /etc/resolv.conf?)"
                )
            )
            return
        try:
            self.current = name_from_text(self.name)
            self.qtype = _QTYPES.get(self.rdtype) or _qtype(self.rdtype)
        except dns.exception.DNSException as exc:
            # An over-long label or name: no query can be sent for it.
            self.finish(Failure(self.name, self.rdtype, f"invalid query name: {exc}"))
            return
        self._exchange()

    # -- one exchange: every server, retries + 1 times, until a usable reply

    def _exchange(self) -> None:
        self.tries = iter(self.servers * (self.dns.retries + 1))
        self.last = None
        self._next_try()

    def _next_try(self) -> None:
        server = next(self.tries, None)
        if server is None:
            last = self.last
            if last is None:
                self.finish(Failure(self.name, self.rdtype, "no answer"))
            else:
                self.finish(Failure(self.name, self.rdtype, last.reason, last.server))
            return
        self.server = server
        if self.limit.take():
            self._send()
        else:
            self.limit.queue(self, self.priority)

    # PriorityLimit's waiter protocol: a slot is handed over by calling set_result.
    def done(self) -> bool:
        return self.entry.done()

    def set_result(self, _result: None) -> None:
        self._guarded(self._send)

    def _send(self) -> None:
        self.holding = True
        dns_ = self.dns
        dns_.queries_sent += 1
        host, port = self.server
        try:
            self.key = dns_._udp().send(
                encode_query(self.current, self.qtype, self.rd), host, port, self
            )
        except OSError as exc:
            where = format_server(self.server)
            failure = _failed(
                self.current,
                self.qtype,
                f"network error with {where}: {exc.strerror or exc}",
                where,
            )
            # The slot is handed on at the next turn of the loop: when every send fails at
            # once, handing it on now would recurse through the queue of waiting questions.
            asyncio.get_running_loop().call_soon(self._guarded, self._done_try, failure)
            return
        self.timer = asyncio.get_running_loop().call_later(
            dns_.timeout, self._guarded, self._timeout
        )

    def _timeout(self) -> None:
        if self.key is not None:
            self.dns._udp().forget(self.key)
        self._release()
        where = format_server(self.server)
        self._failed_try(
            _failed(
                self.current,
                self.qtype,
                f"timeout after {self.dns.timeout:g} s from {where}",
                where,
            )
        )

    def _failed_try(self, failure: Failure) -> None:
        self.last = failure
        self._next_try()

    def _release(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.holding:
            self.holding = False
            self.limit.release()

    # -- the UdpMux receiver protocol

    def on_reply(self, data: bytes) -> None:
        self._guarded(self._reply, data)

    def on_close(self) -> None:
        # The sockets were closed under it (Dns.close): its askers see it cancelled.
        self._release()
        self.entry.finish(None, asyncio.CancelledError())

    def _reply(self, data: bytes) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        qname, qtype, where = self.current, self.qtype, format_server(self.server)
        try:
            response = dns_reply.decode(data) or _from_wire(data)
            if not _answers(response, qname, qtype):
                self._done_try(
                    _failed(qname, qtype, f"reply from {where} to another question", where)
                )
                return
        except Exception as exc:  # noqa: BLE001 - bytes off the wire are untrusted: any
            # parse error of a hostile or broken reply is a failed query, not a crash.
            self._done_try(
                _failed(qname, qtype, f"bad reply from {where}: {type(exc).__name__}", where)
            )
            return
        if response.flags & _TC:
            # The slot stays held for the TCP exchange (RFC 7766).
            host, port = self.server
            self.tcp = asyncio.ensure_future(
                _tcp(qname, qtype, self.rd, host, port, self.dns.timeout)
            )
            self.tcp.add_done_callback(self._tcp_done)
            return
        self._release()
        self._judge(response)

    def _done_try(self, failure: Failure) -> None:
        self._release()
        self._failed_try(failure)

    def _tcp_done(self, task: asyncio.Task[dns.message.Message]) -> None:
        self.tcp = None
        if task.cancelled():
            self._release()
            self.entry.finish(None, asyncio.CancelledError())
            return
        self._guarded(self._tcp_result, task)

    def _tcp_result(self, task: asyncio.Task[dns.message.Message]) -> None:
        qname, qtype, where = self.current, self.qtype, format_server(self.server)
        try:
            response = task.result()
        except (dns.exception.Timeout, TimeoutError):
            reason = f"timeout after {self.dns.timeout:g} s from {where}"
        except ConnectionRefusedError:
            reason = f"connection refused by {where}"
        except OSError as exc:
            reason = f"network error with {where}: {exc.strerror or exc}"
        except Exception as exc:  # noqa: BLE001 - as for UDP: a bad reply is a failed query
            reason = f"bad reply from {where}: {type(exc).__name__}"
        else:
            self._release()
            self._judge(response)
            return
        self._done_try(_failed(qname, qtype, reason, where))

    def _judge(self, message: _Message) -> None:
        """A usable reply: an error rcode is a failed try; else an outcome or a CNAME hop."""
        where = format_server(self.server)
        rcode = message.rcode()
        if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            failure = _failed(
                self.current, self.qtype, f"{dns.rcode.to_text(rcode)} from {where}", where
            )
            self._failed_try(failure)
            return
        response = _Response(message, where)
        outcome, next_name = _interpret(
            response, self.name, self.rdtype, self.current, self.qtype, self.cnames
        )
        if outcome is not None:
            self.finish(outcome)
            return
        self.hops += 1
        if self.hops >= MAX_CNAME_HOPS:
            self.finish(
                Failure(
                    self.name,
                    self.rdtype,
                    f"CNAME chain longer than {MAX_CNAME_HOPS} hops (a loop?)",
                )
            )
            return
        self.current = next_name
        self._exchange()

    def finish(self, outcome: Outcome) -> None:
        self._release()
        self.entry.finish(outcome)

    def _guarded(self, step: Callable[..., None], *args: object) -> None:
        """Run a step; a bug in it fails this question's askers (as an exception in a
        task would) instead of leaving them waiting for ever."""
        try:
            step(*args)
        except Exception as exc:  # noqa: BLE001 - handed to the askers, who raise it
            self._release()
            self.entry.finish(None, exc)


def _from_wire(data: bytes) -> dns.message.Message:
    """dnspython's reading of a reply `dns_reply.decode` declined (it raises as it does)."""
    import dns.message

    return dns.message.from_wire(data)


async def _tcp(
    qname: dns.name.Name, qtype: int, rd: bool, host: str, port: int, timeout: float
) -> dns.message.Message:
    """The same question over TCP, for a truncated UDP reply (RFC 7766)."""
    import dns.asyncquery
    import dns.message

    query = dns.message.make_query(qname, qtype, use_edns=0, payload=EDNS_PAYLOAD)
    if not rd:
        query.flags &= ~dns.flags.RD
    return await dns.asyncquery.tcp(query, host, timeout=timeout, port=port)


#: Header bits (RFC 1035 §4.1.1) as plain ints: `int & IntFlag` runs the enum's Python code.
_QR = 0x8000
_OPCODE = 0x7800
_TC = 0x0200
#: Header flags of a query: RD, or nothing (opcode QUERY, no AD/CD, as dnspython sends them).
_RD = 0x0100
#: QDCOUNT 1, ANCOUNT 0, NSCOUNT 0, ARCOUNT 1 (the OPT record).
_COUNTS = b"\x00\x01\x00\x00\x00\x00\x00\x01"
#: RFC 6891 §6.1.2 OPT pseudo-record: root owner, TYPE 41, CLASS = UDP payload size,
#: TTL = extended RCODE 0, version 0, no DO flag; no options.
_OPT = b"\x00\x00\x29" + EDNS_PAYLOAD.to_bytes(2, "big") + b"\x00\x00\x00\x00\x00\x00"
_RCODES_WITHOUT_QUESTION = frozenset(
    {dns.rcode.FORMERR, dns.rcode.SERVFAIL, dns.rcode.NOTIMP, dns.rcode.REFUSED}
)


def encode_query(qname: dns.name.Name, qtype: int, rd: bool = True, qid: int = 0) -> bytes:
    """The wire form of a query for (qname, qtype, IN) with EDNS0 (RFC 1035 §4.1, RFC 6891).

    Byte for byte what `dns.message.make_query(qname, qtype, use_edns=0, payload=1232)`
    renders (tests hold it to that), at a fraction of the cost: the format is fixed and
    every part of it is ours (the name is an already validated `dns.name.Name`), so
    there is nothing to parse. The reply is still decoded by dnspython.
    """
    labels = b"".join(len(label).to_bytes(1, "big") + label for label in qname.labels)
    return b"".join(
        (
            qid.to_bytes(2, "big"),
            (_RD if rd else 0).to_bytes(2, "big"),
            _COUNTS,
            labels,
            qtype.to_bytes(2, "big"),
            b"\x00\x01",
            _OPT,
        )
    )


def _same_name(a: dns.name.Name, b: dns.name.Name) -> bool:
    """`a == b` (case-insensitive, RFC 4343), with the common identical case first."""
    return a.labels == b.labels or a == b


def _answers(response: _Message, qname: dns.name.Name, qtype: int) -> bool:
    """`Message.is_response` for a query we encoded (the mux already matched the ID): a
    response (QR), opcode QUERY, and our question, or none in an error reply."""
    if not response.flags & _QR or response.flags & _OPCODE:
        return False
    if not response.question:
        return response.rcode() in _RCODES_WITHOUT_QUESTION
    return all(
        q.rdtype == qtype and q.rdclass == dns.rdataclass.IN and _same_name(q.name, qname)
        for q in response.question
    )


@dataclass
class _Response:
    message: _Message
    server: str


def _failed(qname: dns.name.Name, qtype: int, reason: str, server: str) -> Failure:
    return Failure(qname.to_text().lower(), dns.rdatatype.to_text(qtype), reason, server)


def _negative_soa(message: _Message) -> tuple[int | None, str | None, int | None]:
    """(negative TTL, zone, serial) from the SOA in the authority section, or Nones.

    The negative TTL is RFC 2308 §5's min(SOA TTL, SOA MINIMUM).
    """
    for rrset in message.authority:
        if rrset.rdtype == dns.rdatatype.SOA and len(rrset):
            soa = rrset[0]
            return min(rrset.ttl, soa.minimum), dns_reply.name_text(rrset.name).lower(), soa.serial
    return None, None, None


def _interpret(
    response: _Response,
    name: str,
    rdtype: str,
    current: dns.name.Name,
    qtype: int,
    cnames: list[str],
) -> tuple[Outcome | None, dns.name.Name]:
    """Turn one reply into an outcome, or into the next CNAME target still to ask."""
    message, where = response.message, response.server
    seen: set[dns.name.Name] | None = None  # made when there is a CNAME to follow
    while True:
        rrset = _find(message, current, qtype)
        if rrset is not None:
            return Answer(name, rdtype, rrset.ttl, tuple(rrset), where, tuple(cnames)), current
        cname = (
            None if qtype == dns.rdatatype.CNAME else _find(message, current, dns.rdatatype.CNAME)
        )
        if cname is None or not len(cname):
            break
        if seen is None:
            seen = {current}
        current = cname[0].target
        if current in seen or len(cnames) >= MAX_CNAME_HOPS:
            return Failure(name, rdtype, "CNAME loop", where), current
        seen.add(current)
        cnames.append(current.to_text().lower())
    negative, zone, serial = _negative_soa(message)
    if message.rcode() == dns.rcode.NXDOMAIN:
        return NxDomain(name, rdtype, negative, where, tuple(cnames), zone, serial), current
    if cnames and negative is None and not _find(message, current, dns.rdatatype.CNAME):
        # The server gave the chain only up to an out-of-zone target: ask for the target.
        return None, current
    return NoData(name, rdtype, negative, where, tuple(cnames), zone, serial), current


def _find(
    message: _Message, owner: dns.name.Name, rdtype: int
) -> dns.rrset.RRset | dns_reply.RRs | None:
    for rrset in message.answer:
        if (
            rrset.rdtype == rdtype
            and rrset.rdclass == dns.rdataclass.IN
            and _same_name(rrset.name, owner)
        ):
            return rrset
    return None
