"""The dashboard at scale: a check redraws its own sidebar row, not every row; cards that
read the same are not redrawn; startup and shutdown races do not kill the app."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.app import App, ComposeResult

from esm_tui.app import DomainChecked, EsmApp
from esm_tui.config import Config, DomainConfig, Settings
from esm_tui.model import DomainReport, DomainSettings, Status
from esm_tui.monitor import CardView
from esm_tui.widgets.card_grid import CardGrid, _reads_the_same
from esm_tui.widgets.domain_list import DomainList, DomainRow


class CountingList(DomainList):
    """Counts the prompts replaced (each one clears the list's render caches)."""

    def __init__(self) -> None:
        super().__init__(id="domains")
        self.replaced: list[str] = []

    def replace_option_prompt(self, option_id, prompt):  # type: ignore[no-untyped-def]
        self.replaced.append(option_id)
        return super().replace_option_prompt(option_id, prompt)


class ListApp(App[None]):
    def compose(self) -> ComposeResult:
        self.domains = CountingList()
        yield self.domains


def prompt_text(widget: DomainList, name: str) -> str:
    return str(widget.get_option(name).prompt)


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
