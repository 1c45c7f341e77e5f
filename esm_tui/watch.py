"""Watch mode: after a fix, recheck a domain every 15 s until it is all OK (or an hour passed).

Headless (no Textual): the app asks `due()` once a second and starts a fresh check of each
domain it returns; it hands each finished report to `settled()`, and stops watching when
that says so. The clock is injected, so tests move time instead of sleeping.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from esm_tui.model import DomainReport, Status

Clock = Callable[[], float]

#: Seconds between two rechecks of a watched domain.
WATCH_INTERVAL = 15.0
#: Seconds after which watching stops by itself: a record that has not turned OK in an hour
#: is waiting on someone, not on a cache.
WATCH_LIMIT = 3600.0

#: A watched domain is done when every record is one of these.
DONE = frozenset({Status.OK, Status.NONE})


@dataclass
class _Watch:
    started: float
    next_at: float


class Watches:
    """The watched domains, each with its next recheck and its end."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        interval: float = WATCH_INTERVAL,
        limit: float = WATCH_LIMIT,
    ) -> None:
        if interval <= 0 or limit <= 0:
            raise ValueError("interval and limit must be positive")
        self.clock: Clock = clock or time.monotonic
        self.interval = float(interval)
        self.limit = float(limit)
        self._watches: dict[str, _Watch] = {}

    @property
    def domains(self) -> list[str]:
        return list(self._watches)

    def is_watching(self, domain: str) -> bool:
        return domain in self._watches

    def start(self, domain: str) -> None:
        """Watch `domain`; its first recheck is due at once."""
        now = self.clock()
        self._watches[domain] = _Watch(started=now, next_at=now)

    def stop(self, domain: str) -> bool:
        return self._watches.pop(domain, None) is not None

    def remaining(self, domain: str) -> float | None:
        """Seconds until watching `domain` stops by itself (None: not watched)."""
        watch = self._watches.get(domain)
        if watch is None:
            return None
        return max(0.0, watch.started + self.limit - self.clock())

    def expired(self) -> list[str]:
        """The watched domains whose hour is up (the caller stops them)."""
        return [d for d in self._watches if self.remaining(d) == 0]

    def due(self) -> list[str]:
        """The watched domains whose next recheck is due now (not the expired ones)."""
        now = self.clock()
        return [d for d, w in self._watches.items() if w.next_at <= now and self.remaining(d) != 0]

    def rechecked(self, domain: str) -> None:
        """A recheck of `domain` started: the next one is an interval from now."""
        watch = self._watches.get(domain)
        if watch is not None:
            watch.next_at = self.clock() + self.interval

    def label(self, domain: str) -> str | None:
        """`watching · 42 min left` for the sidebar (None: not watched)."""
        left = self.remaining(domain)
        if left is None:
            return None
        return f"watching · {max(1, math.ceil(left / 60))} min left"


def settled(report: DomainReport) -> bool:
    """Every record of the report is OK (or absent and optional): nothing left to watch."""
    return all(result.status in DONE for result in report.checks.values())
