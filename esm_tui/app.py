"""The dashboard: a Textual app that shows the Monitor's view and runs its workers.

One long-lived async worker per domain (`check; post the result; sleep until due`), in
the group `domain:NAME` and exclusive, so "recheck now" simply starts a fresh one; the
Monitor's per-domain lock guarantees that a cancelled check has unwound before the next
begins. Widgets get values and post messages; only this module talks to the Monitor,
the config file and the DNS layer.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Header, Input, Static
from textual.worker import Worker, WorkerState

from esm_tui.checks import check_domain
from esm_tui.checks.context import CheckContext
from esm_tui.config import (
    Config,
    ConfigChangedError,
    ConfigError,
    add_domain,
    load_config,
    normalize_domain,
    remove_domain,
    resolve_config_path,
)
from esm_tui.dns import Dns, Server, format_server
from esm_tui.model import CHECK_NAMES, DomainReport, DomainSettings, Status
from esm_tui.monitor import Change, Clock, Monitor
from esm_tui.text import display_safe
from esm_tui.widgets.card_grid import CardGrid
from esm_tui.widgets.dialogs import AddDomainScreen, ConfirmScreen, HelpScreen
from esm_tui.widgets.domain_list import DomainList, DomainRow, FilterInput
from esm_tui.widgets.keys_footer import KeysFooter
from esm_tui.widgets.record_card import RecordCard
from esm_tui.widgets.record_detail import RecordDetailScreen

Checker = Callable[[DomainSettings, bool], Awaitable[DomainReport]]

#: Reuse DNS answers for this share of the interval: the staggered workers share answers
#: (common SPF includes) within a cycle, and each domain gets fresh ones the next cycle.
CACHE_SHARE = 0.9
CONFIG_POLL_SECONDS = 2.0

HELP_KEYS: tuple[tuple[str, str], ...] = (
    ("r", "recheck the selected domain now (fresh DNS answers)"),
    ("R", "recheck every domain now"),
    ("enter", "in the list: go to the cards; on a card: open its detail"),
    ("c", "copy the value of the record to publish (OSC 52: works over SSH)"),
    ("a", "add a domain (saved to the config file)"),
    ("d", "remove the selected domain (asks first)"),
    ("/", "filter the domain list (escape clears it)"),
    ("arrows", "move between domains, or between cards"),
    ("tab", "switch between the domain list and the cards"),
    ("escape", "back from a detail or a dialog"),
    ("ctrl+p", "command palette: every action by name"),
    ("?", "this help"),
    ("q", "quit"),
)
HELP_NOTES = (
    "The mouse works too: click a domain, a card or a key in the footer.",
    "In tmux, copying needs `set -g set-clipboard on` in ~/.tmux.conf.",
)

#: Actions of the dashboard, for the command palette: (action, title, help).
PALETTE: tuple[tuple[str, str, str], ...] = (
    ("recheck", "Recheck domain", "Check the selected domain now, bypassing the DNS cache"),
    ("recheck_all", "Recheck all domains", "Check every domain now, bypassing the DNS cache"),
    ("open_detail", "Open record detail", "Raw records, parsed tags, findings and the fix"),
    ("copy_fix", "Copy fix record", "Copy the value of the record to publish to the clipboard"),
    ("add_domain", "Add domain", "Add a domain to the config file and start watching it"),
    ("remove_domain", "Remove domain", "Remove the selected domain from the config file"),
    ("filter", "Filter domains", "Show only the domains whose name contains some text"),
    ("help", "Show keys", "The keys of the dashboard"),
)
_DASHBOARD_ONLY = frozenset({"add_domain", "remove_domain", "filter", "open_detail"})
_ACTIONS = frozenset({action for action, _, _ in PALETTE} | {"quit"})


class CheckStarted(Message):
    """A worker began checking `domain` (the cards show a spinner)."""

    def __init__(self, domain: str) -> None:
        super().__init__()
        self.domain = domain


class DomainChecked(Message):
    """A worker finished checking `domain`; `changes` are the statuses that moved."""

    def __init__(self, domain: str, changes: Sequence[Change]) -> None:
        super().__init__()
        self.domain = domain
        self.changes = list(changes)


class EsmApp(App[int]):
    """esm-tui's dashboard."""

    CSS_PATH = "app.tcss"
    TITLE = "esm-tui"
    NOTIFICATION_TIMEOUT = 8
    AUTO_FOCUS = "#domains"
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (110, "-wide")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "recheck", "Recheck", id="recheck", tooltip="Check the selected domain now"),
        Binding("R", "recheck_all", "All", id="recheck-all", tooltip="Check every domain now"),
        Binding("enter", "open_detail", "Detail", id="detail", tooltip="Open the record's detail"),
        Binding("c", "copy_fix", "Copy", id="copy", tooltip="Copy the record to publish"),
        Binding("a", "add_domain", "Add", id="add", tooltip="Add a domain"),
        Binding("d", "remove_domain", "Remove", id="remove", tooltip="Remove the selected domain"),
        Binding("slash", "filter", "Filter", id="filter", tooltip="Filter the domain list"),
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
    ) -> None:
        super().__init__()
        self.config = config
        self._nameservers = list(nameservers) if nameservers else None
        self._extra = [d for d in dict.fromkeys(extra_domains)]
        self._checker: Checker = checker or self._check_with_dns
        self._watch_config = watch_config and config.path is not None
        self._config_stamp = _stamp(config.path)
        self._label = label
        self.dns = self._make_dns()
        self.monitor = Monitor(interval=config.settings.interval, clock=clock)
        self.selected: str | None = None
        self._last_card = CHECK_NAMES[0]
        self._binding_state: tuple[bool | None, ...] = ()

    # -- setup ------------------------------------------------------------------------------

    def _make_dns(self) -> Dns:
        settings = self.config.settings
        return Dns(
            self._nameservers or list(settings.nameservers),
            timeout=settings.timeout,
            retries=settings.retries,
            concurrency=settings.concurrency,
            max_age=settings.interval * CACHE_SHARE,
        )

    def _resolver_title(self) -> str:
        servers = [format_server(s) for s in self.dns.nameservers]
        if not servers:
            text = "no resolver"
        else:
            more = f" +{len(servers) - 1}" if len(servers) > 1 else ""
            text = f"resolver {servers[0]}{more}"
        return f"{self._label} · {text}" if self._label else text

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield FilterInput(placeholder="filter domains", id="filter")
                yield DomainList(id="domains")
            with Vertical(id="main"):
                yield CardGrid(id="cards")
                yield Static(id="empty")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.sub_title = self._resolver_title()
        self.query_one("#domains", DomainList).border_title = "Domains"
        self._sync_domains()
        self.set_interval(1.0, self._tick)
        if self._watch_config:
            self.set_interval(CONFIG_POLL_SECONDS, self._poll_config)
        self.query_one("#domains", DomainList).focus()

    # -- domains and workers ------------------------------------------------------------------

    def domain_names(self) -> list[str]:
        """The configured domains, then the command-line ones not in the config."""
        configured = [d.name for d in self.config.domains]
        return configured + [d for d in self._extra if d not in configured]

    def _sync_domains(self) -> None:
        added, removed = self.monitor.set_domains(self.domain_names())
        for name in removed:
            self.workers.cancel_group(self, f"domain:{name}")
        for name in added:
            self._start_worker(name)
        self._refresh_list()
        self._refresh_cards()

    def _start_worker(self, name: str, *, fresh: bool = False) -> Worker[None]:
        return self.run_worker(
            self._watch_domain(name, fresh),
            name=f"check {name}",
            group=f"domain:{name}",
            description=f"checks {name} every {self.monitor.interval:g} s",
            exclusive=True,
            exit_on_error=False,
        )

    async def _watch_domain(self, name: str, fresh: bool) -> None:
        """The worker of one domain: check, post the result, sleep until it is due."""
        try:
            while name in self.monitor.domains:
                if not fresh:
                    await self.monitor.wait_until_due(name)
                    if name not in self.monitor.domains:
                        return
                async with self.monitor.checking(name, fresh=fresh):
                    self.post_message(CheckStarted(name))
                    report = await self._checker(self._settings(name), fresh)
                changes = self.monitor.record(name, report)
                self.post_message(DomainChecked(name, changes))
                fresh = False
        finally:
            if fresh:  # cancelled before the fresh check could run
                self.monitor.end_recheck(name)

    def _settings(self, name: str) -> DomainSettings:
        return self.config.domain_settings(name)

    async def _check_with_dns(self, settings: DomainSettings, fresh: bool) -> DomainReport:
        return await check_domain(settings, CheckContext(self.dns, fresh))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state != WorkerState.ERROR or not (worker.group or "").startswith("domain:"):
            return
        name = worker.group.removeprefix("domain:")
        self.notify(
            f"Checking {name} failed: {worker.error!r}. esm-tui keeps watching it.",
            title="Internal error",
            severity="error",
            markup=False,
        )
        if name in self.monitor.domains:
            self.monitor.record_error(name)
            self._start_worker(name)

    # -- results ------------------------------------------------------------------------------

    def on_check_started(self, message: CheckStarted) -> None:
        self._refresh_list()
        if message.domain == self.selected:
            self._refresh_cards()
        self._update_bindings()

    def on_domain_checked(self, message: DomainChecked) -> None:
        for change in message.changes:
            self.notify(
                change.message,
                title="Status changed",
                severity=_severity(change),
                markup=False,
            )
        self._refresh_list()
        if message.domain == self.selected:
            self._refresh_cards()
        self._refresh_detail(message.domain)
        self._update_bindings()

    def _tick(self) -> None:
        """Once a second: "checked 12 s ago" moves on."""
        self._refresh_cards()
        screen = self.base_screen
        if isinstance(screen, RecordDetailScreen) and screen.domain in self.monitor.domains:
            screen.tick(self.monitor.view(screen.domain, screen.check))

    def _refresh_list(self) -> None:
        rows = [
            DomainRow(name, self.monitor.domain_status(name), self.monitor.is_checking(name))
            for name in self.monitor.domains
        ]
        self.query_one("#domains", DomainList).show(rows)

    def _refresh_cards(self) -> None:
        grid = self.query_one("#cards", CardGrid)
        empty = self.query_one("#empty", Static)
        name = self.selected
        if name is None or name not in self.monitor.domains:
            if isinstance(self.focused, RecordCard):  # no card to act on: back to the list
                self.query_one("#domains", DomainList).focus()
            grid.display = False
            empty.display = True
            empty.update(self._empty_message())
            return
        grid.display = True
        empty.display = False
        views = {check: self.monitor.view(name, check) for check in CHECK_NAMES}
        grid.show(name, views, self.monitor.domain_status(name))

    def _empty_message(self) -> Content:
        if self.monitor.domains:
            return Content("No domain matches the filter (escape in the filter clears it).")
        where = f" (saved to {self.config.path})" if self.config.path else ""
        return Content.assemble(
            ("No domains yet.\n\n", "bold"),
            "Press ",
            ("a", "bold $text-accent"),
            f" to add one{where},\nor start with ",
            ("esm-tui --demo", "bold"),
            " to see a demo.",
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
        self.query_one("#cards", CardGrid).card(self._last_card).focus()

    def on_descendant_focus(self, event: object) -> None:
        focused = self.focused
        if isinstance(focused, RecordCard):
            self._last_card = focused.check
        self._update_bindings()

    @property
    def base_screen(self) -> Screen:
        """The topmost screen that is not a dialog or the command palette."""
        for screen in reversed(self.screen_stack):
            if not isinstance(screen, ModalScreen):
                return screen
        return self.screen

    def current_record(self) -> tuple[str, str] | None:
        """(domain, check) that `enter` and `c` act on: the open detail, else the card."""
        screen = self.base_screen
        if isinstance(screen, RecordDetailScreen):
            return screen.domain, screen.check
        if self.selected is None or self.selected not in self.monitor.domains:
            return None
        focused = self.focused
        check = focused.check if isinstance(focused, RecordCard) else self._last_card
        return self.selected, check

    async def on_record_card_opened(self, message: RecordCard.Opened) -> None:
        self._last_card = message.check
        await self.action_open_detail()

    # -- actions ---------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide what a screen does not offer; grey out (None) what does not apply now."""
        if action not in _ACTIONS:
            return True
        if isinstance(self.screen, ModalScreen):  # a dialog has its own keys
            return action == "quit"
        return self._allowed(action)

    def _allowed(self, action: str) -> bool | None:
        base = self.base_screen
        if isinstance(base, RecordDetailScreen) and action in _DASHBOARD_ONLY:
            return False
        record = self.current_record()
        match action:
            case "recheck":
                domain = record[0] if record else None
                ok = domain is not None and not self.monitor.recheck_pending(domain)
            case "recheck_all" | "filter":
                ok = bool(self.monitor.domains)
            case "remove_domain":
                ok = self.selected in self.monitor.domains
            case "open_detail":
                ok = record is not None and self.monitor.report(record[0]) is not None
            case "copy_fix":
                ok = self._fix_value(record) is not None
            case _:
                ok = True
        return True if ok else None

    def _update_bindings(self) -> None:
        """Refresh the footer only when what applies has changed (it redraws from scratch)."""
        state = tuple(self.check_action(action, ()) for action in sorted(_ACTIONS))
        if state != self._binding_state:
            self._binding_state = state
            self.refresh_bindings()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's commands, then every dashboard action that applies right now."""
        yield from super().get_system_commands(screen)
        for action, title, help_text in PALETTE:
            if self._allowed(action) is True:
                yield SystemCommand(title, help_text, partial(self.run_palette_action, action))

    async def run_palette_action(self, action: str) -> None:
        """Run an action chosen in the command palette (bypassing the key-binding checks)."""
        result = getattr(self, f"action_{action}")()
        if result is not None:
            await result

    def _fix_value(self, record: tuple[str, str] | None) -> tuple[str, str, str] | None:
        if record is None:
            return None
        view = self.monitor.view(*record)
        fix = view.shown.fix if view.shown is not None else None
        if fix is None or fix.record is None or view.status in (Status.OK, Status.NONE):
            return None
        return fix.record.name, fix.record.type, fix.record.value

    def action_recheck(self) -> None:
        record = self.current_record()
        if record is None or not self.monitor.begin_recheck(record[0]):
            return
        name = record[0]
        self._start_worker(name, fresh=True)
        self._update_bindings()

    def action_recheck_all(self) -> None:
        started = [n for n in self.monitor.domains if self.monitor.begin_recheck(n)]
        for name in started:
            self._start_worker(name, fresh=True)
        self.notify(f"Rechecking {len(started)} domain(s)", markup=False, timeout=3)
        self._update_bindings()

    async def action_open_detail(self) -> None:
        record = self.current_record()
        if record is None or isinstance(self.base_screen, RecordDetailScreen):
            return
        domain, check = record
        screen = RecordDetailScreen(domain, check)
        await self.push_screen(screen)
        screen.show(self.monitor.view(domain, check))

    def action_copy_fix(self) -> None:
        fix = self._fix_value(self.current_record())
        if fix is None:
            self.notify("Nothing to copy: this record has no fix to publish.", markup=False)
            return
        name, rdtype, value = fix
        self.copy_to_clipboard(value)
        self.notify(
            f"Copied the {rdtype} value for {name} to the clipboard.",
            title="Copied",
            markup=False,
        )

    def action_filter(self) -> None:
        self.query_one("#filter", FilterInput).open()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(HELP_KEYS, HELP_NOTES))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.query_one("#domains", DomainList).filter_text = event.value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self.query_one("#domains", DomainList).focus()

    def on_filter_input_cleared(self, message: FilterInput.Cleared) -> None:
        self.query_one("#domains", DomainList).focus()

    # -- adding and removing (saved to the config file) ------------------------------------------

    def action_add_domain(self) -> None:
        where = str(self.config.path) if self.config.path else ""
        self.push_screen(
            AddDomainScreen(normalize_domain, self.monitor.domains, where), self._add_domain
        )

    def _add_domain(self, name: str | None) -> None:
        if not name:
            return
        if self._edit_config(add_domain, name, "add"):
            self.notify(f"Added {name} (saved to {self.config.path}).", markup=False)
        else:
            self._extra.append(name)
            self.notify(f"Added {name} for this session (no config file).", markup=False)
        self._sync_domains()
        domains = self.query_one("#domains", DomainList)
        domains.select(name)
        domains.focus()

    def action_remove_domain(self) -> None:
        name = self.selected
        if name is None:
            return
        configured = self.config.domain(name) is not None and self.config.path is not None
        where = f"from {self.config.path}" if configured else "from this session"
        question = f"Remove {name} {where}?\nIts checks stop now."
        self.push_screen(
            ConfirmScreen("Remove domain", question), partial(self._remove_domain, name)
        )

    def _remove_domain(self, name: str, confirmed: bool | None) -> None:
        if not confirmed:
            return
        if name in self._extra:
            self._extra.remove(name)
        if self.config.domain(name) is not None and not self._edit_config(
            remove_domain, name, "remove"
        ):
            return
        self._sync_domains()
        self.notify(f"Removed {name}.", markup=False)

    def _edit_config(self, edit: Callable[[Config, str], Config], name: str, verb: str) -> bool:
        """Apply `edit` to the config file; on a concurrent change reload and try once more."""
        if self.config.path is None:
            return False
        for attempt in (1, 2):
            try:
                self._apply_config(edit(self.config, name))
                self._config_stamp = _stamp(self.config.path)
                return True
            except ConfigChangedError:
                if attempt == 2 or not self._reload_config():
                    break
                self.notify(
                    f"{self.config.path} had changed on disk: reloaded it before the {verb}.",
                    markup=False,
                )
            except ConfigError as exc:
                self.notify(
                    f"Could not {verb} {name}: {exc}", severity="error", markup=False, timeout=15
                )
                return False
        self.notify(f"Could not {verb} {name}: the config keeps changing.", severity="error")
        return False

    # -- config reloads --------------------------------------------------------------------------

    def _poll_config(self) -> None:
        stamp = _stamp(self.config.path)
        if stamp != self._config_stamp:
            self._config_stamp = stamp
            if self._reload_config():
                self._sync_domains()

    def _reload_config(self) -> bool:
        """Read the config file again; on an error keep the current one and say why."""
        path = self.config.path
        if path is None:
            return False
        try:
            new = load_config(path)
        except ConfigError as exc:
            self.notify(
                f"Config not reloaded: {exc}",
                title="Config error",
                severity="error",
                markup=False,
                timeout=15,
            )
            return False
        if new.fingerprint != self.config.fingerprint:
            self._apply_config(new)
            self.notify(f"Reloaded {path}.", markup=False, timeout=4)
        return True

    def _apply_config(self, new: Config) -> None:
        old, self.config = self.config, new
        if old.settings != new.settings:
            self.monitor.set_interval(new.settings.interval)
            self.dns = self._make_dns()
            self.sub_title = self._resolver_title()
        self._sync_domains()


def _severity(change: Change) -> str:
    if change.new == Status.FAIL:
        return "error"
    return "warning" if change.new.rank > change.old.rank else "information"


def _stamp(path: Path | None) -> tuple[int, int] | None:
    if path is None:
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def run_dashboard(
    config_path: Path | None,
    nameservers: list[Server] | None,
    domains: list[str],
    demo: bool,
) -> int:
    """The `esm-tui` command: run the dashboard until the user quits; the exit code."""
    running = None
    label = ""
    if demo:
        from esm_tui.demo.scenario import Demo

        running = Demo().start()
        config_path, nameservers, label = running.config_path, None, "demo"
    try:
        path = config_path if config_path is not None else resolve_config_path(None)
        try:
            config = load_config(path)
            names = [normalize_domain(d) for d in domains]
        except (ConfigError, ValueError) as exc:
            print(f"esm-tui: {display_safe(str(exc))}", file=sys.stderr)
            return 64
        app = EsmApp(config, nameservers=nameservers, extra_domains=names, label=label)
        app.run()
        return app.return_code or 0
    finally:
        if running is not None:
            running.stop()
