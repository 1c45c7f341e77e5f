"""The dashboard's history: each report written to SQLite, each open record's timeline read.

A mixin of `EsmApp`. SQLite blocks, so every call runs in a thread (`asyncio.to_thread`)
off the event loop. Any trouble with the database (`HistoryError`) is told once, then the
dashboard carries on without history for the session.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.message import Message

from esm_tui.config import Config
from esm_tui.history import History, HistoryError, render_timeline
from esm_tui.model import DomainReport


class HistoryWritten(Message):
    """Transitions of `domain` were written: an open detail re-reads its timeline."""

    def __init__(self, domain: str) -> None:
        super().__init__()
        self.domain = domain


class HistoryActions:
    """Writing reports and reading timelines, mixed into EsmApp."""

    config: Config
    _history_path: Path | None
    _history: History | None
    _history_off: bool
    _history_lock: asyncio.Lock

    async def history_db(self) -> History | None:
        """The open database (opened on first use); None when history is off."""
        if not self.config.settings.history or self._history_off:
            return None
        async with self._history_lock:
            if self._history is None and not self._history_off:
                opened = await asyncio.to_thread(History.open, self._history_path)
                if isinstance(opened, HistoryError):
                    self._history_failed(opened)
                    return None
                self._history = opened
        return self._history

    async def record_history(self, report: DomainReport) -> None:
        """Write the report's transitions (identical repeats are not rows)."""
        db = await self.history_db()
        if db is None:
            return
        written = await asyncio.to_thread(db.record, report)
        if isinstance(written, HistoryError):
            self._history_failed(written)
        elif written:
            self.post_message(HistoryWritten(report.domain))  # type: ignore[attr-defined]

    async def timeline(self, domain: str, check: str) -> str | None:
        """`FAIL since 09:12 → OK at 14:31, propagated in 3 h 19 min`; None: history off."""
        db = await self.history_db()
        if db is None:
            return None
        found = await asyncio.to_thread(db.timeline, domain)
        if isinstance(found, HistoryError):
            self._history_failed(found)
            return None
        return render_timeline(found.get(check, []))

    def _history_failed(self, error: HistoryError) -> None:
        if self._history_off:
            return
        self._history_off = True
        self.notify(  # type: ignore[attr-defined]
            f"History is off for this session: {error}",
            title="History",
            severity="warning",
            markup=False,
            timeout=15,
        )
        db, self._history = self._history, None
        if db is not None:
            db.close()

    def close_history(self) -> None:
        db, self._history = self._history, None
        if db is not None:
            db.close()
