"""The detail screen keeps its scroll position when its record is rechecked (issue 17 item 4).

In watch mode the record is rechecked every 15 s — exactly while the admin reads the end
of a long SPF detail — and each result rebuilt the screen's contents, which put it back at
the top. The real app, the demo's loopback DNS server, two real rechecks.
"""

from __future__ import annotations

from pathlib import Path

from test_tui_app import config_path, demo_server, open_card, settled_app  # noqa: F401
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from waiting import until

from esm_tui.app import EsmApp
from esm_tui.demo.server import DnsServer


async def _recheck(pilot: Pilot, app: EsmApp, domain: str) -> None:
    started = app.monitor.checks_started
    await pilot.press("r")
    await until(
        pilot,
        lambda: app.monitor.checks_started > started and not app.monitor.is_checking(domain),
        "the recheck",
    )
    await pilot.pause()


async def test_a_detail_scrolled_to_its_end_stays_there_across_rechecks(
    config_path: Path,  # noqa: F811
    demo_server: DnsServer,  # noqa: F811
) -> None:
    async with settled_app(config_path, (80, 24)) as (app, pilot):
        screen = await open_card(pilot, app, "broken.example", "spf")
        scroll = screen.query_one("#detail", VerticalScroll)
        await until(pilot, lambda: scroll.max_scroll_y > 10, "a detail longer than the screen")
        scroll.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert scroll.scroll_y == scroll.max_scroll_y > 0
        for _ in range(2):
            await _recheck(pilot, app, "broken.example")
            assert app.screen is screen
            # At the end still (the end may move: the propagation that follows a check can
            # add a line, and its rebuild restores the position once laid out). A screen that
            # jumped to the top never gets there: the wait fails at its deadline.
            await until(
                pilot,
                lambda: scroll.scroll_y == scroll.max_scroll_y > 10,
                "the end of the detail",
                state=lambda: (scroll.scroll_y, scroll.max_scroll_y),
            )


async def test_a_detail_scrolled_halfway_stays_at_that_line(
    config_path: Path,  # noqa: F811
    demo_server: DnsServer,  # noqa: F811
) -> None:
    async with settled_app(config_path, (80, 24)) as (app, pilot):
        screen = await open_card(pilot, app, "broken.example", "spf")
        scroll = screen.query_one("#detail", VerticalScroll)
        await until(pilot, lambda: scroll.max_scroll_y > 10, "a detail longer than the screen")
        middle = scroll.max_scroll_y // 2
        scroll.scroll_to(y=middle, animate=False, immediate=True)
        await pilot.pause()
        await _recheck(pilot, app, "broken.example")
        await until(
            pilot,
            lambda: scroll.scroll_y == middle and not app.monitor.is_checking("broken.example"),
            "the same line",
            state=lambda: (scroll.scroll_y, middle),
        )
