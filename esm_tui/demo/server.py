"""A small authoritative DNS server on loopback, UDP and TCP, built on dnspython.

It is the test suite's DNS and `esm-tui --demo`'s: it runs its own event loop in a
daemon thread so that synchronous tests, subprocesses and the Textual app can all
talk to it over real sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections import Counter

import dns.exception
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdatatype

from esm_tui.demo.records import Records, Resolution

_BEHAVIOUR_RCODES = {
    "servfail": dns.rcode.SERVFAIL,
    "refused": dns.rcode.REFUSED,
    "formerr": dns.rcode.FORMERR,
}


class DnsServer:
    """Serve `records` on `host:port` (port 0 picks a free one) until `stop()`.

    `delay` holds every response back that many seconds (a resolver's cache miss);
    `tcp` False refuses TCP (to play a server whose TCP fallback is broken).
    `memo` reuses the rendered reply of an identical question until the records change:
    the benchmarks use it so that this Python server (~1 ms per answer) is not what they
    measure — a real resolver answers from memory in microseconds.
    """

    def __init__(
        self,
        records: Records,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        delay: float = 0.0,
        tcp: bool = True,
        memo: bool = False,
        update_keyring: dict | None = None,
    ) -> None:
        self.records = records
        #: TSIG keys whose signed UPDATEs are applied (esm_tui.demo.update); None: every
        #: UPDATE is refused.
        self.update_keyring = update_keyring
        self.host = host
        self.port = port
        #: A port asked for by number must be that port, or start() fails (no silent move).
        self._fixed_port = port != 0
        self.delay = delay
        self.tcp = tcp
        self.memo = memo
        self._memo: dict[tuple[int, bool, bytes], tuple[bytes | None, tuple[str, str] | None]] = {}
        self.queries: Counter[tuple[str, str]] = Counter()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    @property
    def address(self) -> str:
        """`IP:PORT`, as `--nameserver` takes it."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def server(self) -> tuple[str, int]:
        return (self.host, self.port)

    def start(self) -> DnsServer:
        """Bind and serve in a background thread; returns once the sockets are open."""
        self._thread = threading.Thread(target=self._run, name="esm-demo-dns", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> DnsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        transport, tcp_server = await self._bind()
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            transport.close()
            if tcp_server is not None:
                tcp_server.close()

    async def _bind(self) -> tuple[asyncio.DatagramTransport, asyncio.base_events.Server | None]:
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        for _ in range(20):
            transport, _protocol = await loop.create_datagram_endpoint(
                lambda: _UdpProtocol(self), local_addr=(self.host, self.port), family=family
            )
            self.port = transport.get_extra_info("sockname")[1]
            sock = transport.get_extra_info("socket")
            with contextlib.suppress(OSError):
                # A burst of hundreds of queries must not overflow the receive buffer.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
            try:
                tcp_server = (
                    await asyncio.start_server(self._handle_tcp, self.host, self.port)
                    if self.tcp
                    else None
                )
            except OSError:
                # The TCP side of the port we got for UDP is taken: try another pair.
                transport.close()
                if self.port and self._requested_port_fixed():
                    raise
                self.port = 0
                continue
            return transport, tcp_server
        raise OSError("could not bind a free UDP+TCP port pair")

    def _requested_port_fixed(self) -> bool:
        return self._fixed_port

    async def _handle_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                header = await reader.readexactly(2)
                wire = await reader.readexactly(struct.unpack("!H", header)[0])
                reply = await self._reply(wire, tcp=True)
                if reply is None:
                    continue
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _reply(self, wire: bytes, *, tcp: bool) -> bytes | None:
        if not self.memo or (len(wire) > 2 and (wire[2] >> 3) & 0xF == dns.opcode.UPDATE):
            return (await self._render(wire, tcp=tcp))[0]
        found, reply = self._remembered(wire, tcp=tcp)
        if not found:
            if len(self._memo) > 200_000:
                self._memo.clear()
            key = (self.records.generation, tcp, wire[2:])
            rendered = self._memo[key] = await self._render(wire, tcp=tcp)
            return rendered[0]
        if reply is not None and self.delay:
            await asyncio.sleep(self.delay)
        return reply

    def _remembered(self, wire: bytes, *, tcp: bool) -> tuple[bool, bytes | None]:
        """(found, reply): whether `wire`'s question was rendered before (then it is
        counted as asked), and its memoized reply with `wire`'s ID (None: no reply)."""
        hit = self._memo.get((self.records.generation, tcp, wire[2:]))
        if hit is None:
            return False, None
        reply, question = hit
        if question is not None:
            self.queries[question] += 1
        return True, None if reply is None else wire[:2] + reply[2:]

    async def _render(
        self, wire: bytes, *, tcp: bool
    ) -> tuple[bytes | None, tuple[str, str] | None]:
        if len(wire) > 2 and (wire[2] >> 3) & 0xF == dns.opcode.UPDATE:
            from esm_tui.demo.update import handle_update

            return handle_update(self.records, wire, self.update_keyring), None
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None, None
        if not query.question or query.opcode() != dns.opcode.QUERY:
            return None, None
        question = query.question[0]
        asked = (question.name.to_text().lower(), dns.rdatatype.to_text(question.rdtype))
        self.queries[asked] += 1
        resolution = self.records.resolve(question.name, question.rdtype)
        if self.delay:
            await asyncio.sleep(self.delay)
        return _render(query, resolution, tcp=tcp), asked


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.server.memo and self.transport is not None:
            # A remembered answer is sent from a timer, without a task: the benchmarks
            # share two cores with this server, and its CPU per answer is theirs to lose
            # (a real resolver answers from its cache in microseconds).
            found, reply = self.server._remembered(data, tcp=False)
            if found:
                if reply is not None:
                    loop = asyncio.get_running_loop()
                    loop.call_later(self.server.delay, self.transport.sendto, reply, addr)
                return
        # One task per query so a delayed answer does not hold up the others.
        task = asyncio.ensure_future(self._answer(data, addr))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, data: bytes, addr: tuple[str, int]) -> None:
        reply = await self.server._reply(data, tcp=False)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


def _render(query: dns.message.Message, res: Resolution, *, tcp: bool) -> bytes | None:
    """The reply's wire form, applying any injected misbehaviour."""
    behaviour = res.behaviour
    if behaviour == "drop":
        return None
    if behaviour == "garbage":
        # Keeps the ID so the client reads it, then bytes that are no DNS message.
        return query.id.to_bytes(2, "big") + b"\x81garbage, not a DNS message\xff\x00"
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA
    response.flags &= ~dns.flags.RA
    if behaviour in _BEHAVIOUR_RCODES:
        response.set_rcode(_BEHAVIOUR_RCODES[behaviour])
        return response.to_wire()
    if behaviour == "wrong-id":
        response.id = (query.id + 1) & 0xFFFF
    if behaviour == "wrong-question":
        other = dns.message.make_query("wrong-question.invalid.", query.question[0].rdtype)
        response.question = other.question
    if behaviour == "truncate-only" and not tcp:
        response.flags |= dns.flags.TC
        return response.to_wire()
    response.set_rcode(res.rcode)
    response.answer = list(res.answer)
    response.authority = list(res.authority)
    limit = 65535 if tcp else (max(query.payload, 512) if query.edns >= 0 else 512)
    try:
        return response.to_wire(max_size=limit)
    except dns.exception.TooBig:
        # RFC 1035 §4.2.1 / RFC 2181 §9: too big for UDP → an empty reply with TC set.
        response.answer = []
        response.authority = []
        response.flags |= dns.flags.TC
        return response.to_wire()
