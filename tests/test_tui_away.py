"""The dashboard tells an admin who is not looking (SPEC §7, issue 15 items 4 and 5).

The real app (Textual pilot) with a checker whose answers the test turns from FAIL to OK:
the terminal gets OSC 9, OSC 777 and the bell through Textual's driver only while the app
is not in focus, with the DNS-derived text made safe; `[notify] terminal = false` turns it
off; an Apprise URL gets the change (a real HTTP request to a local receiver); a service
that fails is reported once, as a toast, and the checks go on.
"""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import UTC, datetime

from notify_receiver import Receiver
from textual import events
from waiting import until

from esm_tui.app import EsmApp
from esm_tui.config import Config, DomainConfig, Settings
from esm_tui.config.notify_section import NotifySettings
from esm_tui.model import CHECK_NAMES, DomainReport, DomainSettings, RecordResult, Status
from esm_tui.notify.terminal import notification, safe_text

DOMAIN = "a.example"


class Flipping:
    """Every record FAIL until `fixed`, then OK; the summary carries hostile bytes."""

    def __init__(self) -> None:
        self.fixed = False
        self.checks = 0

    async def __call__(self, settings: DomainSettings, fresh: bool) -> DomainReport:
        self.checks += 1
        status = Status.OK if self.fixed else Status.FAIL
        result = RecordResult("spf", status, "x\x1b]0;pwned\x07;y", f"{settings.name}.", "TXT")
        checks = {c: replace(result, check=c) for c in CHECK_NAMES}
        return DomainReport(settings.name, checks, datetime.now(UTC))


def _app(checker: Flipping, *, terminal: bool = True, urls: tuple[str, ...] = ()) -> EsmApp:
    config = Config(
        path=None,
        settings=Settings(history=False),
        domains=(DomainConfig(name=DOMAIN),),
        notify=NotifySettings(terminal=terminal),
    )
    return EsmApp(config, checker=checker, watch_config=False, notify_urls=urls)


def _capture(app: EsmApp) -> list[str]:
    written: list[str] = []
    driver = app._driver
    assert driver is not None
    real = driver.write
    driver.write = lambda data: (written.append(data), real(data))[1]  # type: ignore[method-assign]
    return written


async def _flip(pilot, app: EsmApp, checker: Flipping) -> None:
    checker.fixed = True
    before = checker.checks
    app.action_recheck()  # not a key: a key would give the app its focus back
    await until(pilot, lambda: checker.checks > before and not app.monitor.is_checking(DOMAIN))
    await pilot.pause()


async def test_out_of_focus_a_change_reaches_the_terminal() -> None:
    checker = Flipping()
    app = _app(checker)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.monitor.report(DOMAIN) is not None, "the first check")
        written = _capture(app)
        app.post_message(events.AppBlur())
        await until(pilot, lambda: not app.app_focus, "the blur")
        await _flip(pilot, app, checker)
        sent = [w for w in written if "\x1b]9;" in w]
        assert len(sent) == 1
        sequence = sent[0]
        assert sequence == app.terminal_sent[-1]
        assert sequence.startswith("\x1b]9;esm-tui: MX of a.example: FAIL → OK, SPF of")
        assert "\x1b]777;notify;esm-tui;MX of a.example: FAIL → OK, SPF of" in sequence
        assert sequence.endswith("\x07")
        # every ESC is one of ours: two OSC openers, nothing from the data
        assert sequence.count("\x1b") == 2


async def _quiet(terminal: bool, blur: bool) -> None:
    checker = Flipping()
    app = _app(checker, terminal=terminal)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.monitor.report(DOMAIN) is not None, "the check")
        written = _capture(app)
        if blur:
            app.post_message(events.AppBlur())
            await until(pilot, lambda: not app.app_focus, "the blur")
        await _flip(pilot, app, checker)
        assert app.monitor.domain_status(DOMAIN) == Status.OK  # the change happened
        assert not [w for w in written if "\x1b]9;" in w or "\x1b]777;" in w]
        assert app.terminal_sent == []


async def test_in_focus_the_terminal_is_left_alone() -> None:
    await _quiet(terminal=True, blur=False)


async def test_terminal_false_turns_it_off() -> None:
    await _quiet(terminal=False, blur=True)


def test_the_sequence_is_safe_whatever_the_text() -> None:
    hostile = "evil.example\x1b]52;c;AAAA\x07\x1b\\;\n\u202e" + "x" * 500
    text = safe_text(hostile)
    assert "\x1b" not in text and "\x07" not in text and ";" not in text and "\n" not in text
    assert len(text) <= 200
    wrapped = notification("esm-tui", hostile, tmux=True)
    assert wrapped.startswith("\x1bPtmux;\x1b\x1b]9;") and wrapped.endswith("\x1b\\\x07")


async def test_an_apprise_service_gets_the_change() -> None:
    checker = Flipping()
    with Receiver() as receiver:
        app = _app(checker, urls=(receiver.url,))
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.monitor.report(DOMAIN) is not None, "the check")
            await _flip(pilot, app, checker)
            body = receiver.next(timeout=30)
    assert body["title"] == f"esm-tui: {len(CHECK_NAMES)} record changes on a.example"
    assert "a.example SPF: fail → ok" in body["message"]
    assert "\x1b" not in body["message"]  # the summary's ESC is escaped, not sent


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_a_failing_service_is_one_toast_and_the_checks_go_on() -> None:
    checker = Flipping()
    secret = f"json://admin:hunter2@127.0.0.1:{_closed_port()}/token-abc"
    app = _app(checker, urls=(secret,))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.monitor.report(DOMAIN) is not None, "the check")
        await _flip(pilot, app, checker)

        def failures() -> list[str]:
            return [str(n.message) for n in app._notifications if n.title == "Notification failed"]

        await until(pilot, lambda: failures(), "the failure toast")
        checker.fixed = False
        await _flip(pilot, app, checker)  # a second change: still checked
        checker.fixed = False
        assert app.monitor.domain_status(DOMAIN) == Status.OK
        assert len(failures()) == 1
        assert "hunter2" not in failures()[0] and "token-abc" not in failures()[0]
