"""After publishing: ask every authoritative server of the zone directly until each serves
the new record sets (SPEC §6: 60 s at most), and say which do and which do not yet.

Secondaries get the change by NOTIFY and zone transfer, usually within seconds; one that
lags is reported by name, and `fix` exits 3 ("applied, not yet served everywhere").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from esm_tui.dns import Dns
from esm_tui.publish.plan import Change
from esm_tui.publish.zone import Zone, addresses, describe, read_set

#: Seconds between two rounds of questions to the servers that do not serve it yet.
POLL = 1.0


@dataclass(frozen=True)
class Served:
    """One authoritative server: whether it serves every changed record set."""

    host: str
    address: str
    serves: bool
    missing: tuple[str, ...] = ()


async def servers_of(resolver: Dns, zone: Zone, port: int) -> list[tuple[str, tuple[str, int]]]:
    """(NS host, (address, port)) for every address of every NS of the zone."""
    out: list[tuple[str, tuple[str, int]]] = []
    for host in zone.nameservers:
        for address in await addresses(resolver, host):
            out.append((host, (address, port)))
    return out


async def wait_served(
    servers: Sequence[tuple[str, tuple[str, int]]],
    changes: Sequence[Change],
    *,
    deadline: float = 60.0,
    timeout: float = 2.0,
) -> list[Served]:
    """Ask each server until it serves every change's `after`, or the deadline passes."""
    end = time.monotonic() + deadline
    state: dict[tuple[str, tuple[str, int]], Served] = {}
    while True:
        for host, server in servers:
            if (host, server) in state and state[(host, server)].serves:
                continue
            missing = []
            for change in changes:
                now = await read_set(server, change.name, change.type, timeout)
                if now is None or set(now) != set(change.after_rdata):
                    missing.append(f"{change.type} {change.name}")
            state[(host, server)] = Served(host, describe(server), not missing, tuple(missing))
        if all(s.serves for s in state.values()) or time.monotonic() >= end:
            return list(state.values())
        await asyncio.sleep(min(POLL, max(0.0, end - time.monotonic())))
