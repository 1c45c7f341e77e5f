"""When each domain is checked, and what the dashboard shows of the results.

Headless (no Textual): the app runs one long-lived async worker per domain and asks the
Monitor when that domain is due, wraps each check in `checking()` (so two checks of one
domain never overlap, even while a cancelled one is still unwinding), and hands every
report to `record()`, which says which statuses changed.

Scheduling: the domains share one cycle of `interval` seconds, each at its own slot
(`interval * (i + 1) / n`), so 100 domains do not all ask at once. A domain that was
never checked is due at once; after a check, the next due time is its next slot at least
a quarter of an interval away — automatic checks keep a steady `interval` rhythm, and a manual
recheck (or `R` on every domain) does not bunch the domains together again.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from esm_tui.model import CHECK_LABELS, CHECK_NAMES, DomainReport, RecordResult, Status, worst

Clock = Callable[[], float]

LABELS: Mapping[str, str] = CHECK_LABELS


@dataclass(frozen=True)
class Change:
    """A record whose known status moved between two checks."""

    domain: str
    check: str
    old: Status
    new: Status

    @property
    def message(self) -> str:
        """`SPF of example.com: FAIL → OK` (plain text: the domain came from the user)."""
        label = LABELS.get(self.check, self.check)
        return f"{label} of {self.domain}: {self.old.word} → {self.new.word}"


@dataclass(frozen=True)
class CardView:
    """What one card shows: the result to display and how current it is."""

    check: str
    #: The result on screen: the latest, or the last known one when the latest is unknown.
    shown: RecordResult | None
    #: The latest result as received (may be `unknown`).
    latest: RecordResult | None
    #: Why `shown` is stale (the latest check could not get an answer), else None.
    stale_reason: str | None
    checking: bool
    #: Seconds since the last completed check, None before the first one.
    checked_ago: float | None
    #: Seconds until the next automatic check (0: due now).
    next_in: float | None
    #: The authoritative servers are being asked about the latest result (its line follows).
    propagation_pending: bool = False
    #: They were asked: a result without propagation means none of them answered.
    propagation_asked: bool = False

    @property
    def status(self) -> Status | None:
        return self.shown.status if self.shown is not None else None


@dataclass
class _Domain:
    name: str
    report: DomainReport | None = None
    last_known: dict[str, RecordResult] = field(default_factory=dict)
    finished_at: float | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    running: int = 0
    fresh_pending: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    propagation_pending: bool = False
    propagation_asked: bool = False


class Monitor:
    """Per-domain schedule and state; the caller runs the checks."""

    def __init__(
        self, domains: Iterable[str] = (), *, interval: float = 300.0, clock: Clock | None = None
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.interval = float(interval)
        self.clock: Clock = clock or time.monotonic
        self.started_at = self.clock()
        self._domains: dict[str, _Domain] = {}
        #: Checks begun so far, and the most that ever ran at once for one domain (tests).
        self.checks_started = 0
        self.max_running_per_domain = 0
        self.set_domains(domains)

    # -- the set of domains ---------------------------------------------------------------

    @property
    def domains(self) -> list[str]:
        return list(self._domains)

    def __contains__(self, name: object) -> bool:
        """`name in monitor`: O(1), where `name in monitor.domains` copies the list."""
        return name in self._domains

    def __len__(self) -> int:
        return len(self._domains)

    def set_domains(self, names: Iterable[str]) -> tuple[list[str], list[str]]:
        """Make `names` (in this order) the watched domains; returns (added, removed)."""
        wanted = list(dict.fromkeys(names))
        removed = [n for n in self._domains if n not in wanted]
        added = [n for n in wanted if n not in self._domains]
        old = self._domains
        self._domains = {n: old.get(n) or _Domain(n) for n in wanted}
        for state in old.values():  # the removed ones too: their waits end now
            state.wake.set()
        self._wake_all()
        return added, removed

    def add(self, name: str) -> bool:
        if name in self._domains:
            return False
        self.set_domains([*self._domains, name])
        return True

    def remove(self, name: str) -> bool:
        if name not in self._domains:
            return False
        self.set_domains(n for n in self._domains if n != name)
        return True

    def set_interval(self, interval: float) -> None:
        """A new interval (config reload): sleeping workers recompute their wait."""
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.interval = float(interval)
        self._wake_all()

    # -- scheduling -------------------------------------------------------------------------

    def slot(self, name: str) -> float:
        """This domain's offset within the cycle, in seconds (0 < slot <= interval)."""
        names = list(self._domains)
        return self.interval * (names.index(name) + 1) / len(names)

    def next_due(self, name: str) -> float:
        """The clock time of the next automatic check of `name`."""
        state = self._domains[name]
        if state.finished_at is None:
            return self.started_at
        earliest = state.finished_at + self.interval / 4
        base = self.started_at + self.slot(name)
        cycles = math.ceil((earliest - base) / self.interval)
        return base + max(cycles, 0) * self.interval

    def seconds_until_due(self, name: str) -> float:
        return max(0.0, self.next_due(name) - self.clock())

    async def wait_until_due(self, name: str) -> None:
        """Sleep until `name` is due; woken early to recompute when the schedule changes."""
        while name in self._domains:
            delay = self.seconds_until_due(name)
            if delay <= 0:
                return
            state = self._domains[name]
            state.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(state.wake.wait(), timeout=delay)

    def _wake_all(self) -> None:
        for state in self._domains.values():
            state.wake.set()

    # -- checks -----------------------------------------------------------------------------

    def begin_recheck(self, name: str) -> bool:
        """A user asked for a fresh check; False when one is already asked for or running."""
        state = self._domains.get(name)
        if state is None or state.fresh_pending:
            return False
        state.fresh_pending = True
        return True

    def end_recheck(self, name: str) -> None:
        """Forget a recheck request whose check never started (its worker was cancelled)."""
        state = self._domains.get(name)
        if state is not None:
            state.fresh_pending = False

    def recheck_pending(self, name: str) -> bool:
        state = self._domains.get(name)
        return state is not None and state.fresh_pending

    def is_checking(self, name: str) -> bool:
        state = self._domains.get(name)
        return state is not None and state.running > 0

    def running_checks(self) -> int:
        return sum(s.running for s in self._domains.values())

    @asynccontextmanager
    async def checking(self, name: str, *, fresh: bool = False) -> AsyncIterator[None]:
        """Hold the domain's check slot: a second check waits until the first has unwound."""
        state = self._domains[name]
        try:
            async with state.lock:
                state.running += 1
                self.checks_started += 1
                self.max_running_per_domain = max(self.max_running_per_domain, state.running)
                try:
                    yield
                finally:
                    state.running -= 1
        finally:
            if fresh:
                state.fresh_pending = False

    def record(
        self, name: str, report: DomainReport, *, propagation_pending: bool = False
    ) -> list[Change]:
        """Store a finished check; the known statuses that changed since the previous one.

        `unknown` is not a change: the card keeps the last known result (stale) until an
        answer comes back, so a flapping resolver does not raise two notifications.
        `propagation_pending`: the caller is asking the authoritative servers and will
        hand the same report back, with propagation, to `attach()`.
        """
        state = self._domains.get(name)
        if state is None:  # removed while its check was running
            return []
        changes: list[Change] = []
        for check in CHECK_NAMES:
            result = report.checks.get(check)
            if result is None or result.status == Status.UNKNOWN:
                continue
            before = state.last_known.get(check)
            if before is not None and before.status != result.status:
                changes.append(Change(name, check, before.status, result.status))
            state.last_known[check] = result
        state.report = report
        state.finished_at = self.clock()
        state.propagation_pending = propagation_pending
        state.propagation_asked = False
        state.wake.set()
        return changes

    def attach(self, name: str, report: DomainReport) -> bool:
        """The latest report again, now with each record's propagation; False (ignored)
        when a newer check has replaced it meanwhile."""
        state = self._domains.get(name)
        old = state.report if state else None
        if state is None or old is None or old.checked_at != report.checked_at:
            return False
        for check, result in report.checks.items():
            if state.last_known.get(check) is old.checks.get(check):
                state.last_known[check] = result
        state.report = report
        state.propagation_pending = False
        state.propagation_asked = True
        return True

    def propagation_failed(self, name: str) -> None:
        """Asking the authoritative servers crashed (a bug): the card stops waiting."""
        state = self._domains.get(name)
        if state is not None:
            state.propagation_pending = False

    def record_error(self, name: str) -> None:
        """A check crashed (a bug): count it as done, so the next try waits its turn."""
        state = self._domains.get(name)
        if state is not None:
            state.finished_at = self.clock()
            state.fresh_pending = False

    # -- what the screen shows --------------------------------------------------------------

    def report(self, name: str) -> DomainReport | None:
        state = self._domains.get(name)
        return state.report if state else None

    def domain_status(self, name: str) -> Status | None:
        """The overall status of the latest check (None before the first one)."""
        report = self.report(name)
        if report is None:
            return None
        return worst(r.status for r in report.checks.values())

    def view(self, name: str, check: str) -> CardView:
        state = self._domains.get(name)
        if state is None:
            return CardView(check, None, None, None, False, None, None)
        latest = state.report.checks.get(check) if state.report else None
        shown, stale_reason = latest, None
        known = state.last_known.get(check)
        if latest is not None and latest.status == Status.UNKNOWN and known is not None:
            shown, stale_reason = known, latest.summary
        now = self.clock()
        return CardView(
            check=check,
            shown=shown,
            latest=latest,
            stale_reason=stale_reason,
            checking=state.running > 0,
            checked_ago=None if state.finished_at is None else max(0.0, now - state.finished_at),
            next_in=max(0.0, self.next_due(name) - now),
            propagation_pending=state.propagation_pending,
            propagation_asked=state.propagation_asked,
        )


def duration(seconds: float) -> str:
    """`12 s`, `4 min`, `2 h`, `3 d`: a rough length for "checked … ago" and "next in …"."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    if seconds < 86400:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} d"


def timing(view: CardView) -> tuple[str, str]:
    """("checked 12 s ago", "next in 4 min") for a card; the app joins them with " · "."""
    if view.checked_ago is None:
        checked = "checking…" if view.checking else "not checked yet"
    else:
        checked = f"checked {duration(view.checked_ago)} ago"
    if view.checking:
        upcoming = "checking now"
    elif view.next_in is None:
        upcoming = ""
    elif view.next_in < 1:
        upcoming = "next: due now"
    else:
        upcoming = f"next in {duration(view.next_in)}"
    return checked, upcoming
