"""Status history: each record's transitions in SQLite under the user data dir (issue 5).

A row is written when a record's status or its raw data changes — not for identical
repeats — so a year of five-minute checks of a stable domain stays a handful of rows.
WAL mode and a busy timeout let two running instances write the same file; each
(domain, check) keeps its newest `keep` rows. Trouble with the database (corrupt,
unwritable, locked too long) is returned as a `HistoryError` value: the caller goes on
without history, it never crashes.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import platformdirs

from esm_tui.model import CHECK_NAMES, DomainReport, RecordResult, Status

#: Environment variable naming the data directory (tests, or a shared location).
DATA_DIR_ENV = "ESM_TUI_DATA_DIR"
FILE_NAME = "history.sqlite3"
#: Rows kept per (domain, check): months of a flapping record, bytes on disk.
KEEP_PER_CHECK = 200
#: Seconds to wait for the other instance's write lock before giving up on one write.
BUSY_TIMEOUT = 5.0
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS transitions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    domain TEXT NOT NULL,
    check_name TEXT NOT NULL,
    status TEXT NOT NULL,
    hash TEXT NOT NULL,
    summary TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transitions_by_check ON transitions (domain, check_name, id);
"""


@dataclass(frozen=True)
class HistoryError:
    """Why the history cannot be read or written; `message` is for the admin."""

    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Transition:
    """A record's status (and data) from `at` until the next transition."""

    domain: str
    check: str
    status: Status
    hash: str
    summary: str
    at: datetime

    def to_json(self) -> dict[str, str]:
        return {
            "status": str(self.status),
            "at": self.at.isoformat(timespec="seconds"),
            "hash": self.hash,
            "summary": self.summary,
        }


def default_path() -> Path:
    """`$ESM_TUI_DATA_DIR/history.sqlite3`, else under platformdirs' user data dir."""
    base = os.environ.get(DATA_DIR_ENV) or platformdirs.user_data_dir("esm-tui")
    return Path(base) / FILE_NAME


def records_hash(records: Iterable[str]) -> str:
    """sha256 of the raw records, order-insensitive (servers rotate record order)."""
    canonical = json.dumps(sorted(records), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


class History:
    """One open history database. Use `History.open()`; every method returns values."""

    def __init__(self, connection: sqlite3.Connection, path: Path, keep: int) -> None:
        self._db = connection
        self.path = path
        self.keep = keep
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls, path: Path | str | None = None, *, keep: int = KEEP_PER_CHECK, create: bool = True
    ) -> History | HistoryError:
        """Open (and with `create`, make) the database; a HistoryError says why not."""
        path = Path(path) if path is not None else default_path()
        try:
            if create:
                path.parent.mkdir(parents=True, exist_ok=True)
            elif not path.exists():
                return HistoryError(f"no history recorded yet ({path} does not exist)")
            db = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            return _error(path, exc)
        try:
            _prepare(db, create=create)
        except (OSError, sqlite3.Error, _SchemaError) as exc:
            db.close()
            return _error(path, exc)
        return cls(db, path, keep)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def record(self, report: DomainReport) -> list[Transition] | HistoryError:
        """Store the report's records that changed; returns the transitions written."""
        return self.record_many([report])

    def record_many(self, reports: Iterable[DomainReport]) -> list[Transition] | HistoryError:
        """`record` for many reports in one transaction (`esm-tui check` of 1,000 domains:
        one commit instead of 5,000, measured at 3-8 % of the run's CPU)."""
        return self.record_transitions(t for r in reports for t in transitions(r))

    def record_transitions(
        self, candidates: Iterable[Transition]
    ) -> list[Transition] | HistoryError:
        """Store, in one transaction, those of `candidates` (see `transitions`) that are
        new; returns the ones written."""
        written: list[Transition] = []
        try:
            with self._lock:
                db = self._db
                # BEGIN IMMEDIATE takes the write lock before reading the last rows, so two
                # instances cannot both decide that the same change is new.
                db.execute("BEGIN IMMEDIATE")
                try:
                    for transition in candidates:
                        if self._write(transition):
                            written.append(transition)
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            return _error(self.path, exc)
        return written

    def _write(self, t: Transition) -> bool:
        """One transition, inside the caller's transaction; False when nothing is new."""
        db = self._db
        last = db.execute(
            "SELECT status, hash, at FROM transitions WHERE domain = ? AND check_name = ? "
            "ORDER BY id DESC LIMIT 1",
            (t.domain, t.check),
        ).fetchone()
        if last is not None and (
            (last[0], last[1]) == (str(t.status), t.hash) or _newer(last[2], t.at)
        ):
            # An identical repeat, or a report older than what another instance
            # already stored: nothing new to say.
            return False
        db.execute(
            "INSERT INTO transitions (domain, check_name, status, hash, summary, at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (t.domain, t.check, str(t.status), t.hash, t.summary, _format_at(t.at)),
        )
        db.execute(
            "DELETE FROM transitions WHERE domain = ? AND check_name = ? AND id NOT IN "
            "(SELECT id FROM transitions WHERE domain = ? AND check_name = ? "
            "ORDER BY id DESC LIMIT ?)",
            (t.domain, t.check, t.domain, t.check, self.keep),
        )
        return True

    def timeline(self, domain: str) -> dict[str, list[Transition]] | HistoryError:
        """Each check's transitions, oldest first, checks in display order."""
        try:
            with self._lock:
                rows = self._db.execute(
                    "SELECT check_name, status, hash, summary, at FROM transitions "
                    "WHERE domain = ? ORDER BY id",
                    (domain,),
                ).fetchall()
        except sqlite3.Error as exc:
            return _error(self.path, exc)
        found: dict[str, list[Transition]] = {}
        for check, status, digest, summary, at in rows:
            try:
                transition = Transition(
                    domain, check, Status(status), digest, summary, _parse_at(at)
                )
            except ValueError:
                continue  # a row another version wrote that this one cannot read
            found.setdefault(check, []).append(transition)
        return {name: found[name] for name in _ordered(found)}

    def domains(self) -> list[str] | HistoryError:
        """The domains with any history, sorted."""
        try:
            with self._lock:
                rows = self._db.execute(
                    "SELECT DISTINCT domain FROM transitions ORDER BY domain"
                ).fetchall()
        except sqlite3.Error as exc:
            return _error(self.path, exc)
        return [row[0] for row in rows]


class _SchemaError(Exception):
    pass


def _prepare(db: sqlite3.Connection, *, create: bool) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise _SchemaError(
            f"written by a newer esm-tui (schema {version}, this one reads {SCHEMA_VERSION})"
        )
    if create:
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
        # WAL: readers never block the writer, and two instances can take turns writing.
        db.execute("PRAGMA journal_mode = WAL")
        db.executescript(_SCHEMA)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    else:
        db.execute("SELECT 1 FROM transitions LIMIT 1").fetchall()


def _error(path: Path, exc: BaseException) -> HistoryError:
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return HistoryError(f"history database {path}: {reason}; continuing without history")


def _ordered(names: Iterable[str]) -> list[str]:
    names = list(names)
    known = [n for n in CHECK_NAMES if n in names]
    return known + sorted(n for n in names if n not in CHECK_NAMES)


def transitions(report: DomainReport) -> list[Transition]:
    """What `record` would store of a report: one candidate transition per record, in
    display order (computed apart from the database: a check process sends these)."""
    return [_transition(report, report.checks[name]) for name in _ordered(report.checks)]


def _transition(report: DomainReport, result: RecordResult) -> Transition:
    at = report.checked_at
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return Transition(
        domain=report.domain,
        check=result.check,
        status=result.status,
        hash=records_hash(result.records),
        summary=result.summary,
        at=at.astimezone(UTC).replace(microsecond=0),
    )


def _format_at(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds")


def _newer(stored: str, at: datetime) -> bool:
    try:
        return _parse_at(stored) > at
    except (TypeError, ValueError):
        return False


def _parse_at(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


# -- in words ---------------------------------------------------------------------------------

#: Status changes after the first that the one-line timeline names.
_MAX_WORDS = 3


def render_timeline(
    transitions: Sequence[Transition],
    *,
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> str:
    """The record's recent story in one line, for the detail screen and `esm-tui history`:

    `FAIL since 09:12 → OK at 14:31, propagated in 3 h 19 min` — the last OK run and the
    non-OK stretch before it, the duration from the first non-OK to the OK. When the record
    is not OK now: the last OK (if any), then what followed. Times are local unless `tz`;
    a time on another day than `now` carries its date.
    """
    runs = _runs(transitions)
    if not runs:
        return "no history yet"
    now = now or datetime.now(UTC)
    last_ok = max((i for i, r in enumerate(runs) if r.status is Status.OK), default=None)
    if last_ok is not None and last_ok == len(runs) - 1 and last_ok > 0:
        start = last_ok
        while start > 0 and runs[start - 1].status is not Status.OK:
            start -= 1
        shown = runs[start:]
    elif last_ok is not None:
        shown = runs[last_ok:]
    else:
        shown = runs
    words = [f"{_word(shown[0].status)} since {_when(shown[0].at, now, tz)}"]
    later = shown[1:]
    if len(later) > _MAX_WORDS:
        # A long flapping stretch: its start (for the duration) and its latest turns.
        words.append("…")
        later = later[-_MAX_WORDS:]
    words += [f"{_word(r.status)} at {_when(r.at, now, tz)}" for r in later]
    sentence = " → ".join(words)
    if len(shown) > 1 and shown[-1].status is Status.OK:
        sentence += f", propagated in {duration(shown[-1].at - shown[0].at)}"
    return sentence


@dataclass(frozen=True)
class _Run:
    status: Status
    at: datetime


def _runs(transitions: Sequence[Transition]) -> list[_Run]:
    """Consecutive transitions of one status (data changes within it) as one run."""
    runs: list[_Run] = []
    for t in transitions:
        if not runs or runs[-1].status is not t.status:
            runs.append(_Run(t.status, t.at))
    return runs


def _word(status: Status) -> str:
    return str(status).upper()


def _when(at: datetime, now: datetime, tz: tzinfo | None) -> str:
    local = at.astimezone(tz)
    if local.date() == now.astimezone(tz).date():
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def duration(span: timedelta) -> str:
    """`3 h 19 min`, `2 d 4 h`, `45 min`, `30 s`."""
    seconds = max(0, int(span.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def timeline_json(domain: str, timeline: dict[str, list[Transition]]) -> dict[str, Any]:
    """`{"domain": ..., "checks": {"spf": [{"status", "at", "hash", "summary"}, ...]}}`."""
    return {
        "domain": domain,
        "checks": {name: [t.to_json() for t in rows] for name, rows in timeline.items()},
    }
