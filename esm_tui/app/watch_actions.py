"""The dashboard's watch mode (`w`): a fresh check of a domain every 15 s until every record
is OK, or an hour has passed. A mixin of `EsmApp`; the schedule is `esm_tui.watch.Watches`
(headless, injected clock), driven by the app's once-a-second tick.
"""

from __future__ import annotations

from esm_tui.monitor import Monitor
from esm_tui.watch import Watches, settled


class WatchActions:
    """`w` and the rechecks of watched domains, mixed into EsmApp."""

    watches: Watches
    monitor: Monitor

    def watch_checked(self, name: str) -> None:
        """A check of `name` finished: stop watching it when every record is OK."""
        report = self.monitor.report(name)
        if self.watches.is_watching(name) and report is not None and settled(report):
            self.watches.stop(name)
            self.notify(  # type: ignore[attr-defined]
                f"{name}: every record is OK. Stopped watching it.",
                title="Watch",
                markup=False,
            )

    def _watched(self) -> str | None:
        """The domain `w` acts on, if it is being watched."""
        record = self.current_record()
        return record[0] if record and self.watches.is_watching(record[0]) else None

    def action_toggle_watch(self) -> None:
        """`w`: watch the domain (recheck every 15 s until all OK, 1 h at most), or stop."""
        record = self.current_record()
        if record is None:
            return
        name = record[0]
        if self.watches.stop(name):
            self.notify(f"Stopped watching {name}.", title="Watch", markup=False)
        else:
            self.watches.start(name)
            every, limit = self.watches.interval, self.watches.limit / 60
            self.notify(
                f"Watching {name}: a fresh check every {every:g} s until every record is OK "
                f"({limit:g} min at most). w again stops.",
                title="Watch",
                markup=False,
            )
            self._watch_tick()
        self._refresh_row(name)  # type: ignore[attr-defined]
        self._refresh_cards()

    def _watch_tick(self) -> None:
        """Recheck the watched domains that are due; stop the ones whose hour is up."""
        for name in self.watches.expired():
            self.watches.stop(name)
            self.notify(
                f"Stopped watching {name}: not every record is OK after "
                f"{self.watches.limit / 60:g} min.",
                title="Watch",
                severity="warning",
                markup=False,
            )
            self._refresh_row(name)  # type: ignore[attr-defined]
        for name in self.watches.due():
            if name not in self.monitor:
                self.watches.stop(name)
                continue
            self.watches.rechecked(name)
            if self.monitor.begin_recheck(name):  # else a fresh check is on its way anyway
                self._start_worker(name, fresh=True)
        for name in self.watches.domains:
            self._refresh_row(name)  # type: ignore[attr-defined]  # "42 min left" moves on
