"""The dashboard's App: its layout, the domain list and the cards kept up to date with the
Monitor's view, the selection, and the settings it reacts to.

What the app does is spread over mixins of EsmApp, one idea each: the per-domain workers
and the engine process that runs their checks (check_runner.py), the keys and when each
applies (keys.py), the config edits (config_actions.py), history (history_actions.py) and
watch mode (watch_actions.py). Widgets get values and post messages; only the app talks
to the Monitor, the config file and the engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Header, Static
from textual.worker import Worker

from esm_tui.app.away import AwayNotifications
from esm_tui.app.check_runner import (
    Checker,
    CheckRunner,
    CheckStarted,
    DomainChecked,
    PropagationChecked,
    Propagator,
)
from esm_tui.app.config_actions import ConfigActions, stamp
from esm_tui.app.history_actions import HistoryActions, HistoryWritten
from esm_tui.app.keys import KeyActions
from esm_tui.app.publish_actions import PublishActions
from esm_tui.app.watch_actions import WatchActions
from esm_tui.config import Config, Settings
from esm_tui.dns import Server, format_server
from esm_tui.engine import Engine
from esm_tui.hosts.words import host_name
from esm_tui.model import CHECK_NAMES, Status
from esm_tui.monitor import Change, Clock, Monitor
from esm_tui.ui_state import load_theme, save_theme
from esm_tui.watch import Watches
from esm_tui.widgets.card_grid import CardGrid
from esm_tui.widgets.domain_list import DomainList, DomainRow, FilterInput
from esm_tui.widgets.keys_footer import KeysFooter
from esm_tui.widgets.record_card import RecordCard
from esm_tui.widgets.record_detail import RecordDetailScreen
from esm_tui.widgets.watchers import is_live, prune_watchers

CONFIG_POLL_SECONDS = 2.0


class EsmApp(
    CheckRunner,
    KeyActions,
    ConfigActions,
    HistoryActions,
    WatchActions,
    PublishActions,
    AwayNotifications,
    App[int],
):
    """esm-tui's dashboard."""

    CSS_PATH = "app.tcss"
    TITLE = "esm-tui"
    NOTIFICATION_TIMEOUT = 8
    AUTO_FOCUS = "#domains"
    # ≥ 160 columns: three card columns and a sidebar as wide as the names (app.tcss).
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [
        (0, "-narrow"),
        (110, "-wide"),
        (160, "-xwide"),
    ]
    # ≥ 36 rows: all eight cards and the summary tile fit without scrolling (app.tcss);
    # at 80×24 the five seed cards come first and the rest scroll into view.
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-short"), (36, "-tall")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "recheck", "Recheck", id="recheck", tooltip="Check the selected domain now"),
        Binding("R", "recheck_all", "All", id="recheck-all", tooltip="Check every domain now"),
        Binding("w", "toggle_watch", "Watch", id="watch", tooltip="Recheck every 15 s until OK"),
        # Not in the footer: with a card focused, `⏎ Detail` pushed `q Quit` off 80 columns,
        # and the summary card and `?` already say what enter does.
        Binding(
            "enter",
            "open_detail",
            "Detail",
            id="detail",
            show=False,
            tooltip="Open the record's detail",
        ),
        Binding("c", "copy_fix", "Copy", id="copy", tooltip="Copy the record to publish"),
        # Off the footer (80 columns keep q Quit); in the help and the command palette.
        Binding("p", "plan", "Fix", id="plan", show=False, tooltip="Plan (and publish) the fixes"),
        Binding(
            "C",
            "copy_fix_strings",
            "Copy strings",
            id="copy-strings",
            show=False,
            tooltip="Copy the record's data as quoted ≤ 255-byte strings",
        ),
        Binding("a", "add_domain", "Add", id="add", tooltip="Add a domain"),
        Binding("d", "remove_domain", "Remove", id="remove", tooltip="Remove the selected domain"),
        Binding("slash", "filter", "Filter", id="filter", tooltip="Filter the domain list"),
        Binding("s", "cycle_sort", "Sort", id="sort", show=False, tooltip="Cycle the sort"),
        Binding("n", "next_problem", "Next", id="next", show=False, tooltip="Next not OK"),
        Binding("N", "previous_problem", "Prev", id="prev", show=False, tooltip="Previous not OK"),
        Binding("question_mark", "help", "Help", id="help", tooltip="Show the keys"),
        Binding("q", "quit", "Quit", id="quit", tooltip="Quit esm-tui"),
    ]

    def __init__(
        self,
        config: Config,
        *,
        nameservers: Sequence[Server] | None = None,
        extra_domains: Iterable[str] = (),
        checker: Checker | None = None,
        clock: Clock | None = None,
        watch_config: bool = True,
        label: str = "",
        propagator: Propagator | None = None,
        watches: Watches | None = None,
        history_path: Path | None = None,
        notify_urls: Sequence[str] = (),
    ) -> None:
        """`checker`, `propagator`, `clock` and `watches` are for tests. Propagation is
        asked over DNS unless a `checker` is given without a `propagator` (fixed data)."""
        super().__init__()
        self.config = config
        self._nameservers = list(nameservers) if nameservers else None
        self._extra = [d for d in dict.fromkeys(extra_domains)]
        self._checker: Checker = checker or self._check_with_dns
        self._propagator: Propagator | None = propagator or (
            None if checker is not None else self._propagate_with_dns
        )
        self._watch_config = watch_config and config.path is not None
        self._config_stamp = stamp(config.path)
        self._label = label
        self.engine = Engine(self._dns_params())
        self.monitor = Monitor(interval=config.settings.interval, clock=clock)
        self.watches = watches or Watches(self.monitor.clock)
        self._history_path = history_path
        self._history = None
        self._history_off = False
        self._history_lock = asyncio.Lock()
        self.selected: str | None = None
        self._last_card = CHECK_NAMES[0]
        self._binding_state: tuple[bool | None, ...] = ()
        self._bindings_due = False
        self._domain_workers: dict[str, Worker[None]] = {}
        self._notify_urls = list(notify_urls)

    # -- setup ------------------------------------------------------------------------------

    def _resolver_title(self) -> str:
        servers = [format_server(s) for s in self.engine.params.nameservers]
        if not servers:
            text = "no resolver"
        else:
            more = f" +{len(servers) - 1}" if len(servers) > 1 else ""
            text = f"resolver {servers[0]}{more}"
        return f"{self._label} · {text}" if self._label else text

    def format_title(self, title: str, sub_title: str) -> Content:
        """`esm-tui — resolver 127.0.0.1:53`, each gap at the end of a span (see `badge`)."""
        if not sub_title:
            return Content(title)
        return Content.assemble(f"{title} ", ("— ", "dim"), sub_title)

    def compose(self) -> ComposeResult:
        # Kept as attributes: the app queries the *current* screen, which may be a detail.
        self.domain_list = DomainList(id="domains")
        self.filter_input = FilterInput(placeholder="filter domains", id="filter")
        self.card_grid = CardGrid(id="cards")
        self.empty_state = Static(id="empty")
        yield Header()
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield self.filter_input
                yield self.domain_list
            with Vertical(id="main"):
                yield self.card_grid
                yield self.empty_state
        yield KeysFooter()

    def on_mount(self) -> None:
        remembered = load_theme()
        if remembered is not None and remembered in self.available_themes:
            self.theme = remembered
        self._theme_loaded = True
        self.sub_title = self._resolver_title()
        problem = self.start_notifications(self._notify_urls)
        if problem is not None:
            self.notify(problem, title="Notifications off", severity="error", markup=False)
        self._sync_domains()
        self.set_interval(1.0, self._tick)
        if self._watch_config:
            self.set_interval(CONFIG_POLL_SECONDS, self._poll_config)
        self.domain_list.focus()

    # -- domains and workers ------------------------------------------------------------------

    def domain_names(self) -> list[str]:
        """The configured domains, then the command-line ones not in the config."""
        configured = [d.name for d in self.config.domains]
        return configured + [d for d in self._extra if d not in configured]

    def _sync_domains(self) -> None:
        added, removed = self.monitor.set_domains(self.domain_names())
        for name in removed:
            worker = self._domain_workers.pop(name, None)
            if worker is not None:
                worker.cancel()
            self.watches.stop(name)
        for name in added:
            self._start_worker(name)
        self._refresh_list()
        self._refresh_cards()

    # -- results ------------------------------------------------------------------------------

    def on_check_started(self, message: CheckStarted) -> None:
        self._refresh_row(message.domain)
        if message.domain == self.selected:
            self._refresh_cards()
        self._update_bindings_for(message.domain)

    def on_domain_checked(self, message: DomainChecked) -> None:
        for change in message.changes:
            self.notify(
                change.message,
                title="Status changed",
                severity=_severity(change),
                markup=False,
            )
        name = message.domain
        self.notify_away(name, message.changes)
        self.watch_checked(name)
        self._refresh_row(name)
        if name == self.selected:
            self._refresh_cards()
        self._refresh_detail(name)
        self._update_bindings_for(name)

    def on_propagation_checked(self, message: PropagationChecked) -> None:
        self._refresh_row(message.domain)
        if message.domain == self.selected:
            self._refresh_cards()
        self._refresh_detail(message.domain)

    def on_history_written(self, message: HistoryWritten) -> None:
        screen = self.base_screen
        if isinstance(screen, RecordDetailScreen) and screen.domain == message.domain:
            self._load_timeline(screen)

    def _load_timeline(self, screen: RecordDetailScreen) -> None:
        async def load() -> None:
            screen.show_timeline(await self.timeline(screen.domain, screen.check))

        self.run_worker(load(), group="timeline", exclusive=True, exit_on_error=False)

    def _tick(self) -> None:
        """Once a second: "checked 12 s ago" moves on, watched domains are rechecked."""
        if not self._on_screen:  # not mounted yet, or shutting down
            return
        prune_watchers(self, is_live)  # the Headers of closed detail screens (see watchers.py)
        self._watch_tick()
        self._refresh_cards()
        screen = self.base_screen
        if isinstance(screen, RecordDetailScreen) and screen.domain in self.monitor:
            screen.tick(self.monitor.view(screen.domain, screen.check))

    @property
    def _has_screen(self) -> bool:
        """False before the first screen is pushed and once the app has closed."""
        return bool(self._screen_stacks.get(self._current_mode)) and not self._closing

    @property
    def _on_screen(self) -> bool:
        """The dashboard's widgets are still there (not while the app shuts down)."""
        return self._has_screen and self.domain_list.is_attached and self.card_grid.is_attached

    def _row(self, name: str) -> DomainRow:
        return DomainRow(
            name,
            self.monitor.domain_status(name),
            self.monitor.is_checking(name),
            self.watches.label(name),
        )

    def _refresh_list(self) -> None:
        """Every row: for a new set of domains (each check updates its own row)."""
        if not self._on_screen:
            return
        self.domain_list.show([self._row(name) for name in self.monitor.domains])

    def _refresh_row(self, name: str) -> None:
        """One domain's row, redrawn only if what it shows changed."""
        if self._on_screen and name in self.monitor:
            self.domain_list.update_row(self._row(name))

    def _refresh_cards(self) -> None:
        if not self._on_screen:
            return
        grid = self.card_grid
        empty = self.empty_state
        name = self.selected
        if name is None or name not in self.monitor:
            if isinstance(self.focused, RecordCard):  # no card to act on: back to the list
                self.domain_list.focus()
            grid.display = False
            empty.display = True
            empty.update(self._empty_message())
            return
        grid.display = True
        empty.display = False
        views = {check: self.monitor.view(name, check) for check in CHECK_NAMES}
        report = self.monitor.report(name)
        host = host_name(report.dns_host) if report is not None else None
        grid.show(name, views, self.monitor.domain_status(name), self.watches.label(name), host)

    def _empty_message(self) -> Content:
        if len(self.monitor):
            return Content("No domain matches the filter (escape in the filter clears it).")
        where = f" (saved to {self.config.path})" if self.config.path else ""
        return Content.assemble(
            ("No domains yet.\n\n", "bold"),
            # Spaces end a span, never start one: an SVG export drops a span's leading
            # spaces ("Press ato add one", issue 17 item 7).
            "Press ",
            ("a ", "bold $text-accent"),
            f"to add one{where},\nor start with ",
            ("esm-tui --demo ", "bold"),
            "to see a demo.",
        )

    def _refresh_detail(self, domain: str) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, RecordDetailScreen) and screen.domain == domain:
                screen.show(self.monitor.view(domain, screen.check))

    # -- selection ---------------------------------------------------------------------------

    def on_domain_list_selected(self, message: DomainList.Selected) -> None:
        self.selected = message.domain
        self._refresh_cards()
        self._update_bindings()

    def on_domain_list_entered(self, message: DomainList.Entered) -> None:
        self.card_grid.card(self._last_card).focus()

    def on_descendant_focus(self, event: object) -> None:
        focused = self.focused
        if isinstance(focused, RecordCard):
            self._last_card = focused.check
        self._update_bindings()

    @property
    def base_screen(self) -> Screen | None:
        """The topmost screen that is not a dialog or the command palette (None: no
        screen, before the app starts or while it shuts down)."""
        if not self._has_screen:
            return None
        for screen in reversed(self.screen_stack):
            if not isinstance(screen, ModalScreen):
                return screen
        return self.screen

    def current_record(self) -> tuple[str, str] | None:
        """(domain, check) that `enter` and `c` act on: the open detail, else the card."""
        screen = self.base_screen
        if isinstance(screen, RecordDetailScreen):
            return screen.domain, screen.check
        if self.selected is None or self.selected not in self.monitor:
            return None
        focused = self.focused
        check = focused.check if isinstance(focused, RecordCard) else self._last_card
        return self.selected, check

    async def on_record_card_opened(self, message: RecordCard.Opened) -> None:
        self._last_card = message.check
        await self.action_open_detail()

    # -- settings and shutdown -------------------------------------------------------------------

    def _settings_changed(self, old: Settings, new: Settings) -> None:
        """The config file's [settings] changed (reload, or an edit through the app)."""
        self.monitor.set_interval(new.interval)
        self.engine.configure(self._dns_params())
        self.sub_title = self._resolver_title()
        if not new.history:
            self.close_history()
        elif not old.history:
            self._history_off = False

    def watch_theme(self, theme: str) -> None:
        """A theme chosen (the palette's "Change theme"): remembered for the next run."""
        if getattr(self, "_theme_loaded", False):
            save_theme(theme)

    def on_unmount(self) -> None:
        self._history_off = True  # a write still in flight fails quietly
        self.close_history()
        self.stop_notifications()
        self.engine.close()


def _severity(change: Change) -> str:
    if change.new == Status.FAIL:
        return "error"
    return "warning" if change.new.rank > change.old.rank else "information"
