"""The cards of the selected domain, plus a summary tile, in a 2-column grid.

Arrow keys move between the cards (the grid reads like the screen: left/right, up/down).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from esm_tui.model import CHECK_NAMES, Status
from esm_tui.monitor import CardView, timing
from esm_tui.text import display_safe
from esm_tui.widgets.record_card import RecordCard, short_timing
from esm_tui.widgets.status import ALL_CLASSES, badge, css_class

COLUMNS = 2


class DomainSummary(Widget):
    """The sixth tile: the domain, its overall status, counts and the keys that act on it."""

    domain: reactive[str | None] = reactive(None)
    """The selected domain (ASCII, from the config or the command line)."""

    status: reactive[Status | None] = reactive(None)
    """Its overall status; None before the first check."""

    counts: reactive[str] = reactive("")
    """"1 fail · 2 warn" for the five records."""

    watch: reactive[str | None] = reactive(None)
    """`watching · 42 min left` while the domain is in watch mode."""

    host: reactive[str | None] = reactive(None)
    """The zone's DNS host (`OVHcloud`, `other DNS host`, `unknown`), on the bottom border."""

    def watch_host(self, host: str | None) -> None:
        self.border_subtitle = Content(display_safe(f"DNS: {host}")) if host else None

    def watch_status(self, status: Status | None) -> None:
        self.remove_class(*ALL_CLASSES.split())
        self.add_class(css_class(status))

    def watch_domain(self, domain: str | None) -> None:
        self.border_title = Content(display_safe(domain)) if domain else None

    def render(self) -> Content:
        width = self.content_size.width
        if self.domain is None:
            return Content("")
        lines = [
            Content.assemble(badge(self.status, gap=1), "overall"),
            Content.styled(self.counts, "$text-muted"),
            # The spaces end the key's span (see `badge`): "enter detail · c copy".
            Content.assemble(("enter ", "bold"), "detail · ", ("c ", "bold"), "copy"),
            Content.assemble(("r ", "bold"), "recheck · ", ("R ", "bold"), "all"),
            Content.assemble(("w ", "bold"), _watch_hint(self.watch)),
        ]
        return Content("\n").join(line.truncate(width, ellipsis=True) for line in lines)


class CardGrid(Grid):
    """Five RecordCards (MX, SPF, DKIM, DMARC, BIMI) and the DomainSummary tile."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move(-1)", "Left", show=False),
        Binding("right", "move(1)", "Right", show=False),
        Binding("up", "move(-2)", "Up", show=False),
        Binding("down", "move(2)", "Down", show=False),
    ]

    def compose(self) -> ComposeResult:
        for check in CHECK_NAMES:
            yield RecordCard(check)
        yield DomainSummary(id="domain-summary")

    @property
    def cards(self) -> list[RecordCard]:
        return list(self.query(RecordCard))

    def card(self, check: str) -> RecordCard:
        return self.query_one(f"#card-{check}", RecordCard)

    def show(
        self,
        domain: str | None,
        views: Mapping[str, CardView],
        status: Status | None,
        watch: str | None = None,
        host: str | None = None,
    ) -> None:
        """Give every card its view, and the summary tile the domain.

        Before the grid's children are mounted (a tick can come first with many domains)
        there is nothing to give them to: the next call does it. A card whose view only
        moved in time but reads the same ("checked 2 min ago") is not redrawn."""
        summaries = self.query(DomainSummary)
        if not summaries:
            return
        for card in self.cards:
            view = views.get(card.check)
            if not _reads_the_same(card.view, view):
                card.view = view
        summary = summaries.first()
        summary.domain = domain
        summary.status = status
        summary.counts = _counts(views)
        summary.watch = watch
        summary.host = host

    def tick(self) -> None:
        """Redraw the relative times ("checked 12 s ago") without new data."""
        for card in self.cards:
            card.refresh()

    def action_move(self, step: int) -> None:
        cards = self.cards
        focused = self.screen.focused
        if focused not in cards:
            return
        index = cards.index(focused) + step  # type: ignore[arg-type]
        if abs(step) == 1 and index // COLUMNS != cards.index(focused) // COLUMNS:  # type: ignore[arg-type]
            return  # left/right stay on the row
        if 0 <= index < len(cards):
            cards[index].focus()


def _reads_the_same(old: CardView | None, new: CardView | None) -> bool:
    """The two views draw the same card: equal but for the seconds, which read the same."""
    if old is None or new is None:
        return old is new
    if old == new:
        return True
    same_data = replace(old, checked_ago=new.checked_ago, next_in=new.next_in) == new
    return same_data and timing(old) == timing(new) and short_timing(old) == short_timing(new)


def _counts(views: Mapping[str, CardView]) -> str:
    """`2 fail · 2 ok · 1 stale` (a stale card counts with the result it shows)."""
    statuses = [v.status for v in views.values() if v.status is not None]
    if not statuses:
        return "not checked yet"
    parts = [
        f"{statuses.count(s)} {'unknown' if s == Status.UNKNOWN else s.word.lower()}"
        for s in (Status.FAIL, Status.UNKNOWN, Status.WARN, Status.OK)
        if statuses.count(s)
    ]
    stale = sum(1 for v in views.values() if v.stale_reason)
    if stale:
        parts.append(f"{stale} stale")
    return " · ".join(parts)


def _watch_hint(watch: str | None) -> str:
    """`watch`, or `unwatch · 42 min left` while watching (what `w` does now)."""
    if watch is None:
        return "watch"
    return "unwatch · " + watch.removeprefix("watching · ")
