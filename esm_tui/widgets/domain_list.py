"""The sidebar: every domain with its overall status, filterable and sortable.

Its header counts the domains by status; `/` filters by name or by a status word, `s`
(the app's key) cycles the sort, `j`/`k`/`g`/`G` move as in other terminal tools
(esm_tui/triage.py holds the rules).

Moving the highlight selects the domain whose cards are shown (as in k9s or lazygit, no
extra keypress); `enter` on a domain moves the focus into its cards.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.visual import Visual
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from esm_tui.model import Status
from esm_tui.text import display_safe
from esm_tui.triage import SORTS, counts_title, filtered, sorted_rows, status_filter
from esm_tui.widgets.status import badge


@dataclass(frozen=True)
class DomainRow:
    """One line of the sidebar."""

    name: str
    status: Status | None
    checking: bool = False
    #: `watching · 42 min left` while the domain is in watch mode (`w`).
    watch: str | None = None


#: Rendered rows kept (see DomainList.__init__): a tall terminal's rows, a few styles each.
RENDER_CACHE_ROWS = 512

#: After the domain's name: a check is running / the domain is watched.
CHECKING_MARK = "⟳"
WATCH_MARK = "◉"


def row_height(row: DomainRow) -> int:
    """The lines a row takes: its name, and its watch line if it has one."""
    return 1 if row.watch is None else 2


def row_prompt(row: DomainRow) -> Content:
    """`✗ FAIL broken.example`: the badge padded so the names line up; a watched domain
    gets a mark and a second line, `watching · 42 min left`."""
    marks = [mark for on, mark in ((row.watch, WATCH_MARK), (row.checking, CHECKING_MARK)) if on]
    # Spaces go at the end of a span, never at the start of the next (see `badge`).
    name = Content(display_safe(row.name) + (" " if marks else ""))
    line = Content.assemble(
        badge(row.status, width=6, gap=1), name, (" ".join(marks), "$text-accent")
    )
    if row.watch is None:
        return line
    return Content("\n").join([line, Content.assemble("  ", (row.watch, "$text-accent"))])


class DomainList(OptionList):
    """The domains, each with its overall status."""

    # Not a repaint of every visible row when the highlight moves: the two rows it moved
    # between are redrawn (see watch_highlighted).
    highlighted: reactive[int | None] = reactive(None, repaint=False)
    filter_text: reactive[str] = reactive("")
    """Only domains containing this text (case-insensitive), or of this status word, are listed."""
    sort_mode: reactive[str] = reactive("config")
    """One of triage.SORTS: as configured, by name, worst first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "first", "First", show=False),
        Binding("G", "last", "Last", show=False),
    ]

    class Selected(Message):
        """The highlighted domain changed (None: the list is empty)."""

        def __init__(self, domain: str | None) -> None:
            super().__init__()
            self.domain = domain

    class Entered(Message):
        """`enter` (or a click) on a domain: the user wants to work on its cards."""

        def __init__(self, domain: str) -> None:
            super().__init__()
            self.domain = domain

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # OptionList keeps the rendered lines of up to 2,048 (option, style) pairs: with
        # rows that change status every check, that filled up over minutes and held
        # ~10 MB (the soak's RSS growth). The rows on screen, in a few styles, fit here.
        self._option_render_cache = LRUCache(maxsize=RENDER_CACHE_ROWS)
        self._rows: list[DomainRow] = []
        self._index: dict[str, int] = {}
        #: The row each domain last showed, to redraw a line only when it changed.
        self._by_name: dict[str, DomainRow] = {}
        self._shown: list[str] = []
        self._visible_set: frozenset[str] = frozenset()
        self._positions: dict[str, int] = {}
        #: Rows whose prompt is out of date (they changed off screen; see _replace_line).
        self._stale: set[str] = set()
        self._selected: str | None = None
        self._counts: Counter[Status | None] = Counter()

    @property
    def selected(self) -> str | None:
        """The highlighted domain, if any is visible."""
        return self._selected

    @property
    def visible(self) -> list[str]:
        return list(self._shown)

    def position(self, name: str) -> int | None:
        """Where `name` is listed (None: filtered out or unknown), without a list copy."""
        return self._positions.get(name)

    def show(self, rows: Sequence[DomainRow]) -> None:
        """New statuses or a new set of domains; keeps the highlight where it was."""
        self._rows = list(rows)
        self._index = {r.name: i for i, r in enumerate(self._rows)}
        self._counts = Counter(r.status for r in self._rows)
        self._title()
        self._rebuild()

    def update_row(self, row: DomainRow) -> bool:
        """One domain's line changed (status, check running, watch): redraw only that line,
        and only if what it shows differs. Unknown domains are ignored (add them with
        `show`). Returns whether the line was redrawn.

        Per-check events call this instead of `show`: rebuilding every line on each start
        and finish of a check costs N×N per pass over N domains."""
        old = self._by_name.get(row.name)
        if old is None or old == row:
            return False
        self._by_name[row.name] = row
        self._rows[self._index[row.name]] = row
        if old.status != row.status:
            self._counts[old.status] -= 1
            self._counts[row.status] += 1
            self._title()
            if self.sort_mode == "worst" or status_filter(self.filter_text) is not None:
                self._rebuild()  # the row may move, come or go
                if row.name in self._visible_set:
                    self._replace_line(row)
                return True
        if row.name not in self._visible_set:
            return False
        self._replace_line(row)
        return True

    def _update_lines(self) -> None:
        """OptionList's line map, without measuring each prompt: a row is one line, two
        with its watch line (the list does not wrap: `text-wrap: nowrap` in app.tcss).
        Measuring 1,000 prompts took a quarter of a second at every rebuild."""
        if not self.scrollable_content_region:
            return
        cache = self._line_cache
        rows = self._by_name
        options = self.options
        for index in range(cache.lines[-1][0] + 1 if cache.lines else 0, len(options)):
            row = rows.get(options[index].id or "")
            height = row_height(row) if row is not None else 1
            cache.index_to_line[index] = len(cache.lines)
            cache.heights[index] = height
            cache.lines.extend((index, line) for line in range(height))
        width = self.scrollable_content_region.width - self._get_left_gutter_width()
        size = Size(width, len(cache.lines))
        if size != self.virtual_size:
            self.virtual_size = size
            self._scroll_update(size)

    def _refresh_option(self, index: int) -> None:
        """Redraw one option's lines (all of them if the line cache is being rebuilt)."""
        lines = self._line_cache
        line = lines.index_to_line.get(index)
        if line is None:
            self.refresh()
        else:
            self.refresh_lines(line, lines.heights.get(index, 1))

    def _replace_line(self, row: DomainRow) -> None:
        """`replace_option_prompt`, without its cost at scale.

        OptionList drops the heights of every option when one prompt changes and measures
        them all again on the next frame (profiled: ~20 ms per update at 1,000 domains,
        and a refresh of all domains updates each row two or three times). A row keeps
        its height unless its watch line comes or goes; then the full path runs. Uses
        OptionList internals of the pinned Textual (tests/test_tui_scale.py checks the
        rows on screen after updates).
        """
        index = self.get_option_index(row.name)
        option = self.get_option_at_index(index)
        height = row_height(row)
        lines = self._line_cache
        known = lines.heights.get(index)
        if known is not None and known != height:
            self.replace_option_prompt(row.name, row_prompt(row))
            return
        cache = self._option_render_cache
        for key in [key for key in cache.keys() if key[0] is option]:  # noqa: SIM118 - LRUCache
            cache.discard(key)
        line = lines.index_to_line.get(index)
        top = self.scroll_offset.y
        if line is not None and top - height < line < top + self.size.height:
            option._set_prompt(row_prompt(row))
            self._stale.discard(row.name)
            self.refresh_lines(line, height)
        else:
            # Off screen (or the lines are being measured again, and a full repaint is on
            # its way): the prompt is built when the row is drawn (`_get_visual`). At
            # startup every one of 1,000 rows changes while 40 are on screen.
            self._stale.add(row.name)

    def _get_visual(self, option: Option) -> Visual:
        name = option.id
        if name is not None and name in self._stale:
            self._stale.discard(name)
            row = self._by_name.get(name)
            if row is not None:
                option._set_prompt(row_prompt(row))
        return super()._get_visual(option)

    def prompt_of(self, name: str) -> str:
        """The row's text as it is (or will be) drawn."""
        option = self.get_option(name)
        self._get_visual(option)  # brings a stale prompt up to date
        return str(option.prompt)

    def watch_filter_text(self) -> None:
        self._rebuild()

    def watch_sort_mode(self) -> None:
        self.border_subtitle = "" if self.sort_mode == "config" else SORTS[self.sort_mode]
        self._rebuild()

    def on_mount(self) -> None:
        self._title()

    def _title(self) -> None:
        self.border_title = counts_title(self._counts, len(self._rows))

    def select(self, domain: str) -> None:
        if domain in self._shown:
            self.highlighted = self._shown.index(domain)

    def _rebuild(self) -> None:
        rows = sorted_rows(
            filtered(self._rows, self.filter_text, _name, _status), self.sort_mode, _name, _status
        )
        names = [r.name for r in rows]
        old = self._by_name
        self._by_name = {r.name: r for r in self._rows}
        if names == self._shown:
            for row in rows:
                if old.get(row.name) != row:
                    self._replace_line(row)
            return
        keep = self._selected
        self._shown = names
        self._stale.clear()  # every option is built anew below
        self._visible_set = frozenset(names)
        self._positions = {name: i for i, name in enumerate(names)}
        self.set_options(Option(row_prompt(r), id=r.name) for r in rows)
        if not names:
            self._announce(None)
            return
        self.highlighted = names.index(keep) if keep in names else 0

    def watch_highlighted(self, old: int | None, highlighted: int | None) -> None:
        super().watch_highlighted(highlighted)
        for index in {old, highlighted} - {None}:
            self._refresh_option(index)  # type: ignore[arg-type]
        if highlighted is None or not 0 <= highlighted < len(self._shown):
            return
        self._announce(self._shown[highlighted])

    def _announce(self, domain: str | None) -> None:
        if domain != self._selected:
            self._selected = domain
            self.post_message(self.Selected(domain))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Entered(event.option.id))


def _name(row: DomainRow) -> str:
    return row.name


def _status(row: DomainRow) -> Status | None:
    return row.status


class FilterInput(Input):
    """The filter box above the list: `escape` clears and hides it.

    Hidden, it is also disabled, so it never takes the focus (and the keys) unseen.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear", "Clear filter", id="filter.clear")
    ]

    class Cleared(Message):
        """The filter was cleared and closed."""

    def on_mount(self) -> None:
        self.disabled = not self.display

    def open(self) -> None:
        self.display = True
        self.disabled = False
        self.focus()

    def action_clear(self) -> None:
        self.value = ""
        self.display = False
        self.disabled = True
        self.post_message(self.Cleared())
