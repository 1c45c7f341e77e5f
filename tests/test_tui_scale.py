"""The dashboard at scale: a check redraws its own sidebar row, not every row; cards that
read the same are not redrawn; startup and shutdown races do not kill the app."""

from __future__ import annotations

import asyncio
import gc
import io
import weakref
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pytest
from rich.console import Console
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Header
from textual.widgets._footer import FooterKey
from waiting import until

from esm_tui.app import EsmApp
from esm_tui.app.check_runner import DomainChecked
from esm_tui.config import Config, DomainConfig, Settings
from esm_tui.model import CHECK_NAMES, DomainReport, DomainSettings, RecordResult, Status
from esm_tui.monitor import CardView
from esm_tui.widgets.card_grid import CardGrid, _reads_the_same
from esm_tui.widgets.domain_list import DomainList, DomainRow
from esm_tui.widgets.keys_footer import KeysFooter
from esm_tui.widgets.record_detail import RecordDetailScreen
from esm_tui.widgets.watchers import is_live


class CountingList(DomainList):
    """Counts the rows redrawn, and the prompts replaced the slow way (each of those
    clears the list's caches of every row)."""

    def __init__(self) -> None:
        super().__init__(id="domains")
        self.replaced: list[str] = []
        self.slow: list[str] = []

    def _replace_line(self, row: DomainRow) -> None:
        self.replaced.append(row.name)
        super()._replace_line(row)

    def replace_option_prompt(self, option_id, prompt):  # type: ignore[no-untyped-def]
        self.slow.append(option_id)
        return super().replace_option_prompt(option_id, prompt)


class ListApp(App[None]):
    def compose(self) -> ComposeResult:
        self.domains = CountingList()
        yield self.domains


def prompt_text(widget: DomainList, name: str) -> str:
    return widget.prompt_of(name)


NAMES = [f"d{i}.example" for i in range(50)]


async def test_update_row_redraws_only_that_row_and_only_on_change() -> None:
    app = ListApp()
    async with app.run_test() as pilot:
        widget = app.domains
        widget.show([DomainRow(n, None) for n in NAMES])
        widget.select("d3.example")
        await pilot.pause()
        widget.replaced.clear()

        assert widget.update_row(DomainRow("d7.example", None)) is False  # unchanged
        assert widget.update_row(DomainRow("d7.example", None, checking=True)) is True
        assert widget.update_row(DomainRow("d7.example", Status.FAIL)) is True
        assert widget.update_row(DomainRow("unknown.example", Status.OK)) is False
        assert widget.replaced == ["d7.example", "d7.example"]
        assert "FAIL" in prompt_text(widget, "d7.example")
        assert "FAIL" not in prompt_text(widget, "d8.example")
        assert widget.selected == "d3.example"
        assert widget.visible == NAMES


async def test_update_row_of_a_filtered_out_domain_shows_once_the_filter_clears() -> None:
    app = ListApp()
    async with app.run_test() as pilot:
        widget = app.domains
        widget.show([DomainRow(n, Status.OK) for n in NAMES])
        widget.filter_text = "d1"
        await pilot.pause()
        widget.select("d12.example")
        assert "d2.example" not in widget.visible
        widget.replaced.clear()

        assert widget.update_row(DomainRow("d2.example", Status.WARN)) is False
        assert widget.replaced == []
        widget.filter_text = ""
        await pilot.pause()
        assert "WARN" in prompt_text(widget, "d2.example")
        assert widget.selected == "d12.example"


def list_lines(app: App[None]) -> list[str]:
    """The list as painted: one string per screen line."""
    update = app.screen._compositor.render_update(full=True)
    console = Console(width=app.size.width, file=io.StringIO(), color_system=None, record=True)
    console.print(update)
    return console.export_text().splitlines()


async def test_a_row_update_repaints_that_row_without_measuring_every_row_again() -> None:
    app = ListApp()
    async with app.run_test(size=(40, 20)) as pilot:
        widget = app.domains
        widget.show([DomainRow(n, None) for n in NAMES])
        await pilot.pause()
        heights = dict(widget._line_cache.heights)
        assert len(heights) == len(NAMES)

        assert widget.update_row(DomainRow("d4.example", Status.FAIL)) is True
        await pilot.pause()
        assert widget.slow == []  # same height: the fast path
        assert widget._line_cache.heights == heights  # nothing was measured again
        painted = [line for line in list_lines(app) if "example" in line]
        assert any("FAIL" in line and "d4.example" in line for line in painted)
        assert not any("FAIL" in line and "d5.example" in line for line in painted)

        # A watch line makes the row two lines high: every row below moves down.
        assert widget.update_row(DomainRow("d4.example", Status.FAIL, watch="watching")) is True
        await pilot.pause()
        assert widget.slow == ["d4.example"]
        lines = list_lines(app)
        row = next(i for i, line in enumerate(lines) if "d4.example" in line)
        assert "watching" in lines[row + 1]
        assert "d5.example" in lines[row + 2]


async def test_show_with_the_same_rows_replaces_no_prompt() -> None:
    app = ListApp()
    async with app.run_test() as pilot:
        widget = app.domains
        rows = [DomainRow(n, Status.OK) for n in NAMES]
        widget.show(rows)
        await pilot.pause()
        widget.replaced.clear()
        rows[4] = DomainRow(NAMES[4], Status.FAIL)
        widget.show(rows)
        assert widget.replaced == [NAMES[4]]


def test_card_grid_show_before_its_cards_are_mounted() -> None:
    grid = CardGrid()  # never mounted: no DomainSummary to find
    grid.show("a.example", {}, None)


def view(checked_ago: float | None, next_in: float | None = 100.0) -> CardView:
    return CardView("mx", None, None, None, False, checked_ago, next_in)


def test_a_card_that_reads_the_same_is_not_redrawn() -> None:
    assert _reads_the_same(view(125.0), view(126.0))  # "checked 2 min ago"
    assert not _reads_the_same(view(5.0), view(6.0))  # "5 s" → "6 s"
    assert not _reads_the_same(view(None), view(1.0))
    assert not _reads_the_same(None, view(1.0))
    assert _reads_the_same(None, None)


async def test_no_crash_on_a_result_after_shutdown(tmp_path: Path) -> None:
    async def checker(settings: DomainSettings, fresh: bool) -> DomainReport:
        await asyncio.Event().wait()  # never finishes: the test posts the result
        raise AssertionError

    config = Config(
        path=None,
        settings=Settings(history=False),
        domains=(DomainConfig(name="a.example"),),
    )
    app = EsmApp(config, checker=checker, watch_config=False)
    app._tick()  # before any screen: nothing to draw, no error
    assert app.base_screen is None
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.base_screen is app.screen
    # What a worker finishing during shutdown hands over: must not raise.
    app.on_domain_checked(DomainChecked("a.example", []))
    app._tick()
    assert app.base_screen is None


class FooterApp(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "x", "X"),
        Binding("y", "y", "Y"),
        Binding("z", "z", "Z"),
    ]
    x_on = True

    def compose(self) -> ComposeResult:
        yield KeysFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.x_on if action == "x" else True


@pytest.mark.slow
async def test_the_footer_does_not_keep_its_old_keys_alive() -> None:
    app = FooterApp()
    async with app.run_test() as pilot:

        async def toggle(times: int) -> int:
            for _ in range(times):
                app.x_on = not app.x_on
                app.refresh_bindings()
                await pilot.pause()
            await pilot.pause()
            gc.collect()
            return sum(isinstance(o, FooterKey) for o in gc.get_objects())

        first = await toggle(20)
        later = await toggle(60)
        footer = app.query_one(KeysFooter)
        shown = len(footer.query(FooterKey))
        assert shown >= 2
        # Textual's own Footer: +1.5 keys alive per rebuild (90 more after 60 rebuilds).
        assert later <= first + shown
        watchers = getattr(footer, "__watchers", {}).get("compact", [])
        assert len(watchers) <= shown  # one per key on screen, none for the old keys


@pytest.mark.slow
async def test_closed_detail_screens_do_not_stay_alive() -> None:
    """Each detail screen has a Header that watches the app's title; Textual drops such
    watchers only when the title changes, which kept every closed detail screen's Header
    (and all it drew) alive."""

    async def checker(settings: DomainSettings, fresh: bool) -> DomainReport:
        result = RecordResult("spf", Status.OK, "fine", f"{settings.name}.", "TXT")
        checks = {c: replace(result, check=c) for c in CHECK_NAMES}
        return DomainReport(settings.name, checks, datetime.now(UTC))

    config = Config(
        path=None,
        settings=Settings(history=False),
        domains=(DomainConfig(name="a.example"),),
    )
    # Headers of apps of earlier tests that the collector has not freed yet (in the whole
    # suite one sometimes survives a while): not this test's business.
    gc.collect()
    earlier = weakref.WeakSet(
        o for o in gc.get_objects() if isinstance(o, (Header, RecordDetailScreen))
    )
    app = EsmApp(config, checker=checker, watch_config=False)
    async with app.run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: app.monitor.report("a.example") is not None, "the check")
        app.card_grid.card("spf").focus()
        closed: list[weakref.ref[Header]] = []
        for _ in range(8):
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, RecordDetailScreen)
            closed.append(weakref.ref(app.screen.query_one(Header)))
            await pilot.press("escape")
            await pilot.pause()
        # A popped screen is removed in the background: its Header is closing only some
        # turns later (on a loaded machine, after the tick below had already run).
        await until(
            pilot,
            lambda: all(h() is None or not is_live(h()) for h in closed),
            "the detail screens to close",
        )
        app._tick()  # the once-a-second tick drops the watchers of closed screens
        await pilot.pause()
        gc.collect()
        ours = [o for o in gc.get_objects() if isinstance(o, Header) and o not in earlier]
        assert len(ours) == 1  # the dashboard's own
        screens = [o for o in gc.get_objects() if isinstance(o, RecordDetailScreen)]
        assert not [o for o in screens if o not in earlier]


async def test_a_row_changed_off_screen_shows_its_change_when_scrolled_to() -> None:
    app = ListApp()
    async with app.run_test(size=(40, 20)) as pilot:
        widget = app.domains
        widget.show([DomainRow(n, None) for n in NAMES])
        await pilot.pause()
        assert not any("d45.example" in line for line in list_lines(app))  # off screen
        assert widget.update_row(DomainRow("d45.example", Status.FAIL)) is True
        assert "d45.example" in widget._stale  # not built yet: nobody sees it
        widget.select("d45.example")
        await pilot.pause()
        painted = [line for line in list_lines(app) if "d45.example" in line]
        assert painted and "FAIL" in painted[0]
        assert "d45.example" not in widget._stale
        assert "FAIL" in widget.prompt_of("d45.example")
