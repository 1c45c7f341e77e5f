"""Which status changes are sent: every change at once, except a change to or from
`unknown`, which is sent only once it has held for `unknown_after` consecutive checks (a
resolver hiccup pages nobody)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from esm_tui.changes import Change
from esm_tui.model import CHECK_NAMES, DomainReport, Status


class UnknownGate:
    """Per record: the status last notified (or first seen) and a candidate that must hold."""

    def __init__(self, unknown_after: int = 3) -> None:
        self.unknown_after = max(1, unknown_after)
        self._sent: dict[tuple[str, str], Status] = {}
        self._pending: dict[tuple[str, str], tuple[Status, int]] = {}

    def observe(self, reports: Iterable[DomainReport]) -> list[Change]:
        """The changes to send after this check of `reports`."""
        found: list[Change] = []
        for report in reports:
            names = [n for n in CHECK_NAMES if n in report.checks]
            names += [n for n in report.checks if n not in CHECK_NAMES]
            at = report.checked_at if report.checked_at.tzinfo else datetime.now(UTC)
            for name in names:
                result = report.checks[name]
                change = self._one((report.domain, name), result.status)
                if change is not None:
                    found.append(
                        Change(at, report.domain, name, change, result.status, result.summary)
                    )
        return found

    def _one(self, key: tuple[str, str], status: Status) -> Status | None:
        """The old status when `status` is to be sent now, else None."""
        sent = self._sent.get(key)
        if sent is None:  # first sight: the baseline, nothing changed
            self._sent[key] = status
            return None
        if status is sent:
            self._pending.pop(key, None)
            return None
        if Status.UNKNOWN not in (status, sent):
            self._pending.pop(key, None)
            self._sent[key] = status
            return sent
        candidate, held = self._pending.get(key, (status, 0))
        held = held + 1 if candidate is status else 1
        if held < self.unknown_after:
            self._pending[key] = (status, held)
            return None
        self._pending.pop(key, None)
        self._sent[key] = status
        return sent
