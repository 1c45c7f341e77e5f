"""Shared UDP sockets for DNS: many queries in flight over a few sockets.

dnspython's `asyncquery.udp` opens a socket per query, and asyncio's
`create_datagram_endpoint` resolves addresses in its thread pool: at a few hundred
queries in flight that costs more than the DNS messages themselves (profiled: ~1 ms of
CPU per query). Here a small pool of sockets per address family stays open for the
life of the `Dns` object; replies are matched to waiting queries by (server address,
port, message ID). A reply nobody waits for (a wrong ID, a late or spoofed packet) is
dropped, as a resolver would; the question is then checked by the caller.
"""

from __future__ import annotations

import asyncio
import random
import socket
from contextlib import suppress

#: Sockets per address family: several random source ports keep the (port, ID) space
#: that an off-path spoofer must guess larger than one socket's.
POOL_SIZE = 4
#: Receive buffer asked for: a burst of hundreds of replies must not overflow it.
RCVBUF = 1 << 21


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, mux: UdpMux) -> None:
        self.mux = mux

    def datagram_received(self, data: bytes, addr: tuple) -> None:  # type: ignore[type-arg]
        if len(data) < 2:
            return
        key = (addr[0], addr[1], int.from_bytes(data[:2], "big"))
        future = self.mux._pending.get(key)
        if future is not None and not future.done():
            future.set_result(data)

    def error_received(self, exc: Exception) -> None:
        # ICMP errors (port unreachable) arrive here without saying which query caused
        # them on an unconnected socket; the query's own timeout reports it.
        pass


class UdpMux:
    """Send a DNS query over a shared socket and wait for its reply."""

    def __init__(self) -> None:
        self._pending: dict[tuple[str, int, int], asyncio.Future[bytes]] = {}
        self._pools: dict[int, list[asyncio.DatagramTransport]] = {}
        self._opening: dict[int, asyncio.Lock] = {}

    async def exchange(self, wire: bytes, host: str, port: int, timeout: float) -> bytes:
        """Send `wire` (its ID is rewritten to a free one) and return the reply's bytes.

        Raises TimeoutError when no matching reply arrives in time and OSError when
        the packet cannot be sent.
        """
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        transports = await self._transports(family)
        loop = asyncio.get_running_loop()
        qid = self._free_id(host, port)
        key = (host, port, qid)
        future: asyncio.Future[bytes] = loop.create_future()
        self._pending[key] = future
        try:
            random.choice(transports).sendto(qid.to_bytes(2, "big") + wire[2:], (host, port))
            async with asyncio.timeout(timeout):
                reply = await future
        finally:
            self._pending.pop(key, None)
        # The reply carries our rewritten ID; callers compare against their own query.
        return wire[:2] + reply[2:]

    def _free_id(self, host: str, port: int) -> int:
        while True:
            qid = random.getrandbits(16)
            if (host, port, qid) not in self._pending:
                return qid

    async def _transports(self, family: int) -> list[asyncio.DatagramTransport]:
        pool = self._pools.get(family)
        if pool is not None:
            return pool
        lock = self._opening.setdefault(family, asyncio.Lock())
        async with lock:
            if family not in self._pools:
                self._pools[family] = [await self._open(family) for _ in range(POOL_SIZE)]
        return self._pools[family]

    async def _open(self, family: int) -> asyncio.DatagramTransport:
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.setblocking(False)
        with suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 0))
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self), sock=sock)
        return transport

    def close(self) -> None:
        for pool in self._pools.values():
            for transport in pool:
                transport.close()
        self._pools.clear()
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()
