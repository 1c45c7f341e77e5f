"""Telling the admin who is not looking: Apprise services and the terminal (SPEC §7).

A mixin of `EsmApp`. Each check's status changes go to the `[notify] urls` and `--notify`
services through the same Notifications as `check --until-ok` and `monitor` (grouped,
`unknown_after` honoured, a failing service reported once — here as a toast — and never
stopping the checks). And when the dashboard is not in focus (the terminal reports focus
in and out; Textual keeps `app_focus`), the terminal is asked for a desktop notification
and rings the bell (esm_tui/notify/terminal.py), unless `[notify] terminal = false`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from esm_tui.config import Config
from esm_tui.monitor import Change, Monitor
from esm_tui.notify.terminal import notification

#: Seconds the dashboard waits at exit for notifications still being sent.
CLOSE_WAIT = 0.5


class AwayNotifications:
    """Notifications of status changes for an admin who is elsewhere."""

    config: Config
    monitor: Monitor
    _away: Any = None
    #: What the terminal was sent (tests read it; the last few only).
    terminal_sent: list[str]

    def start_notifications(self, extra_urls: Sequence[str]) -> str | None:
        """Start the Apprise services; the reason (no URL text in it) when they cannot."""
        self.terminal_sent = []
        from esm_tui.notify.sender import NotifyError
        from esm_tui.notify.setup import start_notifications

        try:
            self._away = start_notifications(
                self.config.notify, extra_urls, report=self._service_failed
            )
        except NotifyError as exc:
            return str(exc)
        return None

    def _service_failed(self, message: str) -> None:
        """From the notifier's thread: a service failed (reported once until it works)."""
        app: Any = self
        app.call_from_thread(
            app.notify, message, title="Notification failed", severity="warning", markup=False
        )

    def notify_away(self, domain: str, changes: Sequence[Change]) -> None:
        """After each check of `domain`: its report to the services, its changes to the
        terminal when nobody is looking."""
        if self._away is not None:
            report = self.monitor.report(domain)
            if report is not None:
                self._away.feed([report])
        app: Any = self
        if not changes or app.app_focus or not self.config.notify.terminal:
            return
        body = "; ".join(change.message for change in changes)
        sequence = notification("esm-tui", body, tmux=bool(os.environ.get("TMUX")))
        driver = app._driver
        if driver is not None:
            driver.write(sequence)
            driver.flush()
        self.terminal_sent = [*self.terminal_sent[-9:], sequence]

    def stop_notifications(self) -> None:
        if self._away is not None:
            self._away.notifier.close(CLOSE_WAIT)
            self._away = None
