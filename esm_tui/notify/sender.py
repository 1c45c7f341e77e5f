"""`Notifier`: sends status changes through Apprise, off the checking thread.

Changes that arrive within `window` seconds of the first go out as one message. A service
that fails is reported once (until it works again) and never stops the checks: sending
runs on a thread of its own, and every error there is caught. URLs are printed redacted.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from esm_tui.changes import Change
from esm_tui.config.notify_section import redact
from esm_tui.notify import message

#: Seconds a first change waits for others to share its message.
GROUP_WINDOW = 3.0
INSTALL_HINT = "notifications need Apprise: pip install 'esm-tui[notify]'"


class NotifyError(Exception):
    """Notifications cannot start (Apprise missing, a URL it does not know); the message
    never holds a URL's secret part."""


def _stderr(text: str) -> None:
    print(f"esm-tui: {text}", file=sys.stderr, flush=True)


class Notifier:
    """Apprise URLs and the thread that sends to them; `close()` sends what is pending."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        window: float = GROUP_WINDOW,
        report: Callable[[str], None] = _stderr,
    ) -> None:
        try:
            import apprise
        except ImportError:
            raise NotifyError(INSTALL_HINT) from None
        # Apprise logs failures with the host (and some services' tokens) in the text.
        logging.getLogger("apprise").setLevel(logging.CRITICAL + 1)
        self._format = apprise.NotifyFormat.TEXT
        kinds = apprise.NotifyType
        self._types = {"ok": kinds.SUCCESS, "warn": kinds.WARNING, "fail": kinds.FAILURE}
        self._types["info"] = kinds.INFO
        self._targets: list[tuple[str, Any]] = []
        for index, url in enumerate(urls, 1):
            target = apprise.Apprise()
            if not target.add(url):
                raise NotifyError(
                    f"notification URL {index} ({redact(url)}) is not one Apprise knows "
                    "(see https://github.com/caronc/apprise/wiki)"
                )
            self._targets.append((redact(url), target))
        self.window = window
        self._report = report
        self._failing: set[int] = set()
        self._queue: queue.Queue[list[Change] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="esm-tui-notify", daemon=True)
        self._thread.start()

    def submit(self, changes: Sequence[Change]) -> None:
        """Queue `changes` for sending; returns at once."""
        if changes:
            self._queue.put(list(changes))

    def close(self, timeout: float = 10.0) -> None:
        """Send what is pending now (no more grouping wait), then stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            batch = list(first)
            deadline = time.monotonic() + self.window
            while (remaining := deadline - time.monotonic()) > 0:
                try:
                    more = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.extend(more)
            self._send(batch)

    def _send(self, changes: Sequence[Change]) -> None:
        title, body = message.title(changes), message.body(changes)
        kind = self._types[message.severity(changes)]
        for index, (shown, target) in enumerate(self._targets):
            try:
                ok = bool(
                    target.notify(
                        title=title, body=body, body_format=self._format, notify_type=kind
                    )
                )
                error = "the service did not accept it"
            except Exception as exc:  # noqa: BLE001 (a broken plugin must not end the checks)
                ok, error = False, type(exc).__name__
            if ok:
                self._failing.discard(index)
            elif index not in self._failing:
                self._failing.add(index)
                self._report(
                    f"notification to {shown} failed ({error}); checks go on, "
                    "and this is reported again only after it has worked"
                )
