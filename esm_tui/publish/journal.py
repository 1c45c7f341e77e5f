"""The journal of applied plans, for `esm-tui fix --undo` (SPEC §6): each applied plan's
record sets before and after, in the history database (its own table, so the history's
schema is untouched), never a secret.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from esm_tui.history import BUSY_TIMEOUT, default_path
from esm_tui.publish.plan import Change

_SCHEMA = """
CREATE TABLE IF NOT EXISTS fix_journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    domain TEXT NOT NULL,
    zone TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    changes TEXT NOT NULL,
    undone_at TEXT
);
CREATE INDEX IF NOT EXISTS fix_journal_by_domain ON fix_journal (domain, id);
"""


class JournalError(Exception):
    """The journal could not be read or written; the message says why."""


@dataclass(frozen=True)
class Entry:
    id: int
    domain: str
    zone: str
    applied_at: str
    changes: tuple[Change, ...]


def _open(path: Path | None) -> sqlite3.Connection:
    path = path or default_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
        db.executescript(_SCHEMA)
    except (OSError, sqlite3.Error) as exc:
        raise JournalError(f"journal {path}: {exc}") from None
    return db


def record(domain: str, zone: str, changes: tuple[Change, ...], path: Path | None = None) -> int:
    """Journal an applied plan (its automatic changes); returns the entry's id."""
    rows = [
        {
            "check": c.check,
            "name": c.name,
            "type": c.type,
            "ttl": c.ttl,
            "before_rdata": list(c.before_rdata),
            "after_rdata": list(c.after_rdata),
            "before": list(c.before),
            "after": list(c.after),
        }
        for c in changes
    ]
    db = _open(path)
    try:
        cursor = db.execute(
            "INSERT INTO fix_journal (domain, zone, applied_at, changes) VALUES (?, ?, ?, ?)",
            (domain, zone, datetime.now(UTC).isoformat(timespec="seconds"), json.dumps(rows)),
        )
        return int(cursor.lastrowid or 0)
    except sqlite3.Error as exc:
        raise JournalError(f"could not journal the plan: {exc}") from None
    finally:
        db.close()


def last(domain: str, path: Path | None = None) -> Entry | None:
    """The last applied plan of `domain` not undone yet."""
    db = _open(path)
    try:
        row = db.execute(
            "SELECT id, domain, zone, applied_at, changes FROM fix_journal "
            "WHERE domain = ? AND undone_at IS NULL ORDER BY id DESC LIMIT 1",
            (domain,),
        ).fetchone()
    except sqlite3.Error as exc:
        raise JournalError(f"could not read the journal: {exc}") from None
    finally:
        db.close()
    if row is None:
        return None
    changes = tuple(
        Change(
            check=c["check"],
            name=c["name"],
            type=c["type"],
            ttl=c["ttl"],
            before=tuple(c["before"]),
            after=tuple(c["after"]),
            manual=False,
            why="as it was applied",
            before_rdata=tuple(c["before_rdata"]),
            after_rdata=tuple(c["after_rdata"]),
        )
        for c in json.loads(row[4])
    )
    return Entry(row[0], row[1], row[2], row[3], changes)


def reverse(entry: Entry) -> tuple[Change, ...]:
    """The changes that put back what `entry` changed (each record set as it was)."""
    return tuple(
        Change(
            check=c.check,
            name=c.name,
            type=c.type,
            ttl=c.ttl,
            before=c.after,
            after=c.before,
            manual=False,
            why=f"undo the change of {entry.applied_at}",
            before_rdata=c.after_rdata,
            after_rdata=c.before_rdata,
        )
        for c in entry.changes
    )


def mark_undone(entry_id: int, path: Path | None = None) -> None:
    db = _open(path)
    try:
        db.execute(
            "UPDATE fix_journal SET undone_at = ? WHERE id = ?",
            (datetime.now(UTC).isoformat(timespec="seconds"), entry_id),
        )
    except sqlite3.Error as exc:
        raise JournalError(f"could not update the journal: {exc}") from None
    finally:
        db.close()
