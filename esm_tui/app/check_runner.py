"""The dashboard's checks: one worker per domain, and the engine that runs its checks.

A mixin of `EsmApp`. Each domain has one long-lived async worker (`check; hand over the
result; sleep until due`); a new one cancels the domain's old one, so "recheck now"
simply starts a fresh one, and the Monitor's per-domain lock guarantees that a cancelled
check has unwound before the next begins. The checks themselves (DNS, parsing, SPF
evaluation) run in the engine process (esm_tui/engine.py, engine_process.py), at a
priority that puts the domain on screen first, then the list from the top, then
propagation.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from textual.message import Message
from textual.worker import Worker, WorkerState

from esm_tui.checks.context import unknown_result
from esm_tui.config import Config
from esm_tui.dns import Failure, Server, system_nameservers
from esm_tui.engine import (
    CHECK,
    PROPAGATION,
    URGENT,
    DnsParams,
    Engine,
    EngineError,
    Propagate,
)
from esm_tui.model import CHECK_NAMES, DomainReport, DomainSettings
from esm_tui.monitor import Change, Monitor

log = logging.getLogger(__name__)

#: Runs one check of a domain: (its settings, fresh?) -> the report.
Checker = Callable[[DomainSettings, bool], Awaitable[DomainReport]]
#: Adds each record's propagation to a report: (report, fresh) -> the report with it.
Propagator = Callable[[DomainReport, bool], Awaitable[DomainReport]]
_M = TypeVar("_M", bound=Message)

#: Reuse DNS answers for this share of the interval: the staggered workers share answers
#: (common SPF includes) within a cycle, and each domain gets fresh ones the next cycle.
CACHE_SHARE = 0.9


class CheckStarted(Message):
    """A worker began checking `domain` (the cards show a spinner)."""

    def __init__(self, domain: str) -> None:
        super().__init__()
        self.domain = domain


class DomainChecked(Message):
    """A worker finished checking `domain`; `changes` are the statuses that moved."""

    def __init__(self, domain: str, changes: Sequence[Change]) -> None:
        super().__init__()
        self.domain = domain
        self.changes = list(changes)


class PropagationChecked(Message):
    """The authoritative servers were asked about `domain`'s latest result."""

    def __init__(self, domain: str) -> None:
        super().__init__()
        self.domain = domain


class CheckRunner:
    """The per-domain workers and the engine, mixed into EsmApp."""

    config: Config
    monitor: Monitor
    engine: Engine
    _nameservers: list[Server] | None
    _checker: Checker
    _propagator: Propagator | None
    _domain_workers: dict[str, Worker[None]]

    def on_load(self) -> None:
        # The engine process starts while the screen is built: its imports take about as
        # long, and the first check does not wait for them.
        if self._checker == self._check_with_dns and self.domain_names():
            self.engine.start()

    def _dns_params(self) -> DnsParams:
        settings = self.config.settings
        return DnsParams(
            tuple(self._nameservers or settings.nameservers or system_nameservers()),
            timeout=settings.timeout,
            retries=settings.retries,
            concurrency=settings.concurrency,
            max_age=settings.interval * CACHE_SHARE,
            trust_anchors=settings.trust_anchors,
            https_port=settings.https_port,
        )

    def _start_worker(self, name: str, *, fresh: bool = False) -> Worker[None]:
        # One worker per domain: a new one replaces (cancels) the old. Kept in a dict
        # rather than Textual's `exclusive` groups, which scan every worker to cancel
        # one (`R` at 1,000 domains: a million steps on the event loop).
        old = self._domain_workers.get(name)
        if old is not None:
            old.cancel()
        worker = self.run_worker(
            self._watch_domain(name, fresh),
            name=f"check {name}",
            group=f"domain:{name}",
            description=f"checks {name} every {self.monitor.interval:g} s",
            exit_on_error=False,
        )
        self._domain_workers[name] = worker
        return worker

    async def _watch_domain(self, name: str, fresh: bool) -> None:
        """The worker of one domain: check, post the result, then write the history and
        ask the authoritative servers (the card shows the result meanwhile), sleep until
        it is due."""
        owed = fresh  # a fresh check was asked for and has not started yet
        try:
            while name in self.monitor:
                if not fresh:
                    await self.monitor.wait_until_due(name)
                    if name not in self.monitor:
                        return
                async with self.monitor.checking(name, fresh=fresh):
                    owed = False
                    self._tell(self.on_check_started, CheckStarted(name))
                    report = await self._checker(self._settings(name), fresh)
                pending = self._propagator is not None
                changes = self.monitor.record(name, report, propagation_pending=pending)
                self._tell(self.on_domain_checked, DomainChecked(name, changes))
                await self.record_history(report)
                await self._propagate(name, report, fresh)
                fresh = False
        finally:
            if owed:  # cancelled before the fresh check could run
                self.monitor.end_recheck(name)

    def _tell(self, handler: Callable[[_M], None], message: _M) -> None:
        """Hand a worker's news to its handler at once. The worker runs on the app's own
        event loop, so this is safe, and it skips the message queue: Textual's dispatch
        of three messages per domain was a tenth of the dashboard's CPU during a
        refresh of 1,000 domains. A handler's error must not end the domain's worker."""
        try:
            handler(message)
        except Exception:  # a drawing bug: logged, the checks go on
            log.exception("handling %s failed", type(message).__name__)

    async def _propagate(self, name: str, report: DomainReport, fresh: bool) -> None:
        if self._propagator is None:
            return
        try:
            full = await self._propagator(report, fresh)
        except EngineError:  # the engine stopped (or the dashboard is closing): not a bug
            self.monitor.propagation_failed(name)
        except Exception:  # a bug there must not stop the domain's checks
            log.exception("propagation of %s failed", name)
            self.monitor.propagation_failed(name)
        else:
            self.monitor.attach(name, full)
        self._tell(self.on_propagation_checked, PropagationChecked(name))

    async def _propagate_with_dns(self, report: DomainReport, fresh: bool) -> DomainReport:
        asked = await self.engine.propagation(report)  # already on its way (see the check)
        if asked is not None:
            return asked
        settings = self.config.settings
        return await self.engine.propagate(
            report,
            fresh,
            PROPAGATION + self._position(report.domain),
            settings.port,
            settings.compare_resolvers,
        )

    def _on_screen_domain(self) -> str | None:
        """The highlighted domain: the list's own value, which is set before its message
        reaches `self.selected` (the first checks are asked for in between)."""
        try:
            return self.domain_list.selected
        except AttributeError:  # not composed yet
            return self.selected

    def _position(self, name: str) -> int:
        """Where the domain is listed: the queries of the top of the list go first."""
        try:
            position = self.domain_list.position(name)
        except AttributeError:  # not composed yet
            position = None
        return len(self.monitor) if position is None else position  # filtered out: last

    def _settings(self, name: str) -> DomainSettings:
        return self.config.domain_settings(name)

    async def _check_with_dns(self, settings: DomainSettings, fresh: bool) -> DomainReport:
        name = settings.name
        # The domain on screen first (`r` on it, or the first check at startup), then the
        # others from the top of the list.
        priority = URGENT if name == self._on_screen_domain() else CHECK + self._position(name)
        propagate = None
        if self._propagator == self._propagate_with_dns:
            propagate = Propagate(
                PROPAGATION + self._position(name),
                self.config.settings.port,
                self.config.settings.compare_resolvers,
            )
        try:
            return await self.engine.check(settings, fresh, priority, propagate)
        except EngineError as exc:
            # Like a dead resolver: every record unknown with the reason, the last known
            # results stay on screen (stale), the next check starts a new engine.
            failure = Failure(name, "TXT", f"the check engine stopped ({exc})")
            return DomainReport(
                domain=name,
                checks={c: unknown_result(c, name, "TXT", failure) for c in CHECK_NAMES},
                checked_at=datetime.now(UTC),
            )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state != WorkerState.ERROR or not (worker.group or "").startswith("domain:"):
            return
        name = worker.group.removeprefix("domain:")
        self.notify(
            f"Checking {name} failed: {worker.error!r}. esm-tui keeps watching it.",
            title="Internal error",
            severity="error",
            markup=False,
        )
        if name in self.monitor and self._domain_workers.get(name) is worker:
            self.monitor.record_error(name)
            self._start_worker(name)
