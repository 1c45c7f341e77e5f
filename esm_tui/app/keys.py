"""The dashboard's own keys: what `r`, `R`, `enter`, `c`, `/` and `?` do, and when each applies.

A mixin of `EsmApp`. A key that does not apply right now is greyed out in the footer
(`check_action` returns None) and left out of the command palette, which offers the
same actions by name. The footer is rebuilt only when what applies has changed: it
redraws every key from scratch. The keys `w`, `a` and `d` are watch_actions.py's and
config_actions.py's.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from textual.app import SystemCommand
from textual.screen import ModalScreen, Screen
from textual.widgets import Input

from esm_tui.config import Config
from esm_tui.hosts.steps import rdata_text, txt_strings
from esm_tui.model import Status
from esm_tui.monitor import Monitor
from esm_tui.triage import SORTS, next_problem, next_sort
from esm_tui.widgets.dialogs import HelpScreen
from esm_tui.widgets.domain_list import FilterInput
from esm_tui.widgets.record_detail import RecordDetailScreen

#: How long the footer may lag a check's start or end on the domain on screen.
BINDINGS_DELAY = 0.2

HELP_KEYS: tuple[tuple[str, str], ...] = (
    ("r", "recheck the selected domain now (fresh DNS answers)"),
    ("R", "recheck every domain now"),
    ("w", "watch the domain: recheck every 15 s until all OK (1 h at most)"),
    ("enter", "in the list: go to the cards; on a card: open its detail"),
    ("c", "copy the value of the record to publish (OSC 52: works over SSH)"),
    ("C", "copy it as zone-file data: a long TXT value as quoted strings of ≤ 255 bytes"),
    (
        "p",
        "the plan of the domain's fixes, with your DNS host's steps; publish it when "
        "[publish] is configured (then the domain is watched)",
    ),
    ("a", "add a domain (saved to the config file)"),
    ("d", "remove the selected domain (asks first)"),
    ("/", "filter by name or status (/fail /warn /?); escape clears"),
    ("s n N", "sort the list; next / previous domain not OK; j k g G move"),
    ("arrows", "move between domains, or between cards"),
    ("tab", "switch between the domain list and the cards"),
    ("escape", "back from a detail or a dialog"),
    ("ctrl+p", "command palette: every action by name"),
    ("? / q", "this help / quit"),
)
HELP_NOTES = (
    "The mouse works too: click a domain, a card or a key in the footer.",
    "In tmux, copying needs `set -g set-clipboard on` in ~/.tmux.conf.",
)

#: Actions of the dashboard, for the command palette: (action, title, help).
PALETTE: tuple[tuple[str, str, str], ...] = (
    ("recheck", "Recheck domain", "Check the selected domain now, bypassing the DNS cache"),
    ("recheck_all", "Recheck all domains", "Check every domain now, bypassing the DNS cache"),
    ("toggle_watch", "Watch domain", "Recheck every 15 s until all records are OK (1 h at most)"),
    ("open_detail", "Open record detail", "Raw records, parsed tags, findings and the fix"),
    ("copy_fix", "Copy fix record", "Copy the value of the record to publish to the clipboard"),
    ("plan", "Fix the domain", "The plan of the fixes, the DNS host's steps, and Publish"),
    (
        "copy_fix_strings",
        "Copy fix record as zone-file strings",
        "Copy the record's data as a zone file writes it: TXT as quoted strings of ≤ 255 bytes",
    ),
    ("add_domain", "Add domain", "Add a domain to the config file and start watching it"),
    ("remove_domain", "Remove domain", "Remove the selected domain from the config file"),
    ("filter", "Filter domains", "Show only the domains whose name contains some text"),
    ("cycle_sort", "Sort domains", "As configured, by name, or worst first"),
    ("next_problem", "Next domain not OK", "Jump to the next domain that fails or warns"),
    ("previous_problem", "Previous domain not OK", "Jump to the previous one that is not OK"),
    ("help", "Show keys", "The keys of the dashboard"),
)
_DASHBOARD_ONLY = frozenset(
    {
        "add_domain",
        "remove_domain",
        "filter",
        "open_detail",
        "cycle_sort",
        "next_problem",
        "previous_problem",
    }
)
_ACTIONS = frozenset({action for action, _, _ in PALETTE} | {"quit"})


class KeyActions:
    """The dashboard's keys and what applies when, mixed into EsmApp (which provides the
    rest: `current_record()`, `base_screen`, `_start_worker()`, the widgets)."""

    config: Config
    monitor: Monitor
    selected: str | None
    _binding_state: tuple[bool | None, ...]
    _bindings_due: bool

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide what a screen does not offer; grey out (None) what does not apply now."""
        if getattr(self, "_exit", False):
            # Quitting: keys typed in the same burst as `q` (`qa` arrives as one read over
            # SSH) must not open a dialog on a screen that is being torn down.
            return False
        if action not in _ACTIONS:
            return True
        if not self._has_screen:  # not started yet, or shutting down
            return None
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
            case "toggle_watch":
                ok = record is not None
            case "recheck_all" | "filter" | "cycle_sort" | "next_problem" | "previous_problem":
                ok = len(self.monitor) > 0
            case "remove_domain":
                ok = self.selected in self.monitor
            case "open_detail":
                ok = record is not None and self.monitor.report(record[0]) is not None
            case "copy_fix" | "copy_fix_strings":
                # Offered on any record: with nothing to copy, the key says why (greyed
                # out, it did nothing at all and the admin was left guessing).
                ok = record is not None
            case _:
                ok = True
        return True if ok else None

    def _update_bindings_for(self, domain: str) -> None:
        """A check of `domain` started or ended: the keys can only change if it is the
        domain on screen (checking all the keys for each of 1,000 domains was a third of
        the dashboard's CPU during a refresh)."""
        if not self._on_screen:  # not started yet, or shutting down
            return
        record = self.current_record()
        on_screen = domain == self.selected or (record is not None and record[0] == domain)
        # Soon, not now: the footer rebuilds all its keys, and with each key press during a
        # refresh landing on a domain in another state, that rebuild fell in the key's
        # frame. A key still runs `check_action` when pressed.
        if on_screen and not self._bindings_due:
            self._bindings_due = True
            self.set_timer(BINDINGS_DELAY, self._flush_bindings)

    def _flush_bindings(self) -> None:
        self._bindings_due = False
        self._update_bindings()

    def _update_bindings(self) -> None:
        """Refresh the footer only when what applies has changed (it redraws from scratch)."""
        if not self._on_screen:  # check_action needs a screen (ScreenStackError at exit)
            return
        state = tuple(self.check_action(action, ()) for action in sorted(_ACTIONS))
        if state != self._binding_state:
            self._binding_state = state
            self.refresh_bindings()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's commands, then every dashboard action that applies right now."""
        # Textual's own "Keys" (its key panel) beside our "Show keys" read as the same thing
        # twice: ours is the one that lists the dashboard's keys with what they do.
        yield from (c for c in super().get_system_commands(screen) if c.title != "Keys")
        for action, title, help_text in PALETTE:
            if action == "toggle_watch" and self._watched() is not None:
                title, help_text = "Stop watching domain", "Stop rechecking it every 15 s"
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

    def action_cycle_sort(self) -> None:
        domains = self.domain_list
        domains.sort_mode = next_sort(domains.sort_mode)
        self.notify(f"Domains sorted {SORTS[domains.sort_mode]}.", markup=False, timeout=2)

    def action_next_problem(self) -> None:
        self._jump_to_problem(1)

    def action_previous_problem(self) -> None:
        self._jump_to_problem(-1)

    def _jump_to_problem(self, step: int) -> None:
        domains = self.domain_list
        target = next_problem(domains.visible, self.monitor.domain_status, self.selected, step)
        if target is None:
            shown = "listed " if domains.filter_text else ""
            self.notify(f"Every {shown}domain is OK (or not checked yet).", markup=False)
            return
        domains.select(target)
        domains.focus()

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
        if self.config.settings.history:
            self._load_timeline(screen)

    def action_copy_fix(self) -> None:
        fix = self._fix_value(self.current_record())
        if fix is None:
            self.notify(self._nothing_to_copy(), title="Nothing to copy", markup=False)
            return
        name, rdtype, value = fix
        self.copy_to_clipboard(value)
        self.notify(
            f"Copied the {rdtype} value for {name} to the clipboard.",
            title="Copied",
            markup=False,
        )

    def _nothing_to_copy(self) -> str:
        """Why `c` has nothing to copy for the record on screen, in the admin's terms."""
        record = self.current_record()
        if record is None:
            return "Select a record first (a card, or a domain in the list)."
        domain, check = record
        view = self.monitor.view(domain, check)
        label = check.upper().replace("_", "-")
        if view.status == Status.OK:
            return f"{label} of {domain} is OK: there is no record to publish."
        if view.status == Status.NONE:
            return f"{label} of {domain} is not in use and not expected: nothing to publish."
        if view.status == Status.UNKNOWN or view.shown is None:
            return f"{label} of {domain} could not be checked yet: no record to propose."
        return f"{label} of {domain}: the fix is a change to make, not a record (see the detail)."

    def action_copy_fix_strings(self) -> None:
        fix = self._fix_value(self.current_record())
        if fix is None:
            self.notify(self._nothing_to_copy(), title="Nothing to copy", markup=False)
            return
        name, rdtype, value = fix
        data = rdata_text(rdtype, value)
        count = len(txt_strings(value)) if rdtype.upper() in ("TXT", "SPF") else 0
        self.copy_to_clipboard(data)
        what = f"as {count} quoted strings" if count > 1 else "in zone-file form"
        self.notify(
            f"Copied the {rdtype} data for {name} {what} to the clipboard.",
            title="Copied",
            markup=False,
        )

    def action_filter(self) -> None:
        self.filter_input.open()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(HELP_KEYS, HELP_NOTES))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.domain_list.filter_text = event.value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self.domain_list.focus()

    def on_filter_input_cleared(self, message: FilterInput.Cleared) -> None:
        self.domain_list.focus()
