"""The Monitor: staggered due times, one check per domain at a time, stale and changes."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from esm_tui.model import (
    CHECK_NAMES,
    DomainReport,
    Finding,
    Propagation,
    PropagationState,
    RecordResult,
    ServerAnswer,
    Severity,
    Status,
)
from esm_tui.monitor import Change, Monitor, duration, timing
from esm_tui.watch import Watches, settled


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def report(domain: str, **statuses: Status) -> DomainReport:
    """A report whose checks have the given statuses (OK for the others)."""
    checks = {}
    for check in CHECK_NAMES:
        status = statuses.get(check, Status.OK)
        summary = "DNS query failed: timeout after 2 s" if status == Status.UNKNOWN else "fine"
        findings = (
            (Finding(Severity.WARN, f"{check}.dns-failure", "Could not get it: timeout"),)
            if status == Status.UNKNOWN
            else ()
        )
        checks[check] = RecordResult(
            check, status, f"{check} {summary}", f"{domain}.", "TXT", findings=findings
        )
    return DomainReport(domain, checks, datetime(2026, 1, 1, tzinfo=UTC))


def test_slots_are_spread_over_the_interval() -> None:
    monitor = Monitor(["a.example", "b.example", "c.example", "d.example"], interval=100)
    assert [monitor.slot(d) for d in monitor.domains] == [25.0, 50.0, 75.0, 100.0]


def test_a_domain_never_checked_is_due_at_once() -> None:
    clock = FakeClock()
    monitor = Monitor(["a.example", "b.example"], interval=100, clock=clock)
    clock.now += 5
    assert monitor.seconds_until_due("a.example") == 0
    assert monitor.seconds_until_due("b.example") == 0


def test_after_the_first_sweep_the_domains_are_staggered() -> None:
    clock = FakeClock(1000)
    names = [f"d{i}.example" for i in range(4)]
    monitor = Monitor(names, interval=100, clock=clock)
    for name in names:  # everything checked at start-up, at the same moment
        monitor.record(name, report(name))
    dues = [monitor.next_due(n) for n in names]
    assert dues == [1025.0, 1050.0, 1075.0, 1100.0]
    assert len(set(dues)) == 4
    assert all(25 <= due - 1000 <= 125 for due in dues)


def test_steady_state_keeps_the_interval() -> None:
    clock = FakeClock(1000)
    monitor = Monitor(["a.example", "b.example"], interval=60, clock=clock)
    clock.now = 1030.4  # a's slot, plus a check that took 0.4 s
    monitor.record("a.example", report("a.example"))
    assert monitor.next_due("a.example") == pytest.approx(1090)
    clock.now = 1090.2
    monitor.record("a.example", report("a.example"))
    assert monitor.next_due("a.example") == pytest.approx(1150)


def test_recheck_everything_does_not_bunch_the_domains() -> None:
    clock = FakeClock(1000)
    names = [f"d{i}.example" for i in range(10)]
    monitor = Monitor(names, interval=300, clock=clock)
    clock.now = 1777  # "R": every domain checked at the same moment, mid-cycle
    for name in names:
        monitor.record(name, report(name))
    dues = sorted(monitor.next_due(n) for n in names)
    gaps = [b - a for a, b in itertools.pairwise(dues)]
    assert gaps == pytest.approx([30.0] * 9)
    assert all(dues[0] >= 1777 + 300 / 4 for _ in dues)


def test_adding_and_removing_domains() -> None:
    monitor = Monitor(["a.example"], interval=100)
    assert monitor.add("b.example") is True
    assert monitor.add("b.example") is False
    assert monitor.slot("a.example") == 50.0
    assert monitor.remove("a.example") is True
    assert monitor.domains == ["b.example"]
    assert monitor.slot("b.example") == 100.0
    added, removed = monitor.set_domains(["c.example", "b.example"])
    assert (added, removed) == (["c.example"], [])
    assert monitor.domains == ["c.example", "b.example"]


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Monitor(interval=0)


async def test_two_checks_of_one_domain_never_overlap() -> None:
    monitor = Monitor(["a.example", "b.example"], interval=100)
    inside: list[str] = []
    overlap: list[int] = []

    async def check(name: str) -> None:
        async with monitor.checking(name):
            inside.append(name)
            overlap.append(inside.count("a.example"))
            await asyncio.sleep(0.01)
            inside.remove(name)

    await asyncio.gather(check("a.example"), check("a.example"), check("b.example"))
    assert max(overlap) == 1
    assert monitor.max_running_per_domain == 1
    assert monitor.checks_started == 3


async def test_other_domains_check_at_the_same_time() -> None:
    monitor = Monitor(["a.example", "b.example"], interval=100)
    both = asyncio.Event()

    async def check(name: str) -> None:
        async with monitor.checking(name):
            if monitor.running_checks() == 2:
                both.set()
            await asyncio.wait_for(both.wait(), 2)

    await asyncio.gather(check("a.example"), check("b.example"))
    assert both.is_set()


async def test_a_cancelled_check_unwinds_before_the_next_starts() -> None:
    monitor = Monitor(["a.example"], interval=100)
    started = asyncio.Event()
    order: list[str] = []

    async def slow() -> None:
        async with monitor.checking("a.example"):
            started.set()
            try:
                await asyncio.sleep(10)
            finally:
                await asyncio.sleep(0.01)  # still unwinding when the next one asks
                order.append("first unwound")

    async def second() -> None:
        async with monitor.checking("a.example", fresh=True):
            order.append("second ran")

    first = asyncio.create_task(slow())
    await started.wait()
    assert monitor.is_checking("a.example")
    first.cancel()
    await second()
    assert order == ["first unwound", "second ran"]
    assert monitor.max_running_per_domain == 1
    assert not monitor.is_checking("a.example")


async def test_recheck_requests_do_not_pile_up() -> None:
    monitor = Monitor(["a.example"], interval=100)
    assert monitor.begin_recheck("a.example") is True
    assert monitor.begin_recheck("a.example") is False  # a second `r`
    assert monitor.recheck_pending("a.example")
    async with monitor.checking("a.example", fresh=True):
        assert monitor.begin_recheck("a.example") is False
    assert not monitor.recheck_pending("a.example")
    assert monitor.begin_recheck("a.example") is True
    monitor.end_recheck("a.example")
    assert monitor.begin_recheck("a.example") is True
    assert monitor.begin_recheck("unknown.example") is False


def test_changes_between_two_checks() -> None:
    monitor = Monitor(["example.com"], interval=100)
    assert monitor.record("example.com", report("example.com", spf=Status.FAIL)) == []
    changes = monitor.record("example.com", report("example.com"))
    assert changes == [Change("example.com", "spf", Status.FAIL, Status.OK)]
    assert changes[0].message == "SPF of example.com: FAIL → OK"
    assert monitor.record("example.com", report("example.com")) == []


def test_unknown_keeps_the_last_known_result_as_stale() -> None:
    clock = FakeClock()
    monitor = Monitor(["example.com"], interval=100, clock=clock)
    monitor.record("example.com", report("example.com", dmarc=Status.WARN))
    clock.now += 30
    changes = monitor.record("example.com", report("example.com", dmarc=Status.UNKNOWN))
    assert changes == []  # a resolver hiccup is no status change
    view = monitor.view("example.com", "dmarc")
    assert view.status == Status.WARN
    assert view.shown is not None and view.shown.summary == "dmarc fine"
    assert view.latest is not None and view.latest.status == Status.UNKNOWN
    assert view.stale_reason == "dmarc DNS query failed: timeout after 2 s"
    assert monitor.domain_status("example.com") == Status.UNKNOWN
    # The answer comes back unchanged: still no notification, no longer stale.
    assert monitor.record("example.com", report("example.com", dmarc=Status.WARN)) == []
    assert monitor.view("example.com", "dmarc").stale_reason is None
    # An unknown with nothing known before is shown as unknown, not stale.
    fresh = Monitor(["other.example"], interval=100)
    fresh.record("other.example", report("other.example", mx=Status.UNKNOWN))
    view = fresh.view("other.example", "mx")
    assert view.status == Status.UNKNOWN and view.stale_reason is None


def test_view_timing() -> None:
    clock = FakeClock(1000)
    monitor = Monitor(["example.com"], interval=300, clock=clock)
    view = monitor.view("example.com", "mx")
    assert view.shown is None and view.checked_ago is None and view.next_in == 0
    assert timing(view) == ("not checked yet", "next: due now")
    monitor.record("example.com", report("example.com"))
    clock.now = 1012
    view = monitor.view("example.com", "mx")
    assert view.checked_ago == 12
    assert view.next_in == 288
    assert timing(view) == ("checked 12 s ago", "next in 5 min")
    assert monitor.view("gone.example", "mx").shown is None


async def test_view_while_checking() -> None:
    monitor = Monitor(["example.com"], interval=300)
    async with monitor.checking("example.com"):
        view = monitor.view("example.com", "spf")
        assert view.checking
        assert timing(view) == ("checking…", "checking now")
    assert not monitor.view("example.com", "spf").checking


def test_durations() -> None:
    assert [duration(s) for s in (0, 12.4, 59, 60, 240, 3599, 7200, 86400 * 3)] == [
        "0 s", "12 s", "59 s", "1 min", "4 min", "60 min", "2 h", "3 d",
    ]  # fmt: skip


async def test_wait_until_due_wakes_when_the_schedule_changes() -> None:
    monitor = Monitor(["example.com"], interval=3600)
    monitor.record("example.com", report("example.com"))
    waiter = asyncio.create_task(monitor.wait_until_due("example.com"))
    await asyncio.sleep(0)
    assert not waiter.done()
    monitor.remove("example.com")  # removal ends the wait at once
    await asyncio.wait_for(waiter, 2)


async def test_wait_until_due_returns_when_due() -> None:
    clock = FakeClock(1000)
    monitor = Monitor(["example.com"], interval=3600, clock=clock)
    monitor.record("example.com", report("example.com"))
    waiter = asyncio.create_task(monitor.wait_until_due("example.com"))
    await asyncio.sleep(0)
    assert not waiter.done()
    clock.now += 7200
    monitor.set_interval(3600)  # wakes the waiter, which finds the domain due
    await asyncio.wait_for(waiter, 2)


def test_record_of_a_removed_domain_is_ignored() -> None:
    monitor = Monitor(["a.example"], interval=100)
    monitor.remove("a.example")
    assert monitor.record("a.example", report("a.example")) == []
    assert monitor.report("a.example") is None
    assert monitor.domain_status("a.example") is None


def test_record_error_delays_the_next_try() -> None:
    clock = FakeClock(1000)
    monitor = Monitor(["a.example"], interval=100, clock=clock)
    monitor.begin_recheck("a.example")
    monitor.record_error("a.example")
    assert monitor.seconds_until_due("a.example") > 0
    assert not monitor.recheck_pending("a.example")


# -- propagation arriving after the result --------------------------------------------------


def with_propagation(base: DomainReport) -> DomainReport:
    answer = ServerAnswer("192.0.2.1:53", "authoritative", "NOERROR", ("x",), 300, 1)
    published = Propagation(PropagationState.PUBLISHED, None, (answer,))
    checks = {n: replace(r, propagation=published) for n, r in base.checks.items()}
    return replace(base, checks=checks)


def test_attach_adds_propagation_to_the_latest_report_only() -> None:
    monitor = Monitor(["a.example"], clock=FakeClock())
    first = report("a.example")
    monitor.record("a.example", first, propagation_pending=True)
    view = monitor.view("a.example", "spf")
    assert view.propagation_pending and not view.propagation_asked
    assert monitor.attach("a.example", with_propagation(first))
    view = monitor.view("a.example", "spf")
    assert not view.propagation_pending and view.propagation_asked
    assert view.shown is not None and view.shown.propagation is not None
    # A result from an older check is ignored once a newer one is in.
    second = DomainReport("a.example", first.checks, datetime(2030, 1, 1, tzinfo=UTC))
    monitor.record("a.example", second, propagation_pending=True)
    assert not monitor.attach("a.example", with_propagation(first))
    assert monitor.view("a.example", "spf").propagation_pending
    monitor.propagation_failed("a.example")
    assert not monitor.view("a.example", "spf").propagation_pending


def test_attach_keeps_the_stale_card_on_its_last_known_result() -> None:
    monitor = Monitor(["a.example"], clock=FakeClock())
    known = report("a.example")
    monitor.record("a.example", known)
    monitor.attach("a.example", with_propagation(known))
    unknown = DomainReport(
        "a.example", report("a.example", dmarc=Status.UNKNOWN).checks,
        datetime(2030, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    monitor.record("a.example", unknown, propagation_pending=True)
    view = monitor.view("a.example", "dmarc")
    assert view.stale_reason and view.shown is not None and view.shown.propagation is not None


# -- watch mode's schedule ---------------------------------------------------------------------


def test_watches_due_every_interval_and_expire_after_the_limit() -> None:
    clock = FakeClock()
    watches = Watches(clock, interval=15, limit=3600)
    assert watches.label("a.example") is None
    watches.start("a.example")
    assert watches.due() == ["a.example"]
    watches.rechecked("a.example")
    assert watches.due() == []
    clock.now += 14.9
    assert watches.due() == []
    clock.now += 0.1
    assert watches.due() == ["a.example"]
    assert watches.label("a.example") == "watching · 60 min left"
    clock.now += 3600 - 15 - 60
    assert watches.label("a.example") == "watching · 1 min left"
    assert watches.expired() == []
    clock.now += 60
    assert watches.expired() == ["a.example"] and watches.due() == []
    assert watches.stop("a.example") and not watches.stop("a.example")
    assert settled(report("a.example", bimi=Status.NONE))
    assert not settled(report("a.example", dmarc=Status.UNKNOWN))
    assert not settled(report("a.example", spf=Status.WARN))
    with pytest.raises(ValueError):
        Watches(clock, interval=0)
