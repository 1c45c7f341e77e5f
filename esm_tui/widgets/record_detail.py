"""The detail screen of one record: query, raw records, parsed tags, findings, the fix.

The screen is given the card's `CardView` again whenever a new result arrives, so an
admin who has it open watches the record change. Copying (`c`) and rechecking (`r`) are
the app's actions: the screen only names the domain and record it shows.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import RenderableType
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Header, Static

from esm_tui.model import RecordResult
from esm_tui.monitor import LABELS, CardView, timing
from esm_tui.widgets.detail_sections import (
    details_table,
    dkim_selectors,
    finding_content,
    fix_steps,
    safe,
    spf_tree,
    tags_table,
    txt_strings_table,
)
from esm_tui.widgets.keys_footer import KeysFooter
from esm_tui.widgets.propagation_view import propagation_matrix, propagation_summary
from esm_tui.widgets.status import badge


def section(title: str, *children: Widget, id: str | None = None) -> list[Widget]:
    """A heading line followed by its parts (flat, so the scroll container stays simple)."""
    return [Static(Content.styled(title, "bold $text-accent"), classes="heading", id=id), *children]


def block(renderable: RenderableType | Content, classes: str = "") -> Static:
    return Static(renderable, classes=classes)


def when_line(view: CardView) -> Content:
    """`checked 12 s ago · next in 4 min` (or `checking now`)."""
    return Content.styled(" · ".join(t for t in timing(view) if t), "$text-muted")


def detail_widgets(domain: str, view: CardView, timeline: str | None = None) -> list[Widget]:
    """Everything the screen shows for `view`, top to bottom; `timeline` is the record's
    history in one line (None: history is off)."""
    result = view.shown
    label = LABELS.get(view.check, view.check)
    title = Content.assemble(
        badge(view.status), "  ", (f"{label} of ", "bold"), (safe(domain), "bold")
    )
    if result is None:
        return [
            block(title, "title"),
            Static(when_line(view), classes="muted", id="when"),
            block(Content.styled("No result yet.", "$text-muted"), "muted"),
        ]
    widgets: list[Widget] = [block(title, "title"), block(Content(safe(result.summary)))]
    query = Content.assemble(
        ("Query  ", "bold"),
        safe(result.query_name),
        " ",
        safe(result.query_type),
        f"   TTL {result.ttl} s" if result.ttl is not None else "",
    )
    widgets += [block(query), Static(when_line(view), classes="muted", id="when")]
    if view.stale_reason:
        widgets.append(
            block(
                Content.assemble(
                    ("Stale: ", "bold"),
                    "the latest check got no answer (",
                    safe(view.stale_reason),
                    "). Shown is the last result that had one.",
                ),
                "stale",
            )
        )
    # What is wrong and how to fix it come before the long tables (80×24 shows them first).
    widgets += _records(result)
    widgets += _findings(result)
    widgets += _fix(result)
    widgets += _propagation(view)
    if timeline is not None:
        widgets += section("History", timeline_widget(timeline))
    widgets += _parsed(result)
    widgets += _host_steps(result)
    return widgets


def timeline_widget(timeline: str) -> Static:
    return Static(Content(safe(timeline)), id="timeline")


def _propagation(view: CardView) -> list[Widget]:
    result = view.shown
    if result is None:
        return []
    if view.propagation_pending and result.propagation is None:
        waiting = Content.styled("Asking the authoritative servers…", "$text-muted")
        return section("Propagation", block(waiting, "muted"), id="propagation")
    propagation = result.propagation
    parts: list[Widget] = [block(propagation_summary(propagation), "propagation-state")]
    if propagation is not None:
        parts.append(block(propagation_matrix(propagation), "table matrix"))
    return section("Propagation", *parts, id="propagation")


def _records(result: RecordResult) -> list[Widget]:
    count = len(result.records)
    title = f"Records as published ({count})"
    if not count:
        return section(title, block(Content.styled("(none)", "$text-muted"), "muted"))
    return section(title, *(block(Content(safe(r)), "raw") for r in result.records), id="raw")


def _parsed(result: RecordResult) -> list[Widget]:
    widgets: list[Widget] = []
    table = tags_table(result)
    if table is not None:
        heading = "MX hosts" if result.check == "mx" else "Parsed"
        widgets += section(heading, block(table, "table"))
    tree = spf_tree(result)
    if tree is not None:
        widgets += section("Include tree", block(tree, "tree"))
    selectors = dkim_selectors(result)
    if selectors:
        parts: list[Widget] = []
        for heading, tags, record in selectors:
            parts.append(block(heading, "selector"))
            if record is not None:
                parts.append(block(Content(safe(record)), "raw"))
            if tags is not None:
                parts.append(block(tags, "table"))
        widgets += section(f"Selectors ({len(selectors)})", *parts)
    widgets += _policy_file(result)
    details = details_table(result.details)
    if details is not None:
        widgets += section("Details", block(details, "table"))
    return widgets


#: Lines of a fetched MTA-STS policy shown; the rest is counted (a policy is ~6 lines,
#: and the fetch caps it at 64 KB of attacker-chosen text).
_POLICY_LINES = 60


def _policy_file(result: RecordResult) -> list[Widget]:
    """The MTA-STS policy as fetched, line by line, each made safe to print."""
    policy = result.details.get("policy")
    if not isinstance(policy, str):
        return []
    lines = policy.splitlines()
    shown = [Content(safe(line)) for line in lines[:_POLICY_LINES]]
    if len(lines) > _POLICY_LINES:
        shown.append(Content.styled(f"… {len(lines) - _POLICY_LINES} more lines", "$text-muted"))
    heading = f"Policy file ({safe(result.details.get('policy_url'))})"
    return section(heading, block(Content("\n").join(shown), "raw"))


def _findings(result: RecordResult) -> list[Widget]:
    if not result.findings:
        return section("Findings", block(Content.styled("none", "$text-muted"), "muted"))
    return section(
        f"Findings ({len(result.findings)})",
        *(block(finding_content(f), "finding") for f in result.findings),
    )


def _fix(result: RecordResult) -> list[Widget]:
    fix = result.fix
    if fix is None:
        return []
    widgets: list[Widget] = []
    if fix.steps:
        widgets.append(block(fix_steps(fix.steps)))
    if fix.record is not None:
        record = Content("\n").join(
            [
                Content.assemble(("name  ", "bold"), safe(fix.record.name)),
                Content.assemble(("type  ", "bold"), safe(fix.record.type)),
                Content.assemble(("value ", "bold"), safe(fix.record.value)),
            ]
        )
        box = block(record, "fix-record")
        box.border_title = "Record to publish"
        box.border_subtitle = "c copies the value · C the zone-file strings"
        widgets.append(box)
    if len(fix.txt_strings) > 1:
        # Each ≤ 255-byte string on its own line, numbered with its size: what a host that
        # wants the strings one by one (or quoted, side by side) is given.
        strings = block(txt_strings_table(fix.txt_strings), "fix-strings")
        strings.border_title = f"As {len(fix.txt_strings)} strings of at most 255 bytes"
        strings.border_subtitle = "C copies them, quoted"
        widgets.append(strings)
    if fix.host_steps:
        widgets.append(block(Content.styled("The steps at the DNS host are at the end.", "dim")))
    return section("Fix", *widgets, id="fix")


def _host_steps(result: RecordResult) -> list[Widget]:
    """The fix in the DNS host's words: long, so after the tables (the Fix section says so)."""
    fix = result.fix
    if fix is None or not fix.host_steps:
        return []
    return section("At the DNS host", block(fix_steps(fix.host_steps)), id="host-steps")


class RecordDetailScreen(Screen[None]):
    """One record of one domain, in full."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="detail.back"),
    ]

    def __init__(self, domain: str, check: str) -> None:
        super().__init__()
        self.domain = domain
        self.check = check
        self.view: CardView | None = None
        self._built: CardView | None = None  # what the content was last built from
        #: The scroll position to bring back after a rebuild, and the rebuilds so far.
        self._restore: tuple[float, bool] | None = None
        self._rebuilds = 0
        #: The record's history in one line (None: history off, or not read yet).
        self.timeline: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield VerticalScroll(id="detail")
        yield KeysFooter()

    def on_mount(self) -> None:
        scroll = self.query_one("#detail", VerticalScroll)
        # Anchored but released: the reader starts at the top; once at the end (End, or
        # scrolled down to it) the end sticks while a rebuild's contents are laid out and
        # grow, until the reader scrolls up (Textual releases the anchor then). The
        # restore after a rebuild alone lost the race with a late layout pass (ended 3
        # lines short of a grown end, 1 run in 3 under load).
        scroll.anchor()
        scroll.release_anchor()
        scroll.focus()

    class Update(Message):
        """A new view to show; handled in the screen's own queue, so rebuilds never overlap."""

        def __init__(self, view: CardView) -> None:
            super().__init__()
            self.view = view

    def show(self, view: CardView) -> None:
        """Show `view` (soon: the rebuild runs in the screen's message queue)."""
        self.post_message(self.Update(view))

    def show_timeline(self, timeline: str | None) -> None:
        """The record's history changed (read from the database off the event loop)."""
        if timeline == self.timeline:
            return
        self.timeline = timeline
        if self.view is not None:
            self._built = None  # rebuild: the History section may be new
            self.post_message(self.Update(self.view))

    async def on_record_detail_screen_update(self, message: Update) -> None:
        view = message.view
        before, self._built = self._built, view
        self.view = view
        if before is not None and (
            before.shown,
            before.stale_reason,
            before.status,
            before.propagation_pending,
        ) == (view.shown, view.stale_reason, view.status, view.propagation_pending):
            self.tick(view)
            return
        scroll = self.query_one("#detail", VerticalScroll)
        # Where the reader is: (y, at the end). A rebuild whose restore has not run yet
        # (two results in a row: the check, then its propagation) keeps the first target,
        # not the top the container shows meanwhile.
        if self._restore is None:
            y = scroll.scroll_y
            self._restore = (y, 0 < scroll.max_scroll_y <= y)
        await scroll.remove_children()
        await scroll.mount_all(detail_widgets(self.domain, view, self.timeline))
        # Only once the new contents are laid out: before, the container is as short as an
        # empty one and any position is clamped to the top (the jump issue 17 item 4 saw).
        self._rebuilds += 1
        self.call_after_refresh(self._restore_position, scroll, self._rebuilds)

    def _restore_position(self, scroll: VerticalScroll, rebuild: int) -> None:
        if self._restore is None or rebuild != self._rebuilds:
            return  # a later rebuild restores (its contents are what will be laid out)
        (y, at_end), self._restore = self._restore, None
        if at_end:
            scroll.scroll_end(animate=False, immediate=True)
        else:
            scroll.scroll_to(y=y, animate=False, immediate=True)

    def tick(self, view: CardView) -> None:
        """Redraw only "checked 12 s ago · next in 4 min"."""
        self.view = view
        for when in self.query("#when").results(Static):
            when.update(when_line(view))
