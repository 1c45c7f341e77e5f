"""Triage of many domains in the sidebar: status words, sort orders, counts, next problem.

Pure (no Textual): the sidebar (widgets/domain_list.py) and the app's keys (app/keys.py)
use it, and tests hold it without a screen. SPEC §9: the header counts domains by status,
`s` cycles the sort, `n`/`N` jump to the next/previous domain that is not OK, and `/`
filters by name or by a status word (`/fail`, `/warn`, `/?`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from esm_tui.model import Status

T = TypeVar("T")

#: What `/WORD` filters on: the words the badges show, and their long forms. A domain name
#: always has a dot, so none of these can be mistaken for a part of a name.
STATUS_WORDS: dict[str, frozenset[Status | None]] = {
    "fail": frozenset({Status.FAIL}),
    "warn": frozenset({Status.WARN}),
    "?": frozenset({Status.UNKNOWN}),
    "unknown": frozenset({Status.UNKNOWN}),
    "ok": frozenset({Status.OK}),
    "none": frozenset({Status.NONE}),
    "!ok": frozenset({Status.FAIL, Status.WARN, Status.UNKNOWN}),
    "pending": frozenset({None}),
}

#: The sort orders `s` cycles through, with how the sidebar names them.
SORTS: dict[str, str] = {"config": "as configured", "name": "by name", "worst": "worst first"}

#: Worst first: what needs the admin comes to the top; unchecked domains before OK ones.
_RANK: dict[Status | None, int] = {
    Status.FAIL: 0,
    Status.UNKNOWN: 1,
    Status.WARN: 2,
    None: 3,
    Status.OK: 4,
    Status.NONE: 5,
}

#: The statuses `n` / `N` stop at.
PROBLEMS = frozenset({Status.FAIL, Status.WARN, Status.UNKNOWN})

#: Count order and glyphs of the sidebar header (the badges' glyphs, widgets/status.py).
_COUNTED = ((Status.FAIL, "✗"), (Status.WARN, "▲"), (Status.UNKNOWN, "◌"), (Status.OK, "✓"))


def status_filter(text: str) -> frozenset[Status | None] | None:
    """The statuses a filter text stands for, or None when it is a name filter."""
    return STATUS_WORDS.get(text.strip().lower())


def filtered(
    items: Iterable[T], text: str, name: Callable[[T], str], status: Callable[[T], Status | None]
) -> list[T]:
    """The items the filter text keeps: a status word keeps those statuses; any other text
    keeps the names that contain it (case-insensitive)."""
    statuses = status_filter(text)
    if statuses is not None:
        return [item for item in items if status(item) in statuses]
    needle = text.strip().lower()
    return [item for item in items if needle in name(item).lower()]


def next_sort(mode: str) -> str:
    modes = list(SORTS)
    return modes[(modes.index(mode) + 1) % len(modes)] if mode in SORTS else modes[0]


def sorted_rows(
    items: Sequence[T], mode: str, name: Callable[[T], str], status: Callable[[T], Status | None]
) -> list[T]:
    """`items` (in configured order) in the sort `mode`; ties keep the configured order."""
    if mode == "name":
        return sorted(items, key=lambda item: name(item))
    if mode == "worst":
        return sorted(items, key=lambda item: _RANK[status(item)])
    return list(items)


def counts_title(counts: Counter[Status | None], total: int) -> str:
    """`Domains 60 ✗3 ▲5 ✓52`: the sidebar's header (zero counts left out)."""
    parts = [f"{glyph}{counts[status]}" for status, glyph in _COUNTED if counts[status]]
    return " ".join([f"Domains {total}", *parts])


def next_problem(
    names: Sequence[str], status: Callable[[str], Status | None], current: str | None, step: int
) -> str | None:
    """The next (step 1) or previous (step -1) name after `current` whose status needs
    attention, wrapping around; None when none does (`current` itself counts last)."""
    if not names:
        return None
    start = names.index(current) if current in names else (-1 if step > 0 else 0)
    count = len(names)
    for offset in range(1, count + 1):
        candidate = names[(start + step * offset) % count]
        if status(candidate) in PROBLEMS:
            return candidate
    return None
