"""Issue 5 in the dashboard: the propagation line on a card, the server × answer matrix and
the timeline in the detail, history rows written by the app, and watch mode (`w`).

Over loopback sockets: two authoritative servers (127.0.0.2 and 127.0.0.3, one port, as
the `port` setting is one number) and a "caching resolver" on 127.0.0.1 serving stale data,
as in test_propagation.py; the demo zones for history and watch mode.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_propagation import DMARC, NEW_SPF, OLD_SPF, Lab, running_lab
from test_propagation import zone as base_zone
from test_tui_app import card_text, notes, open_card, screen_text, select, sidebar, wait_for
from textual.pilot import Pilot

from esm_tui.app import EsmApp
from esm_tui.config import load_config
from esm_tui.demo.records import Records
from esm_tui.demo.scenario import DELAYED_NAME, DELAYED_VALUE, demo_records
from esm_tui.demo.server import DnsServer
from esm_tui.history import History, default_path
from esm_tui.model import PropagationState, Status
from esm_tui.watch import Watches
from esm_tui.widgets.record_detail import RecordDetailScreen


def zone(serial: int) -> Records:
    """example.com as test_propagation.py's servers hold it, with an MX and a DMARC record."""
    records = base_zone(serial)
    records.add("example.com.", "MX", "10 mx.example.com.")
    records.add_txt("_dmarc.example.com.", DMARC)
    return records


@pytest.fixture
def lab() -> Iterator[Lab]:
    with running_lab(zone(2), zone(2), zone(1)) as current:
        yield current


def write_config(
    path: Path, resolver: DnsServer, port: int, domains: list[str], *, history: bool = True
) -> Path:
    body = "".join(f'\n[[domains]]\nname = "{d}"\n' for d in domains)
    path.write_text(
        "[settings]\ninterval = 300\ntimeout = 2.0\nretries = 0\n"
        f'nameservers = ["{resolver.address}"]\nport = {port}\n'
        f"history = {'true' if history else 'false'}\n\n"
        '[relay]\nmx = ["*.esm-relay.example"]\nspf_include = ["_spf.esm-relay.example"]\n'
        'dkim_selectors = ["esm"]\n' + body,
        encoding="utf-8",
    )
    return path


def done(app: EsmApp) -> bool:
    """Every domain checked, its propagation in, nothing running."""
    return all(
        app.monitor.report(d) is not None
        and not app.monitor.is_checking(d)
        and not app.monitor.view(d, "mx").propagation_pending
        for d in app.monitor.domains
    )


async def settled(pilot: Pilot, app: EsmApp) -> None:
    await wait_for(pilot, lambda: done(app), "checks and propagation")
    await pilot.pause()


# -- the propagation line and the matrix -------------------------------------------------------


async def test_card_shows_propagating_with_the_resolver_cache_expiry(
    lab: Lab, tmp_path: Path
) -> None:
    lab.primary.add_txt("example.com.", NEW_SPF)
    lab.secondary.add_txt("example.com.", NEW_SPF)
    lab.cache.add_txt("example.com.", OLD_SPF, ttl=1234)
    path = write_config(tmp_path / "c.toml", lab.resolver, lab.ns1.port, ["example.com"])
    app = EsmApp(load_config(path))
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot, app)
        await select(pilot, app, "example.com")
        await pilot.pause()
        p = app.monitor.view("example.com", "spf").shown.propagation  # type: ignore[union-attr]
        assert p is not None and p.state is PropagationState.PROPAGATING
        text = card_text(app, "spf").replace("\n", " ")  # the line wraps on the card
        assert "published on 2/2 servers · cached at your resolver until" in text
        assert p.eta is not None and p.eta.astimezone().strftime("%H:%M") in text
        # The other records agree everywhere.
        assert "published on 2/2 servers" in card_text(app, "dmarc")
        assert "cached" not in card_text(app, "dmarc")


async def test_detail_shows_the_matrix_with_the_lagging_secondary_marked(
    lab: Lab, tmp_path: Path
) -> None:
    lab.primary.add_zone(
        "example.com.", "ns1.example.com. hostmaster.example.com. 2026112702 3600 600 86400 300"
    )
    lab.secondary.add_zone(
        "example.com.", "ns1.example.com. hostmaster.example.com. 2026112601 3600 600 86400 300"
    )
    lab.primary.add_txt("example.com.", NEW_SPF)
    lab.secondary.add_txt("example.com.", OLD_SPF)
    lab.cache.add_txt("example.com.", NEW_SPF)
    path = write_config(tmp_path / "c.toml", lab.resolver, lab.ns1.port, ["example.com"])
    app = EsmApp(load_config(path))
    async with app.run_test(size=(140, 60)) as pilot:
        await settled(pilot, app)
        assert "ns2.example.com. (serial 2026112601) behind" in card_text(app, "spf")
        await open_card(pilot, app, "example.com", "spf")
        await wait_for(pilot, lambda: "SOA serial" in screen_text(app), "the matrix")
        text = screen_text(app)
        port = lab.ns1.port
        lines = text.splitlines()
        # Each server's name on its row's first line, its address on the next (a host
        # name is never folded inside).
        at = next(
            i for i, line in enumerate(lines) if "ns1.example.com." in line and "SOA" not in line
        )
        ns1 = lines[at]
        assert f"127.0.0.2:{port}" in lines[at + 1]
        ns2 = next(line for line in lines if "▲ ns2.example.com." in line)
        mine = next(line for line in lines if "(your resolver)" in line)
        assert "2026112702" in ns1 and NEW_SPF in ns1 and "behind" not in ns1
        assert "2026112601" in ns2 and "behind" in ns2 and OLD_SPF in ns2
        assert lab.resolver.address in mine and "same as ns1.example.com." in mine  # not again
        assert "inconsistent: 1/2 servers current" in text


async def test_without_an_answering_authoritative_server_the_card_says_so(
    lab: Lab, tmp_path: Path
) -> None:
    for records in (lab.primary, lab.secondary):
        records.set_behaviour("example.com.", "servfail")
    lab.cache.add_txt("example.com.", NEW_SPF)
    path = write_config(tmp_path / "c.toml", lab.resolver, lab.ns1.port, ["example.com"])
    app = EsmApp(load_config(path))
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot, app)
        await select(pilot, app, "example.com")
        await pilot.pause()
        assert "propagation unknown" in card_text(app, "spf")
        assert app.monitor.view("example.com", "spf").status is not None  # the check stands


# -- history --------------------------------------------------------------------------------


@pytest.fixture
def demo_server() -> Iterator[DnsServer]:
    with DnsServer(demo_records()) as server:
        yield server


async def test_history_rows_and_the_timeline_after_fail_to_ok(
    demo_server: DnsServer, tmp_path: Path
) -> None:
    path = write_config(tmp_path / "c.toml", demo_server, demo_server.port, ["late.example"])
    app = EsmApp(load_config(path))
    async with app.run_test(size=(120, 60)) as pilot:
        await settled(pilot, app)
        assert app.monitor.view("late.example", "dmarc").status == Status.FAIL
        demo_server.records.replace(DELAYED_NAME, "TXT", f'"{DELAYED_VALUE}"')
        await select(pilot, app, "late.example")
        started = app.monitor.checks_started
        await pilot.press("r")
        await wait_for(pilot, lambda: app.monitor.checks_started > started)
        await settled(pilot, app)
        assert app.monitor.view("late.example", "dmarc").status == Status.OK
        screen = await open_card(pilot, app, "late.example", "dmarc")
        await wait_for(pilot, lambda: screen.timeline is not None, "the timeline")
        await wait_for(pilot, lambda: "propagated in" in screen_text(app), "timeline shown")
        assert "FAIL since " in screen.timeline and " → OK at " in screen.timeline  # type: ignore[operator]
        assert "published on 1/1 servers" in screen_text(app)
    # The rows are in the database under ESM_TUI_DATA_DIR, and survive the app.
    history = History.open(default_path(), create=False)
    assert isinstance(history, History)
    timeline = history.timeline("late.example")
    assert not isinstance(timeline, Exception) and not hasattr(timeline, "message")
    assert [t.status for t in timeline["dmarc"]] == [Status.FAIL, Status.OK]  # type: ignore[index]
    assert len(timeline["mx"]) == 1  # type: ignore[index]  # an identical repeat is no row
    history.close()


async def test_an_unusable_history_is_told_once_and_the_dashboard_goes_on(
    demo_server: DnsServer, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    path = write_config(tmp_path / "c.toml", demo_server, demo_server.port, ["good.example"])
    app = EsmApp(load_config(path), history_path=blocker / "history.sqlite3")
    async with app.run_test() as pilot:
        await settled(pilot, app)
        started = app.monitor.checks_started
        await pilot.press("R")
        await wait_for(pilot, lambda: app.monitor.checks_started > started)
        await settled(pilot, app)
        told = [n for n in notes(app) if n.startswith("History is off")]
        assert len(told) == 1
        assert app.monitor.domain_status("good.example") == Status.OK


async def test_a_corrupt_history_file_is_told_and_skipped(
    demo_server: DnsServer, tmp_path: Path
) -> None:
    bad = tmp_path / "history.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    path = write_config(tmp_path / "c.toml", demo_server, demo_server.port, ["good.example"])
    app = EsmApp(load_config(path), history_path=bad)
    async with app.run_test() as pilot:
        await settled(pilot, app)
        assert sum(n.startswith("History is off") for n in notes(app)) == 1
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(bad).execute("SELECT * FROM transitions").fetchall()


# -- watch mode -----------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def watch_app(path: Path) -> tuple[EsmApp, Clock]:
    clock = Clock()
    app = EsmApp(load_config(path), clock=clock, watches=Watches(clock, interval=15, limit=3600))
    return app, clock


async def tick(pilot: Pilot, app: EsmApp, clock: Clock, seconds: float) -> None:
    clock.now += seconds
    app._tick()
    await pilot.pause()


async def test_watch_rechecks_every_15_s_and_stops_when_all_ok(
    demo_server: DnsServer, tmp_path: Path
) -> None:
    path = write_config(
        tmp_path / "c.toml", demo_server, demo_server.port, ["good.example", "late.example"],
        history=False,
    )  # fmt: skip
    app, clock = watch_app(path)
    async with app.run_test() as pilot:
        await settled(pilot, app)
        await select(pilot, app, "late.example")
        started = app.monitor.checks_started
        await pilot.press("w")
        assert app.watches.is_watching("late.example")
        await wait_for(pilot, lambda: app.monitor.checks_started == started + 1, "first recheck")
        await settled(pilot, app)
        assert any("◉" in line and "late.example" in line for line in sidebar(app))
        assert any("watching · 60 min left" in line for line in sidebar(app))
        await tick(pilot, app, clock, 10)  # not yet due
        await settled(pilot, app)
        assert app.monitor.checks_started == started + 1
        await tick(pilot, app, clock, 5)  # 15 s after the first recheck
        await wait_for(pilot, lambda: app.monitor.checks_started == started + 2, "second")
        await settled(pilot, app)
        assert app.watches.is_watching("late.example")  # DMARC still missing
        assert any("watching · 60 min left" in line for line in sidebar(app))
        await tick(pilot, app, clock, 15 * 60)
        assert any("watching · 45 min left" in line for line in sidebar(app))
        await wait_for(pilot, lambda: app.monitor.checks_started == started + 3, "third")
        await settled(pilot, app)
        demo_server.records.replace(DELAYED_NAME, "TXT", f'"{DELAYED_VALUE}"')
        await tick(pilot, app, clock, 15)
        await wait_for(pilot, lambda: not app.watches.is_watching("late.example"), "stop")
        assert app.monitor.checks_started == started + 4
        assert any("every record is OK. Stopped watching" in n for n in notes(app))
        assert not any("◉" in line for line in sidebar(app))
        await tick(pilot, app, clock, 60)  # no more rechecks
        await settled(pilot, app)
        assert app.monitor.checks_started == started + 4


async def test_watch_stops_after_the_hour_and_w_toggles_it_off(
    demo_server: DnsServer, tmp_path: Path
) -> None:
    path = write_config(
        tmp_path / "c.toml", demo_server, demo_server.port, ["broken.example"], history=False
    )
    app, clock = watch_app(path)
    async with app.run_test() as pilot:
        await settled(pilot, app)
        await select(pilot, app, "broken.example")
        await pilot.press("w")
        assert app.watches.is_watching("broken.example")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Stop watching domain" in titles and "Watch domain" not in titles
        await pilot.press("w")
        assert not app.watches.is_watching("broken.example")
        assert any(n == "Stopped watching broken.example." for n in notes(app))
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Watch domain" in titles
        await settled(pilot, app)
        await pilot.press("w")
        await settled(pilot, app)
        await tick(pilot, app, clock, 3599)
        assert app.watches.is_watching("broken.example")
        await tick(pilot, app, clock, 1)
        assert not app.watches.is_watching("broken.example")
        assert any("not every record is OK after 60 min" in n for n in notes(app))


async def test_watch_is_greyed_out_without_a_domain(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[settings]\nhistory = false\n", encoding="utf-8")
    app = EsmApp(load_config(path), watch_config=False)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.check_action("toggle_watch", ()) is None
        assert "Watch domain" not in [c.title for c in app.get_system_commands(app.screen)]
        await pilot.press("w")
        assert not app.watches.domains


async def test_watch_works_from_the_detail_screen(demo_server: DnsServer, tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "c.toml", demo_server, demo_server.port, ["broken.example"], history=False
    )
    app, _clock = watch_app(path)
    async with app.run_test() as pilot:
        await settled(pilot, app)
        await open_card(pilot, app, "broken.example", "spf")
        assert isinstance(app.screen, RecordDetailScreen)
        await pilot.press("w")
        assert app.watches.is_watching("broken.example")
