"""The dashboard driven with Textual's pilot, against the loopback DNS server.

Every key and flow of SPEC §5: the cards fill in, r / R recheck (one check at a time),
enter / a click open the detail, c copies, a / d edit the config file, / filters, ? helps,
q quits; hostile TXT data is shown literally; a status change raises a notification.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import signal
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.worker import WorkerState
from waiting import until

from esm_tui.app import EsmApp, run_dashboard
from esm_tui.config import Config, DomainConfig, Relay, Settings, load_config
from esm_tui.demo.scenario import DELAYED_NAME, DELAYED_VALUE, demo_records
from esm_tui.demo.server import DnsServer
from esm_tui.model import CHECK_NAMES, DomainReport, DomainSettings, Status
from esm_tui.monitor import CardView
from esm_tui.text import display_safe
from esm_tui.widgets.dialogs import AddDomainScreen, ConfirmScreen, HelpScreen
from esm_tui.widgets.domain_list import DomainList
from esm_tui.widgets.record_card import RecordCard
from esm_tui.widgets.record_detail import RecordDetailScreen

DEMO = ["good.example", "shop.example", "broken.example", "late.example"]
HOSTILE_DMARC = (
    "v=DMARC1; p=reject; rua=mailto:[@click=app.quit]x@hostile.example; [/x] "
    "\x1b[2J\x1b]52;c;aGk=\x07 [b]bold[/b]"
)
HOSTILE_SPF = "v=spf1 include:[/x].example [@click=app.quit] \x1b[31m -all"


# -- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture
def demo_server() -> Iterator[DnsServer]:
    """The demo zones (without the delayed DMARC record) plus a hostile domain."""
    records = demo_records()
    records.add_zone("hostile.example.")
    records.add("hostile.example.", "MX", "10 mx1.esm-relay.example.")
    records.add_txt("hostile.example.", HOSTILE_SPF)
    records.add_txt("_dmarc.hostile.example.", HOSTILE_DMARC)
    with DnsServer(records) as server:
        yield server


def config_text(server: DnsServer, domains: list[str], *, timeout: float = 2.0) -> str:
    body = "".join(f'\n[[domains]]\nname = "{d}"\n' for d in domains)
    return (
        "# test config\n[settings]\ninterval = 300\n"
        f'timeout = {timeout}\nretries = 0\nnameservers = ["{server.address}"]\nhistory = false\n'
        f"port = {server.port}\n\n"
        '[relay]\nmx = ["*.esm-relay.example"]\nspf_include = ["_spf.esm-relay.example"]\n'
        'dkim_selectors = ["esm"]\n' + body
    )


@pytest.fixture
def config_path(tmp_path: Path, demo_server: DnsServer) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(config_text(demo_server, DEMO), encoding="utf-8")
    return path


class Gate:
    """Wraps the app's real checker (DNS to the loopback server) with a gate the test holds
    closed to keep a check in flight for as long as it needs to look at it."""

    def __init__(self) -> None:
        self.app: EsmApp | None = None
        self._open = asyncio.Event()
        self._open.set()

    def close(self) -> None:
        self._open.clear()

    def open(self) -> None:
        self._open.set()

    async def checker(self, settings: DomainSettings, fresh: bool) -> DomainReport:
        assert self.app is not None
        report = await self.app._check_with_dns(settings, fresh)
        await self._open.wait()
        return report


def make_app(path: Path, **kwargs: object) -> EsmApp:
    return EsmApp(load_config(path), **kwargs)  # type: ignore[arg-type]


async def wait_for(pilot: Pilot, condition: Callable[[], object], what: str = "") -> None:
    """Let the app run until `condition` holds (see tests/waiting.py: a deadline, not turns)."""
    app = pilot.app

    def state() -> str:
        return (
            f"{app.screen_stack} {app.screen.children} {list(app.screen.query('#detail > *'))}"
            f" {getattr(app.screen, 'view', None)}"
        )

    await until(pilot, condition, str(what or condition), state=state)


def all_checked(app: EsmApp) -> Callable[[], bool]:
    return lambda: all(
        app.monitor.report(d) is not None
        and not app.monitor.is_checking(d)
        and not app.monitor.view(d, "mx").propagation_pending
        for d in app.monitor.domains
    )


async def settled(pilot: Pilot, app: EsmApp) -> None:
    """Every domain checked, no check running, and the screen caught up with the results."""
    await wait_for(pilot, all_checked(app), "all checks")
    await pilot.pause()


@contextlib.asynccontextmanager
async def settled_app(
    config_path: Path, size: tuple[int, int] = (80, 24)
) -> AsyncIterator[tuple[EsmApp, Pilot]]:
    """The app on `config_path`, running headless, once every domain is checked."""
    app = make_app(config_path)
    async with app.run_test(size=size) as pilot:
        await settled(pilot, app)
        yield app, pilot


def screen_text(app: EsmApp) -> str:
    """The screen as plain text, the way a terminal would show it."""
    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), force_terminal=True,
        color_system=None, record=True, legacy_windows=False, safe_box=False,
    )  # fmt: skip
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()


def card_text(app: EsmApp, check: str) -> str:
    card = app.query_one(f"#card-{check}", RecordCard)
    return card.content().plain


def sidebar(app: EsmApp) -> list[str]:
    domains = app.query_one("#domains", DomainList)
    return [domains.prompt_of(name) for name in domains.visible]


def notes(app: EsmApp) -> list[str]:
    return [n.message for n in app._notifications]


async def select(pilot: Pilot, app: EsmApp, domain: str) -> None:
    app.query_one("#domains", DomainList).select(domain)
    await wait_for(pilot, lambda: app.selected == domain, f"{domain} selected")


async def open_card(pilot: Pilot, app: EsmApp, domain: str, check: str) -> RecordDetailScreen:
    await select(pilot, app, domain)
    app.query_one(f"#card-{check}", RecordCard).focus()
    await pilot.pause()
    await pilot.press("enter")
    await wait_for(pilot, lambda: detail_shown(app), "detail")
    await pilot.pause()  # let it render
    screen = app.screen
    assert isinstance(screen, RecordDetailScreen)
    return screen


def detail_shown(app: EsmApp) -> bool:
    """The detail screen is up and its content mounted."""
    screen = app.screen
    return isinstance(screen, RecordDetailScreen) and bool(screen.query(".title"))


# -- the dashboard ----------------------------------------------------------------------------


async def test_cards_fill_in_with_glyph_colour_class_and_word(
    config_path: Path, demo_server: DnsServer
) -> None:
    async with settled_app(config_path) as (app, pilot):
        assert demo_server.address in app.sub_title
        assert app.title == "esm-tui"
        statuses = {d: app.monitor.domain_status(d) for d in DEMO}
        assert statuses["good.example"] == Status.OK
        assert statuses["broken.example"] == Status.FAIL
        assert statuses["late.example"] == Status.FAIL  # no DMARC record yet
        for line, domain in zip(sidebar(app), DEMO, strict=True):
            status = statuses[domain]
            assert status is not None
            assert line.split()[1] == status.word and line.endswith(domain)
        await select(pilot, app, "broken.example")
        for check in CHECK_NAMES:
            card = app.query_one(f"#card-{check}", RecordCard)
            view = app.monitor.view("broken.example", check)
            assert view.status is not None
            assert view.status.word in card_text(app, check).splitlines()[0]
            assert card.has_class(f"-{view.status.value}")
            assert re.search(r"\d+ s ago · next", card_text(app, check))
        text = screen_text(app)
        assert "✗ FAIL" in text and "· next " in text


async def test_fits_in_80_by_24(config_path: Path) -> None:
    async with settled_app(config_path) as (app, pilot):
        screen = app.screen.region
        # The five seed cards whole; the optional ones below scroll into view
        # (tests/test_tui_transport_cards.py).
        for check in CHECK_NAMES[:5]:
            region = app.query_one(f"#card-{check}", RecordCard).region
            assert screen.contains_region(region), check
            assert region.height >= 7 and region.width >= 24
        assert screen.contains_region(app.query_one("#domains", DomainList).region)
        await wait_for(pilot, lambda: "q Quit" in screen_text(app).splitlines()[-1], "footer")
        lines = screen_text(app).splitlines()
        assert len(lines) == 24 and max(len(line) for line in lines) <= 80
        for key in ("r Recheck", "a Add", "d Remove", "/ Filter", "? Help", "q Quit"):
            assert key in lines[-1]


async def test_arrow_keys_move_between_cards(config_path: Path) -> None:
    async with settled_app(config_path) as (app, pilot):
        await pilot.press("enter")  # from the list into the cards
        assert isinstance(app.focused, RecordCard) and app.focused.check == "mx"
        await pilot.press("right")
        assert app.focused.check == "spf"
        await pilot.press("down")
        assert app.focused.check == "dmarc"
        await pilot.press("right")  # already at the right edge
        assert app.focused.check == "dmarc"
        await pilot.press("left", "down")
        assert app.focused.check == "bimi"


async def test_no_color_keeps_glyphs_and_words(
    config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    async with settled_app(config_path) as (app, _pilot):
        assert app.no_color
        text = screen_text(app)
        assert "✓ OK" in text and "✗ FAIL" in text


# -- r and R ----------------------------------------------------------------------------------


async def test_r_rechecks_the_selected_domain_bypassing_the_cache(
    config_path: Path, demo_server: DnsServer
) -> None:
    # Through a checker: no propagation, whose direct questions would blur the count.
    gate = Gate()
    app = make_app(config_path, checker=gate.checker)
    gate.app = app
    async with app.run_test() as pilot:
        await settled(pilot, app)
        await select(pilot, app, "good.example")
        before = demo_server.queries[("_dmarc.good.example.", "TXT")]
        started = app.monitor.checks_started
        await pilot.press("r")
        await wait_for(pilot, lambda: app.monitor.checks_started == started + 1)
        await settled(pilot, app)
        # The answers were cached for most of the interval: only a fresh check asks again.
        assert demo_server.queries[("_dmarc.good.example.", "TXT")] == before + 1
        assert app.monitor.checks_started == started + 1


async def test_two_quick_r_presses_leave_one_check_running(config_path: Path) -> None:
    gate = Gate()
    app = make_app(config_path, checker=gate.checker)
    gate.app = app
    async with app.run_test() as pilot:
        await settled(pilot, app)
        await select(pilot, app, "good.example")
        started = app.monitor.checks_started
        gate.close()  # the recheck stays in flight until the test lets it finish
        await pilot.press("r", "r")
        await wait_for(pilot, lambda: app.monitor.is_checking("good.example"))
        await pilot.press("r")
        workers = [
            w
            for w in app.workers
            if w.group == "domain:good.example"
            and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
        ]
        assert len(workers) == 1
        assert app.check_action("recheck", ()) is None  # greyed out while it runs
        assert app.monitor.running_checks() == 1
        gate.open()
        await settled(pilot, app)
        assert app.monitor.checks_started == started + 1
        assert app.monitor.max_running_per_domain == 1
        assert app.check_action("recheck", ()) is True


async def test_spinner_while_checking_keeps_the_previous_result(config_path: Path) -> None:
    gate = Gate()
    app = make_app(config_path, checker=gate.checker)
    gate.app = app
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot, app)
        await select(pilot, app, "good.example")
        gate.close()
        await pilot.press("r")
        await wait_for(pilot, lambda: "checking" in card_text(app, "spf").splitlines()[0])
        first = card_text(app, "spf").splitlines()
        assert first[0].startswith("✓ OK") and first[0].split()[-1] == "checking"
        assert first[0].split()[-2] in "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
        assert app.query_one("#card-spf", RecordCard).has_class("-checking")
        assert "⟳" in sidebar(app)[0]
        gate.open()
        await settled(pilot, app)
        assert "checking" not in card_text(app, "spf")


async def test_capital_r_rechecks_every_domain(config_path: Path) -> None:
    async with settled_app(config_path) as (app, pilot):
        started = app.monitor.checks_started
        await pilot.press("R")
        await wait_for(pilot, lambda: app.monitor.checks_started == started + len(DEMO))
        await settled(pilot, app)
        assert "Rechecking 4 domain(s)" in notes(app)
        assert app.monitor.max_running_per_domain == 1


# -- status changes and staleness ---------------------------------------------------------


async def test_a_status_change_raises_a_notification(
    config_path: Path, demo_server: DnsServer
) -> None:
    async with settled_app(config_path) as (app, pilot):
        assert app.monitor.view("late.example", "dmarc").status == Status.FAIL
        demo_server.records.replace(DELAYED_NAME, "TXT", f'"{DELAYED_VALUE}"')
        await select(pilot, app, "late.example")
        await pilot.press("r")
        await wait_for(pilot, lambda: app.monitor.view("late.example", "dmarc").status == Status.OK)
        await wait_for(pilot, lambda: "DMARC of late.example: FAIL → OK" in notes(app))
        assert card_text(app, "dmarc").startswith("✓ OK")


async def test_the_delayed_record_turns_ok_without_touching_anything(
    demo_server: DnsServer,
) -> None:
    """The demo's promise: the admin fixes the record and watches the card turn green."""
    config = Config(
        settings=Settings(
            interval=1, timeout=2.0, retries=0, nameservers=(demo_server.server,), history=False
        ),
        relay=Relay(mx=("*.esm-relay.example",), dkim_selectors=("esm",)),
        domains=(DomainConfig("late.example"),),
    )
    app = EsmApp(config)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.monitor.report("late.example") is not None)
        assert app.monitor.view("late.example", "dmarc").status == Status.FAIL
        demo_server.records.replace(DELAYED_NAME, "TXT", f'"{DELAYED_VALUE}"')
        await wait_for(pilot, lambda: "DMARC of late.example: FAIL → OK" in notes(app))
        assert app.monitor.view("late.example", "dmarc").status == Status.OK


async def test_a_dead_engine_makes_the_cards_stale_and_the_next_check_restarts_it(
    config_path: Path, demo_server: DnsServer
) -> None:
    async with settled_app(config_path) as (app, pilot):
        await select(pilot, app, "good.example")
        pid = app.engine.pid
        assert pid is not None and app.engine.starts == 1
        demo_server.delay = 1.0  # the recheck is in flight when the engine dies
        asked = sum(demo_server.queries.values())
        await pilot.press("r")
        await wait_for(pilot, lambda: app.monitor.is_checking("good.example"), "checking")
        await wait_for(pilot, lambda: sum(demo_server.queries.values()) > asked, "a query sent")
        os.kill(pid, signal.SIGKILL)

        def view() -> CardView:
            return app.monitor.view("good.example", "spf")

        await wait_for(pilot, lambda: view().stale_reason, "stale")
        assert "the check engine stopped" in (view().stale_reason or "")
        assert view().status == Status.OK  # the last known result, kept
        assert card_text(app, "spf").startswith("✓ OK · stale")
        demo_server.delay = 0
        await wait_for(pilot, lambda: not app.monitor.recheck_pending("good.example"))
        await pilot.press("r")
        await until(
            pilot,
            lambda: app.engine.starts >= 2 and app.engine.pid not in (None, pid),
            "a new engine",
            state=lambda: f"starts={app.engine.starts} pid={app.engine.pid} (was {pid})",
        )
        await wait_for(pilot, lambda: view().stale_reason is None and view().latest, "fresh")
        assert view().latest.status == Status.OK  # type: ignore[union-attr]
        assert app.engine.pid not in (None, pid)


async def test_unknown_keeps_the_last_result_marked_stale(
    config_path: Path, demo_server: DnsServer
) -> None:
    async with settled_app(config_path) as (app, pilot):
        await select(pilot, app, "good.example")
        assert app.monitor.view("good.example", "dmarc").status == Status.OK
        demo_server.records.set_behaviour("_dmarc.good.example.", "servfail")
        await pilot.press("r")
        await wait_for(pilot, lambda: app.monitor.view("good.example", "dmarc").stale_reason)
        await settled(pilot, app)
        view = app.monitor.view("good.example", "dmarc")
        assert view.latest is not None and view.latest.status == Status.UNKNOWN
        text = card_text(app, "dmarc")
        assert text.startswith("✓ OK · stale")
        assert "stale:" in text and "SERVFAIL" in text
        assert app.query_one("#card-dmarc", RecordCard).has_class("-stale")
        assert not [n for n in notes(app) if n.startswith("DMARC of good.example")]
        detail = await open_card(pilot, app, "good.example", "dmarc")
        assert "Stale:" in screen_text(app)
        assert detail.view is not None and detail.view.stale_reason


# -- the detail screen --------------------------------------------------------------------


async def test_enter_opens_the_detail_with_raw_records_findings_and_fix(
    config_path: Path,
) -> None:
    async with settled_app(config_path, (100, 60)) as (app, pilot):
        screen = await open_card(pilot, app, "shop.example", "dmarc")
        result = app.monitor.view("shop.example", "dmarc").shown
        assert result is not None and result.findings and result.fix is not None
        text = screen_text(app)
        assert "DMARC of shop.example" in text
        assert "Query  _dmarc.shop.example. TXT" in text
        assert "v=DMARC1; p=none; pct=50" in text
        assert "Parsed" in text and "pct" in text
        for finding in result.findings:
            assert finding.code in text
        assert any(f.ref and f.ref in text for f in result.findings)
        assert "Fix" in text
        if result.fix.record is not None:
            assert "Record to publish" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, RecordDetailScreen)
        assert screen.domain == "shop.example"


async def test_spf_detail_shows_the_include_tree(config_path: Path) -> None:
    async with settled_app(config_path, (100, 60)) as (app, pilot):
        await open_card(pilot, app, "good.example", "spf")
        text = screen_text(app)
        assert "Include tree" in text
        assert "_spf.esm-relay.example" in text
        assert "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all" in text
        assert "lookup" in text


async def test_dkim_detail_has_a_section_per_selector(
    config_path: Path, demo_server: DnsServer
) -> None:
    records = demo_server.records
    records.add_txt("second._domainkey.good.example.", "v=DKIM1; k=rsa; p=")
    path = config_path
    path.write_text(
        path.read_text().replace('dkim_selectors = ["esm"]', 'dkim_selectors = ["esm", "second"]')
    )
    app = make_app(path)
    async with app.run_test(size=(100, 100)) as pilot:
        await settled(pilot, app)
        await open_card(pilot, app, "good.example", "dkim")
        text = screen_text(app)
        assert "Selectors (2)" in text
        assert "selector esm" in text and "selector second" in text
        assert "2048 bits" in text


async def test_a_click_on_a_card_opens_its_detail(config_path: Path) -> None:
    async with settled_app(config_path) as (app, pilot):
        await pilot.click("#card-mx")
        await wait_for(pilot, lambda: detail_shown(app))
        assert app.screen.check == "mx"  # type: ignore[attr-defined]
        assert "MX hosts" in screen_text(app) or "Records as published" in screen_text(app)


async def test_a_click_on_a_domain_selects_it(config_path: Path) -> None:
    async with settled_app(config_path) as (app, pilot):
        await pilot.click("#domains", offset=(3, 3))  # the third line: broken.example
        await wait_for(pilot, lambda: app.selected == "broken.example")


async def test_the_open_detail_follows_new_results(
    config_path: Path, demo_server: DnsServer
) -> None:
    async with settled_app(config_path, (100, 40)) as (app, pilot):
        await open_card(pilot, app, "late.example", "dmarc")
        await wait_for(pilot, lambda: "✗ FAIL  DMARC of late.example" in screen_text(app))
        demo_server.records.replace(DELAYED_NAME, "TXT", f'"{DELAYED_VALUE}"')
        await pilot.press("r")  # rechecks the domain of the open detail
        await wait_for(pilot, lambda: "✓ OK  DMARC of late.example" in screen_text(app))
        assert DELAYED_VALUE in screen_text(app)


# -- copy ---------------------------------------------------------------------------------------


async def test_c_copies_the_record_to_publish(config_path: Path) -> None:
    async with settled_app(config_path) as (app, pilot):
        await select(pilot, app, "late.example")
        app.query_one("#card-dmarc", RecordCard).focus()
        await pilot.pause()
        result = app.monitor.view("late.example", "dmarc").shown
        assert result is not None and result.fix is not None and result.fix.record is not None
        assert app.check_action("copy_fix", ()) is True
        await pilot.press("c")
        assert app.clipboard == result.fix.record.value
        assert app.clipboard.startswith("v=DMARC1")
        assert any(
            n.startswith("Copied the TXT value for _dmarc.late.example.") for n in notes(app)
        )
        # From the detail screen too.
        app.copy_to_clipboard("")
        await pilot.press("enter")
        await wait_for(pilot, lambda: detail_shown(app))
        await pilot.press("c")
        assert app.clipboard == result.fix.record.value


async def test_shift_c_copies_the_record_as_zone_file_strings(config_path: Path) -> None:
    async with settled_app(config_path) as (app, pilot):
        await select(pilot, app, "late.example")
        app.query_one("#card-dmarc", RecordCard).focus()
        await pilot.pause()
        result = app.monitor.view("late.example", "dmarc").shown
        assert result is not None and result.fix is not None and result.fix.record is not None
        await pilot.press("C")
        value = result.fix.record.value
        assert app.clipboard == f'"{value}"'  # one string: under 255 bytes
        assert result.fix.txt_strings == (value,)
        assert any(n.startswith("Copied the TXT data for _dmarc.late.example.") for n in notes(app))


async def test_the_dns_host_on_the_summary_and_its_steps_in_the_detail(
    config_path: Path, demo_server: DnsServer
) -> None:
    """shop.example's zone served by OVHcloud's name servers: the tile names the host, the
    detail ends with OVHcloud's steps (which stay text: the names come from DNS)."""
    demo_server.records.replace("shop.example.", "NS", "dns10.ovh.net.", "ns10.ovh.net.")
    async with settled_app(config_path, (100, 60)) as (app, pilot):
        await select(pilot, app, "shop.example")
        summary = app.query_one("#domain-summary")
        await wait_for(pilot, lambda: "DNS: OVHcloud" in str(summary.border_subtitle or ""))
        await select(pilot, app, "good.example")
        await wait_for(pilot, lambda: "DNS: other DNS host" in str(summary.border_subtitle or ""))
        await open_card(pilot, app, "shop.example", "dmarc")
        result = app.monitor.view("shop.example", "dmarc").shown
        assert result is not None and result.fix is not None
        assert "Log in to the OVHcloud Control Panel and open Web Cloud." in result.fix.host_steps
        assert "Sub-domain: _dmarc" in result.fix.host_steps
        assert app.screen.query("#host-steps")
        app.screen.query_one("#detail").scroll_end(animate=False, immediate=True)
        await pilot.pause()
        text = screen_text(app)
        assert "At the DNS host" in text and "Sub-domain: _dmarc" in text


async def test_copy_without_a_fix_says_why(config_path: Path) -> None:
    async with settled_app(config_path) as (app, pilot):
        await select(pilot, app, "good.example")
        app.query_one("#card-mx", RecordCard).focus()
        await pilot.pause()
        await pilot.press("c")
        assert app.clipboard == ""
        assert "MX of good.example is OK: there is no record to publish." in notes(app)


# -- hostile data -------------------------------------------------------------------------------


async def test_hostile_txt_records_are_shown_literally(
    tmp_path: Path, demo_server: DnsServer
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config_text(demo_server, ["hostile.example"]), encoding="utf-8")
    app = make_app(path)
    async with app.run_test(size=(120, 50)) as pilot:
        await settled(pilot, app)
        assert app.monitor.report("hostile.example") is not None
        dmarc = app.monitor.view("hostile.example", "dmarc").shown
        assert dmarc is not None and HOSTILE_DMARC in dmarc.records
        screen_text(app)  # the cards render
        await open_card(pilot, app, "hostile.example", "dmarc")
        text = screen_text(app)
        assert "[@click=app.quit]" in text and "[/x]" in text and "[b]bold[/b]" in text
        assert "\\x1b[2J" in text and "\\x1b]52;c;aGk=\\x07" in text
        assert "\x1b" not in text and "\x07" not in text
        raw = [w.content.plain for w in app.screen.query(".raw") if hasattr(w.content, "plain")]
        assert display_safe(HOSTILE_DMARC) in raw
        # Clicking on the would-be link does nothing; the app is still running.
        await pilot.click("#raw")
        for widget in app.screen.query(".raw"):
            await pilot.click(widget)
        await pilot.pause()
        assert app.is_running and app.return_code is None
        await pilot.press("escape")
        await open_card(pilot, app, "hostile.example", "spf")
        text = screen_text(app)
        assert "include:[/x].example" in text and "\\x1b[31m" in text
        assert app.is_running


# -- adding, removing, the config file ----------------------------------------------------


async def test_a_adds_a_domain_and_saves_it(config_path: Path) -> None:
    async with settled_app(config_path) as (app, pilot):
        await pilot.press("a")
        assert isinstance(app.screen, AddDomainScreen)
        await pilot.press(*"not a domain", "enter")
        assert isinstance(app.screen, AddDomainScreen)  # stays open, says why
        error = app.screen.query_one("#domain-error")
        assert "not a valid domain name" in error.render().plain  # type: ignore[attr-defined]
        app.screen.query_one("#domain-input").value = ""  # type: ignore[attr-defined]
        await pilot.press(*"Good.Example", "enter")
        assert "already in the list" in error.render().plain  # type: ignore[attr-defined]
        app.screen.query_one("#domain-input").value = ""  # type: ignore[attr-defined]
        await pilot.press(*"New.Example.", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, AddDomainScreen))
        assert "new.example" in app.monitor.domains
        assert [d.name for d in load_config(config_path).domains] == [*DEMO, "new.example"]
        assert config_path.read_text().startswith("# test config")  # the rest is kept
        assert config_path.with_name("config.toml.bak").exists()
        await wait_for(pilot, lambda: app.selected == "new.example")
        await wait_for(pilot, lambda: app.monitor.report("new.example") is not None)
        assert any("Added new.example" in n for n in notes(app))


async def test_escape_cancels_adding(config_path: Path) -> None:
    app = make_app(config_path)
    async with app.run_test() as pilot:
        await pilot.press("a", *"x.example", "escape")
        assert not isinstance(app.screen, AddDomainScreen)
        assert "x.example" not in app.monitor.domains
        assert "x.example" not in config_path.read_text()


async def test_d_removes_a_domain_after_confirmation(config_path: Path) -> None:
    async with settled_app(config_path) as (app, pilot):
        await select(pilot, app, "shop.example")
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert "shop.example" in app.monitor.domains
        await pilot.press("d")
        await pilot.press("y")
        await wait_for(pilot, lambda: "shop.example" not in app.monitor.domains)
        assert [d.name for d in load_config(config_path).domains] == [
            "good.example", "broken.example", "late.example",
        ]  # fmt: skip
        await wait_for(
            pilot,
            lambda: (
                not [
                    w for w in app.workers if w.group == "domain:shop.example" and not w.is_finished
                ]
            ),
        )
        assert "shop.example" not in "".join(sidebar(app))
        assert app.selected in app.monitor.domains


async def test_a_config_changed_on_disk_is_reloaded_before_saving(
    config_path: Path, demo_server: DnsServer
) -> None:
    app = make_app(config_path, watch_config=False)
    async with app.run_test() as pilot:
        await settled(pilot, app)
        # Someone edits the file while the dashboard runs (the app has not noticed yet).
        config_path.write_text(config_text(demo_server, [*DEMO, "other.example"]))
        await pilot.press("a", *"new.example", "enter")
        await wait_for(pilot, lambda: "new.example" in app.monitor.domains)
        names = [d.name for d in load_config(config_path).domains]
        assert names == [*DEMO, "other.example", "new.example"]
        assert "other.example" in app.monitor.domains
        assert any("changed on disk" in n for n in notes(app))


async def test_config_reloads_while_running(config_path: Path, demo_server: DnsServer) -> None:
    async with settled_app(config_path) as (app, pilot):
        config_path.write_text("[settings]\ninterval = 'soon'\n")
        app._poll_config()
        await wait_for(
            pilot, lambda: any("Config not reloaded" in n and ":2:" in n for n in notes(app))
        )
        assert app.monitor.domains == DEMO  # the old config stays in force
        config_path.write_text(config_text(demo_server, ["good.example"]))
        app._poll_config()
        await wait_for(pilot, lambda: app.monitor.domains == ["good.example"])
        await wait_for(pilot, lambda: any(n.startswith("Reloaded") for n in notes(app)))
        assert app.is_running


async def test_without_a_config_file_the_dashboard_offers_to_add(tmp_path: Path) -> None:
    path = tmp_path / "none" / "config.toml"
    app = EsmApp(load_config(path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "No domains yet" in screen_text(app)
        assert "Press a to add one" in screen_text(app)
        for action in ("recheck", "recheck_all", "remove_domain", "open_detail", "copy_fix"):
            assert app.check_action(action, ()) is None, action
        assert app.check_action("add_domain", ()) is True


async def test_command_line_domains_are_shown_but_not_saved(
    config_path: Path,
) -> None:
    app = make_app(config_path, extra_domains=["extra.example", "good.example"])
    async with app.run_test() as pilot:
        await settled(pilot, app)
        assert app.monitor.domains == [*DEMO, "extra.example"]
        await select(pilot, app, "extra.example")
        await pilot.press("d", "y")
        await wait_for(pilot, lambda: "extra.example" not in app.monitor.domains)
        assert [d.name for d in load_config(config_path).domains] == DEMO


# -- filter, help, palette, quit ------------------------------------------------------------


async def test_slash_filters_the_list(config_path: Path) -> None:
    async with settled_app(config_path) as (app, pilot):
        domains = app.query_one("#domains", DomainList)
        await pilot.press("slash", *"SHO")
        assert domains.visible == ["shop.example"]
        await pilot.press("enter")
        assert app.focused is domains and app.selected == "shop.example"
        await pilot.press("slash", "backspace", "backspace", "backspace", *"zzz")
        assert domains.visible == []
        assert "No domain matches the filter" in screen_text(app)
        await pilot.press("escape")
        assert domains.visible == DEMO
        assert app.focused is domains


async def test_question_mark_shows_the_keys(config_path: Path) -> None:
    app = make_app(config_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for key in ("recheck the selected domain", "copy the value", "set-clipboard on"):
            assert key in text
        await pilot.press("r")  # keys of the dashboard do nothing under the help
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_the_command_palette_offers_the_same_actions(config_path: Path) -> None:
    async with settled_app(config_path) as (app, pilot):
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in ("Recheck domain", "Recheck all domains", "Add domain", "Remove domain"):
            assert title in titles
        started = app.monitor.checks_started
        command = next(
            c for c in app.get_system_commands(app.screen) if c.title == "Recheck domain"
        )
        await command.callback()
        await wait_for(pilot, lambda: app.monitor.checks_started == started + 1)
        await open_card(pilot, app, "late.example", "dmarc")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Copy fix record" in titles and "Add domain" not in titles
        await pilot.press("ctrl+p")
        await pilot.press(*"copy fix", "enter")
        await wait_for(pilot, lambda: app.clipboard.startswith("v=DMARC1"))


async def test_q_quits(config_path: Path) -> None:
    async with settled_app(config_path) as (app, pilot):
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_a_crashing_check_is_reported_and_retried(tmp_path: Path) -> None:
    calls: list[bool] = []

    async def checker(settings: object, fresh: bool) -> object:
        calls.append(fresh)
        raise RuntimeError("boom [/x]")

    config = Config(settings=Settings(interval=3600), domains=(DomainConfig("a.example"),))
    app = EsmApp(config, checker=checker)  # type: ignore[arg-type]
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: any("boom [/x]" in n for n in notes(app)))
        assert app.is_running
        assert any(w.group == "domain:a.example" and not w.is_finished for w in app.workers)
        assert len(calls) == 1  # the next try waits its turn


def test_run_dashboard_reports_a_bad_config_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[settings]\ninterval = 1\n")
    assert run_dashboard(path, None, [], False) == 64
    err = capsys.readouterr().err
    assert "config.toml:2" in err and "Traceback" not in err
