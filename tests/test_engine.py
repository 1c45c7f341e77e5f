"""The dashboard's engine process (esm_tui/engine.py) and the priorities of its queries.

Everything over real sockets: the engine is a real child process asking the loopback
server; nothing is mocked.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import signal
from collections.abc import Iterator

import pytest
from waiting import eventually

from esm_tui.checks import check_domain
from esm_tui.checks.context import CheckContext
from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from esm_tui.dns import QUERY_PRIORITY, Dns
from esm_tui.engine import (
    CHECK,
    PROPAGATION,
    URGENT,
    DnsParams,
    Engine,
    EngineError,
    Propagate,
)
from esm_tui.model import DomainSettings, Status


def good_zone(records: Records) -> None:
    records.add_zone("example.com.")
    records.add("example.com.", "MX", "10 mx.example.com.")
    records.add("mx.example.com.", "A", "192.0.2.25")
    records.add("example.com.", "TXT", '"v=spf1 ip4:192.0.2.0/24 -all"')
    records.add("_dmarc.example.com.", "TXT", '"v=DMARC1; p=reject"')


@contextlib.contextmanager
def running(server: DnsServer, **overrides: object) -> Iterator[Engine]:
    """An engine for `server` (see params), closed afterwards whatever the test did."""
    engine = Engine(params(server, **overrides))
    try:
        yield engine
    finally:
        engine.close()


def params(server: DnsServer, **overrides: object) -> DnsParams:
    values: dict[object, object] = {
        "nameservers": (server.server,),
        "timeout": 1.0,
        "retries": 0,
        "concurrency": 16,
        "max_age": None,
    }
    values.update(overrides)
    return DnsParams(**values)  # type: ignore[arg-type]


SETTINGS = DomainSettings(name="example.com")


async def test_a_check_in_the_engine_is_the_check_in_process(
    records: Records, dns_server: DnsServer
) -> None:
    good_zone(records)
    with running(dns_server) as engine:
        remote = await asyncio.wait_for(engine.check(SETTINGS, False, CHECK), 30)
    local = await check_domain(SETTINGS, CheckContext(Dns([dns_server.server], timeout=1.0)))
    assert remote.domain == "example.com"
    assert {k: r.status for k, r in remote.checks.items()} == {
        k: r.status for k, r in local.checks.items()
    }
    assert remote.checks["spf"].status == Status.OK
    assert remote.checks["spf"].records == local.checks["spf"].records
    assert remote.checks["mx"].findings == local.checks["mx"].findings
    assert engine.starts == 1


async def test_propagation_runs_in_the_engine(records: Records, dns_server: DnsServer) -> None:
    good_zone(records)
    records.add("example.com.", "NS", "ns1.example.com.")
    records.add("ns1.example.com.", "A", "127.0.0.1")
    with running(dns_server) as engine:
        report = await asyncio.wait_for(engine.check(SETTINGS, False, CHECK), 30)
        full = await asyncio.wait_for(
            engine.propagate(report, False, PROPAGATION, dns_server.port, ()), 30
        )
    spf = full.checks["spf"].propagation
    assert spf is not None
    where = f"127.0.0.1:{dns_server.port}"
    assert {(a.server, a.role) for a in spf.servers} == {
        (where, "authoritative"),
        (where, "resolver"),
    }


async def test_a_check_can_go_on_to_propagation_without_sending_the_report_back(
    records: Records, dns_server: DnsServer
) -> None:
    good_zone(records)
    records.add("example.com.", "NS", "ns1.example.com.")
    records.add("ns1.example.com.", "A", "127.0.0.1")
    with running(dns_server) as engine:
        how = Propagate(PROPAGATION, dns_server.port)
        report = await asyncio.wait_for(engine.check(SETTINGS, False, CHECK, how), 30)
        assert report.checks["spf"].propagation is None  # the check's own reply comes first
        sent = engine.requests_sent
        full = await asyncio.wait_for(engine.propagation(report), 30)
        assert full is not None
        assert full.checked_at == report.checked_at
        assert full.checks["spf"].propagation is not None
        assert engine.requests_sent == sent  # nothing went back to the engine
        assert await engine.propagation(report) is None  # taken once
        # An older report's propagation is not handed out for a newer check.
        newer = await asyncio.wait_for(engine.check(SETTINGS, True, CHECK, how), 30)
        assert await engine.propagation(report) is None
        assert (await asyncio.wait_for(engine.propagation(newer), 30)) is not None


async def test_a_killed_engine_fails_what_is_in_flight_and_the_next_check_restarts_it(
    records: Records, dns_server: DnsServer
) -> None:
    good_zone(records)
    with running(dns_server, timeout=5.0) as engine:
        await asyncio.wait_for(engine.check(SETTINGS, False, CHECK), 30)
        pid = engine.pid
        assert pid is not None
        dns_server.delay = 2.0  # the next check is still waiting when the engine dies
        asked = sum(dns_server.queries.values())
        pending = asyncio.ensure_future(engine.check(SETTINGS, True, CHECK))
        await eventually(lambda: sum(dns_server.queries.values()) > asked, "the check in flight")
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(EngineError, match="ended"):
            await asyncio.wait_for(pending, 10)
        dns_server.delay = 0
        again = await asyncio.wait_for(engine.check(SETTINGS, True, CHECK), 30)
        assert again.checks["spf"].status == Status.OK
        assert engine.starts == 2
        assert engine.pid not in (None, pid)
    assert engine.pid is None


async def test_a_cancelled_request_is_cancelled_in_the_engine(
    records: Records, dns_server: DnsServer
) -> None:
    good_zone(records)
    with running(dns_server, timeout=5.0, concurrency=1) as engine:
        await asyncio.wait_for(engine.check(SETTINGS, False, CHECK), 30)
        dns_server.delay = 1.0
        asked = sum(dns_server.queries.values())
        slow = asyncio.ensure_future(engine.check(SETTINGS, True, CHECK))
        await eventually(lambda: sum(dns_server.queries.values()) > asked, "the check in flight")
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        # With one query slot, a check still running in the engine would hold it: this
        # check only finishes quickly if the cancelled one let go of it.
        dns_server.delay = 0
        quick = await asyncio.wait_for(engine.check(SETTINGS, True, URGENT), 3)
        assert quick.checks["mx"].status == Status.OK


async def test_a_closed_engine_refuses_requests(dns_server: DnsServer) -> None:
    engine = Engine(params(dns_server))
    engine.close()
    with pytest.raises(EngineError, match="closed"):
        await engine.check(SETTINGS, False, CHECK)
    assert engine.starts == 0


async def test_configure_gives_the_engine_a_new_resolver(records: Records) -> None:
    good_zone(records)
    with DnsServer(records) as first, DnsServer(records) as second:
        with running(first) as engine:
            await asyncio.wait_for(engine.check(SETTINGS, False, CHECK), 30)
            asked_first = sum(first.queries.values())
            engine.configure(params(second))
            await asyncio.wait_for(engine.check(SETTINGS, False, CHECK), 30)
        assert sum(first.queries.values()) == asked_first  # not asked again
        assert sum(second.queries.values()) > 0  # a new cache: asked afresh
        assert engine.starts == 1


# -- priorities ------------------------------------------------------------------------------


async def test_queries_waiting_for_a_slot_go_by_priority_then_arrival(
    records: Records, dns_server: DnsServer
) -> None:
    records.add_zone("example.")
    dns_server.delay = 0.05
    dns = Dns([dns_server.server], timeout=2, retries=0, concurrency=1)
    order: list[str] = []

    async def ask(name: str, priority: float) -> None:
        QUERY_PRIORITY.set(priority)
        await dns.query(name, "A")
        order.append(name)

    def start(name: str, priority: float) -> asyncio.Task[None]:
        context = contextvars.copy_context()  # each asker its own priority
        return asyncio.get_running_loop().create_task(ask(name, priority), context=context)

    first = start("first.example", PROPAGATION)  # takes the only slot at once
    await eventually(lambda: dns_server.queries[("first.example.", "A")] == 1, "the first query")
    tasks = [
        start("late-propagation.example", PROPAGATION),
        start("check-b.example", CHECK + 2),
        start("check-a.example", CHECK + 1),
        start("check-a2.example", CHECK + 1),
        start("urgent.example", URGENT),
    ]
    await asyncio.gather(first, *tasks)
    assert order == [
        "first.example",
        "urgent.example",
        "check-a.example",
        "check-a2.example",
        "check-b.example",
        "late-propagation.example",
    ]


async def test_a_request_that_cannot_be_sent_fails_alone(
    records: Records, dns_server: DnsServer
) -> None:
    good_zone(records)
    with running(dns_server) as engine:
        broken = DomainSettings(name="example.com", spf_ips=(lambda: None,))  # type: ignore[arg-type]
        with pytest.raises(EngineError, match="not sent"):
            await asyncio.wait_for(engine.check(broken, False, CHECK), 30)
        report = await asyncio.wait_for(engine.check(SETTINGS, False, CHECK), 30)
        assert report.checks["spf"].status == Status.OK
        assert engine.starts == 1


async def test_an_urgent_check_overtakes_the_queue(records: Records, dns_server: DnsServer) -> None:
    """The domain on screen goes first: its queries by priority, and no other check is
    admitted while it runs."""
    for i in range(24):
        records.add_zone(f"d{i}.example.")
        records.add(f"d{i}.example.", "TXT", '"v=spf1 -all"')
    good_zone(records)
    dns_server.delay = 0.05
    order: list[str] = []
    with running(dns_server, timeout=5.0, concurrency=8) as engine:

        async def check(name: str, priority: float) -> None:
            await engine.check(DomainSettings(name=name), False, priority)
            order.append(name)

        await asyncio.wait_for(engine.check(SETTINGS, False, CHECK), 30)  # started, warm
        sent = engine.requests_sent
        queued = [asyncio.ensure_future(check(f"d{i}.example", CHECK + i)) for i in range(24)]
        await eventually(lambda: engine.requests_sent >= sent + 24, "the 24 requests sent")
        urgent = asyncio.ensure_future(check("example.com", URGENT))
        await asyncio.wait_for(asyncio.gather(urgent, *queued), 60)
    # At most the first batch admitted (8 checks at concurrency 8) can finish before it.
    assert order.index("example.com") <= 8, order
