"""`esm-tui monitor`: the dashboard's engine and schedule without a screen, for systemd.

Each domain is checked on the dashboard's schedule (monitor.Monitor) by the dashboard's
engine process; every status change becomes one log line on stdout, a row in the history
database and a notification (`[notify]`, `--notify`). SIGTERM or SIGINT stops it within a
second with exit 0. Under systemd (JOURNAL_STREAM set) each line starts with a syslog
priority (`<3>` fail, `<4>` warn or unknown, `<5>` ok), which journald reads as the level;
colour only on a terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC
from typing import Any, TextIO

from esm_tui.changes import DONE, changes
from esm_tui.model import DomainReport, Status
from esm_tui.text import display_safe

_PRIORITY = {Status.FAIL: 3, Status.WARN: 4, Status.UNKNOWN: 4, Status.OK: 5, Status.NONE: 5}
_COLOUR = {Status.FAIL: "31", Status.WARN: "33", Status.UNKNOWN: "35", Status.OK: "32"}
#: Seconds SIGTERM leaves pending notifications to go out (systemd waits 90 s; we want 1).
CLOSE_WAIT = 0.5


def parser() -> argparse.ArgumentParser:
    from esm_tui.cli import _common, _Parser

    result = _Parser(
        prog="esm-tui monitor",
        description="Check on the dashboard's schedule without a screen (for systemd): a log "
        "line, a history row and a notification per status change; SIGTERM stops it.",
    )
    _common(result)
    result.add_argument(
        "--demo", action="store_true", help="watch the built-in demo domains (loopback DNS)"
    )
    result.add_argument(
        "--interval",
        type=_seconds,
        metavar="SECONDS",
        help="seconds between checks of each domain (default: [settings] interval)",
    )
    result.add_argument(
        "--notify",
        action="append",
        default=[],
        metavar="URL",
        help="Apprise URL to notify of status changes (repeatable; needs esm-tui[notify])",
    )
    result.add_argument("domains", nargs="*", metavar="DOMAIN", help="watch only these domains")
    return result


def run_monitor(argv: Sequence[str]) -> int:
    """The `esm-tui monitor` command; its exit code."""
    from esm_tui.check_options import demo_config
    from esm_tui.cli import UsageError, _domains, _load, _nameservers
    from esm_tui.notify.sender import NotifyError
    from esm_tui.notify.setup import start_notifications

    args = parser().parse_args(list(argv))
    with demo_config(args):
        config = _load(args.config, strict=True)
        names = _domains(args.domains) or [d.name for d in config.domains]
        if not names:
            raise UsageError(f"no domains to watch: none configured in {config.path}, none given")
        nameservers = _nameservers(args.nameserver) or None
        try:
            notifications = start_notifications(config.notify, args.notify)
        except NotifyError as exc:
            raise UsageError(str(exc)) from None
        try:
            return asyncio.run(
                _Watcher(config, names, nameservers, args.interval, notifications).run()
            )
        finally:
            if notifications is not None:
                notifications.notifier.close(CLOSE_WAIT)


class _Watcher:
    """The running monitor: one task per domain, and the stop signal."""

    def __init__(
        self,
        config: Any,
        names: Sequence[str],
        nameservers: Sequence[Any] | None,
        interval: float | None,
        notifications: Any,
        out: TextIO | None = None,
    ) -> None:
        from esm_tui.dns import system_nameservers
        from esm_tui.engine import DnsParams, Engine
        from esm_tui.monitor import Monitor

        settings = config.settings
        self.config = config
        self.names = list(names)
        self.interval = interval or float(settings.interval)
        self.params = DnsParams(
            tuple(nameservers or settings.nameservers or system_nameservers()),
            timeout=settings.timeout,
            retries=settings.retries,
            concurrency=settings.concurrency,
            max_age=self.interval * 0.9,  # as the dashboard: fresh answers each cycle
            trust_anchors=settings.trust_anchors,
            https_port=settings.https_port,
        )
        self.engine = Engine(self.params)
        self.monitor = Monitor(self.names, interval=self.interval)
        self.notifications = notifications
        self.out = out or sys.stdout
        self.colour = self.out.isatty() and not os.environ.get("NO_COLOR")
        self.journal = bool(os.environ.get("JOURNAL_STREAM"))
        self.statuses: dict[tuple[str, str], Status] = {}
        self.history: Any = None

    async def run(self) -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        self._open_history()
        servers = ", ".join(f"{h}:{p}" for h, p in self.params.nameservers) or "none"
        count = len(self.names)
        self._say(
            Status.NONE,
            f"esm-tui monitor: watching {count} domain{'s' if count > 1 else ''} every "
            f"{self.interval:g} s (resolver {servers})",
        )
        tasks = [asyncio.create_task(self._watch(i, n)) for i, n in enumerate(self.names)]
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.engine.close()
            if self.history is not None:
                self.history.close()
        self._say(Status.NONE, "esm-tui monitor: stopped")
        return 0

    async def _watch(self, index: int, name: str) -> None:
        from esm_tui.engine import CHECK, EngineError

        settings = self.config.domain_settings(name)
        while True:
            await self.monitor.wait_until_due(name)
            async with self.monitor.checking(name):
                try:
                    report = await self.engine.check(settings, False, CHECK + index)
                except EngineError as exc:
                    self._say(Status.UNKNOWN, f"{name}: the check engine stopped ({exc})")
                    self.monitor.record_error(name)
                    continue
            self.monitor.record(name, report)
            self._handle(report)
            await self._record_history(report)

    def _handle(self, report: DomainReport) -> None:
        if not any(key[0] == report.domain for key in self.statuses):
            self._first(report)
        for change in changes(self.statuses, [report]):
            self._say(change.new, change.line())
        if self.notifications is not None:
            self.notifications.feed([report])

    def _first(self, report: DomainReport) -> None:
        """A domain's first check: one line with its worst status and what is not OK, so
        the log says where each domain starts from (later lines are changes only)."""
        worst = report.status
        bad = [f"{name} {r.status}" for name, r in report.checks.items() if r.status not in DONE]
        at = report.checked_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        detail = ", ".join(bad) if bad else "every record ok"
        self._say(worst, f"{at} {display_safe(report.domain)} first check: {worst} ({detail})")

    def _open_history(self) -> None:
        if not self.config.settings.history:
            return
        from esm_tui.history import History, HistoryError

        opened = History.open()
        if isinstance(opened, HistoryError):
            self._say(Status.WARN, f"esm-tui monitor: history not recorded: {opened}")
        else:
            self.history = opened

    async def _record_history(self, report: DomainReport) -> None:
        if self.history is None:
            return
        from esm_tui.history import HistoryError

        written = await asyncio.to_thread(self.history.record, report)
        if isinstance(written, HistoryError):
            self._say(Status.WARN, f"esm-tui monitor: history not recorded: {written}")

    def _say(self, status: Status, text: str) -> None:
        if self.journal:
            text = f"<{_PRIORITY[status]}>{text}"
        elif self.colour and status in _COLOUR:
            text = f"\x1b[{_COLOUR[status]}m{text}\x1b[0m"
        self.out.write(text + "\n")
        self.out.flush()


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value
