"""How `Dns` asks one question: `QuestionMachine` sends it over the shared UDP sockets, tries
the next server and retries, follows CNAMEs, falls back to TCP for a truncated reply, and
ends in the question's cache entry; with dnspython's reading of a reply as the fallback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

import dns.exception
import dns.flags
import dns.rcode

from esm_tui.dns.cache import CacheEntry
from esm_tui.dns.messages import (
    EDNS_PAYLOAD,
    MAX_CNAME_HOPS,
    RDTYPE_NUMBERS,
    TC,
    ReplyMessage,
    Response,
    encode_query,
    failed,
    interpret,
    is_response,
    rdtype_number,
)
from esm_tui.dns.names import name_from_text
from esm_tui.dns.outcomes import Failure, Outcome
from esm_tui.dns.priority import PriorityLimit
from esm_tui.dns.reply import decode as decode_reply
from esm_tui.dns.servers import Server, format_server

if TYPE_CHECKING:
    # dns.message and dns.asyncquery are imported where they are used (a reply
    # reply.decode declines, TCP): together with dns.resolver ≈ 30 ms of every start.
    import dns.message
    import dns.name

    from esm_tui.dns.resolver import Dns


class QuestionMachine:
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
        entry: CacheEntry,
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
            self.qtype = RDTYPE_NUMBERS.get(self.rdtype) or rdtype_number(self.rdtype)
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
            failure = failed(
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
            failed(
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
            response = decode_reply(data) or _from_wire(data)
            if not is_response(response, qname, qtype):
                self._done_try(
                    failed(qname, qtype, f"reply from {where} to another question", where)
                )
                return
        except Exception as exc:  # noqa: BLE001 - bytes off the wire are untrusted: any
            # parse error of a hostile or broken reply is a failed query, not a crash.
            self._done_try(
                failed(qname, qtype, f"bad reply from {where}: {type(exc).__name__}", where)
            )
            return
        if response.flags & TC:
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
        self._done_try(failed(qname, qtype, reason, where))

    def _judge(self, message: ReplyMessage) -> None:
        """A usable reply: an error rcode is a failed try; else an outcome or a CNAME hop."""
        where = format_server(self.server)
        rcode = message.rcode()
        if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            failure = failed(
                self.current, self.qtype, f"{dns.rcode.to_text(rcode)} from {where}", where
            )
            self._failed_try(failure)
            return
        response = Response(message, where)
        outcome, next_name = interpret(
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
    """dnspython's reading of a reply `reply.decode` declined (it raises as it does)."""
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
