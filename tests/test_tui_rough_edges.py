"""The rough edges a new user hit (issue 17 item 7), each held by the real app or check.

The demo's domains over the loopback DNS server (tests/test_tui_app.py's fixtures).
"""

from __future__ import annotations

from pathlib import Path

from test_tui_app import (  # noqa: F401
    DEMO,
    card_text,
    config_path,
    demo_server,
    notes,
    screen_text,
    select,
    settled_app,
    wait_for,
)
from textual.widgets import Static

from esm_tui.checks.mx import MxHost, _summary
from esm_tui.demo.server import DnsServer
from esm_tui.model import Status
from esm_tui.widgets.dialogs import AddDomainScreen, ConfirmScreen


async def test_the_remove_dialog_shows_two_lines_and_enter_confirms(
    config_path: Path,  # noqa: F811
) -> None:
    async with settled_app(config_path, (100, 30)) as (app, pilot):
        await select(pilot, app, "shop.example")
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        question = str(app.screen.query_one("#question", Static).render())
        assert "\\x0a" not in question
        assert question.splitlines() == [
            f"Remove shop.example from {config_path}?",
            "Its checks stop now.",
        ]
        await pilot.press("enter")
        await wait_for(pilot, lambda: "shop.example" not in app.monitor.domains)


async def test_the_palette_offers_the_keys_once(config_path: Path) -> None:  # noqa: F811
    async with settled_app(config_path) as (app, _pilot):
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Show keys" in titles and "Keys" not in titles


async def test_a_config_that_cannot_be_written_is_not_called_missing(
    config_path: Path,  # noqa: F811
) -> None:
    # The save keeps the previous file as config.toml.bak: a directory there (with a file
    # in it) makes the save fail as it would on a full or read-only disk, even as root.
    backup = config_path.with_name("config.toml.bak")
    backup.mkdir()
    (backup / "keep").write_text("x")
    async with settled_app(config_path) as (app, pilot):
        await pilot.press("a")
        assert isinstance(app.screen, AddDomainScreen)
        await pilot.press(*"new.example", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, AddDomainScreen))
        await wait_for(pilot, lambda: any("Added new.example" in n for n in notes(app)))
        said = " ".join(notes(app))
        assert "Could not add new.example" in said  # the reason, first
        assert "no config file" not in said
        assert "Added new.example for this session only (the file was not changed)" in said
        assert "new.example" not in config_path.read_text()


def test_the_mx_summary_says_how_many_hosts_it_does_not_name() -> None:
    hosts = [MxHost(10, f"mx{i}.example.", ("192.0.2.1",), True, None, ()) for i in (1, 2, 3)]
    assert _summary(hosts, False, Status.OK) == "3 MX hosts (mx1.example. +2), all resolve"
    assert _summary(hosts[:1], False, Status.OK) == "1 MX host (mx1.example.), all resolve"


async def test_the_propagation_line_states_the_fix_is_not_in_the_zone_yet(
    config_path: Path,  # noqa: F811
    demo_server: DnsServer,  # noqa: F811
) -> None:
    """broken.example has no DMARC record: before the admin changed anything, the card must
    not read as if a change had failed."""
    async with settled_app(config_path, (100, 40)) as (app, pilot):
        await select(pilot, app, "broken.example")
        await wait_for(pilot, lambda: "not in the zone yet" in screen_text(app), "the card")
        assert "not published on the" not in screen_text(app)


async def test_an_optional_record_nobody_expects_is_not_said_to_be_on_its_way(
    config_path: Path,  # noqa: F811
    demo_server: DnsServer,  # noqa: F811
) -> None:
    """good.example publishes no MTA-STS record and none is expected: its grey card must not
    say "not in the zone yet" (a change on its way), while a missing DMARC record does."""
    async with settled_app(config_path, (120, 40)) as (app, pilot):
        await select(pilot, app, "good.example")
        await wait_for(
            pilot,
            lambda: (
                app.monitor.view("good.example", "mta_sts").shown is not None
                and app.monitor.view("good.example", "mta_sts").shown.propagation is not None
            ),
            "the MTA-STS card's propagation",
        )
        await pilot.pause()
        assert app.monitor.view("good.example", "mta_sts").status == Status.NONE
        assert "not in the zone yet" not in card_text(app, "mta_sts")
        assert "no MTA-STS record (optional)" in card_text(app, "mta_sts")


async def test_the_footer_keeps_quit_at_80_columns_and_dialogs_show_their_own_keys(
    config_path: Path,  # noqa: F811
) -> None:
    async with settled_app(config_path, (80, 24)) as (app, pilot):

        def footer() -> str:
            return screen_text(app).splitlines()[-1]

        await select(pilot, app, "broken.example")
        app.card_grid.card("spf").focus()
        await pilot.pause()
        assert "q Quit" in footer()  # a focused card's keys fit, quit included
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the dialog")
        await pilot.pause()
        assert "y Yes" in footer() and "n No" in footer()
        assert "Recheck" not in footer() and "Detail" not in footer()
        await pilot.press("n")
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AddDomainScreen), "the dialog")
        await pilot.pause()
        assert "esc Cancel" in footer() and "Recheck" not in footer()


async def test_the_exported_svg_keeps_the_spaces_between_words(tmp_path: Path) -> None:
    """An SVG renderer drops the leading spaces of a <text> element: the empty dashboard's
    words after a highlighted key must not start with one ("Press ato add one")."""
    import re

    from esm_tui.app import EsmApp
    from esm_tui.config import Config, Settings

    app = EsmApp(Config(path=None, settings=Settings(history=False)), watch_config=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        svg = app.export_screenshot()
    spans = re.findall(r"<text [^>]*>([^<]*)</text>", svg)
    message = [s for s in spans if "add&#160;one" in s or "see&#160;a&#160;demo" in s]
    assert len(message) == 2
    assert all(s.startswith("to&#160;") for s in message)  # not "&#160;to": kept when drawn
