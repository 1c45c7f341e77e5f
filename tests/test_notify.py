"""Notifications through Apprise (SPEC §7): the real HTTP request Apprise's `json://` sends
to a local receiver, grouping, `unknown_after` over real DNS answers, a failing service,
secrets, `[notify]` validation, and `check --until-ok --notify` as the real program."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from notify_receiver import Receiver

from esm_tui.changes import Change
from esm_tui.checks import check_domain
from esm_tui.checks.context import CheckContext
from esm_tui.config import ConfigError
from esm_tui.config.load import parse_config
from esm_tui.config.notify_section import NotifySettings, redact
from esm_tui.demo.records import Records
from esm_tui.dns import Dns
from esm_tui.model import DomainSettings, Status
from esm_tui.notify.sender import Notifier, NotifyError
from esm_tui.notify.setup import start_notifications

ESM = [sys.executable, "-m", "esm_tui"]
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def change(domain: str, check: str, old: Status, new: Status, summary: str) -> Change:
    return Change(NOW, domain, check, old, new, summary)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_changes_within_the_window_go_out_as_one_message() -> None:
    with Receiver() as receiver:
        notifier = Notifier([receiver.url], window=1.0)
        notifier.submit([change("a.test", "dmarc", Status.FAIL, Status.OK, "p=reject")])
        notifier.submit([change("b.test", "spf", Status.OK, Status.FAIL, "+all")])
        body = receiver.next()
        assert body["title"] == "esm-tui: 2 record changes on 2 domains"
        assert body["message"].splitlines() == [
            "a.test DMARC: fail → ok (p=reject)",
            "b.test SPF: ok → fail (+all)",
        ]
        assert body["type"] == "failure"
        notifier.submit([change("a.test", "mx", Status.WARN, Status.OK, "2 MX hosts")])
        notifier.close()  # sends at once, without waiting for the window
        single = receiver.next()
        assert single["title"] == "esm-tui: a.test MX warn → ok"
        assert single["message"] == "a.test MX: warn → ok (2 MX hosts)"
        assert single["type"] == "success"
        assert receiver.requests.empty()


def test_dns_data_is_escaped_in_the_message() -> None:
    with Receiver() as receiver:
        notifier = Notifier([receiver.url], window=0.1)
        hostile = "v=spf1 \x1b]8;;http://evil\x07\u202e <b>x</b>"
        notifier.submit([change("e.test", "spf", Status.OK, Status.FAIL, hostile)])
        notifier.close()
        text = receiver.next()["message"]
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert text == "e.test SPF: ok → fail (v=spf1 \\x1b]8;;http://evil\\x07\\u202e <b>x</b>)"


def test_a_failing_service_is_reported_once_and_the_others_still_get_messages() -> None:
    reports: list[str] = []
    secret = f"json://admin:hunter2@127.0.0.1:{closed_port()}/token-abc"
    with Receiver() as receiver:
        notifier = Notifier([secret, receiver.url], window=0.05, report=reports.append)
        for n in range(3):
            notifier.submit([change(f"d{n}.test", "mx", Status.OK, Status.FAIL, "no MX")])
            assert receiver.next()["title"] == f"esm-tui: d{n}.test MX ok → fail"
        notifier.close()
    assert len(reports) == 1
    assert "json://…" in reports[0] and "failed" in reports[0]
    assert "hunter2" not in reports[0] and "token-abc" not in reports[0]
    assert "127.0.0.1" not in reports[0]


def test_an_unknown_url_is_refused_without_its_secret() -> None:
    with pytest.raises(NotifyError) as info:
        Notifier(["nosuchservice://user:hunter2@host/"])
    assert "hunter2" not in str(info.value) and "nosuchservice://…" in str(info.value)
    assert redact("slack://T1/B2/secret") == "slack://…"


def test_notify_section_is_validated() -> None:
    config = parse_config(
        '[notify]\nurls = ["ntfy://topic"]\nunknown_after = 2\nterminal = false\n'
    )
    assert config.notify == NotifySettings(("ntfy://topic",), 2, False)
    assert parse_config("").notify == NotifySettings()
    with pytest.raises(ConfigError, match=r"notify\.unknown_after: must be from 1"):
        parse_config("[notify]\nunknown_after = 0\n")
    with pytest.raises(ConfigError, match=r"notify\.urls\[0\]: is not an Apprise URL") as info:
        parse_config('[notify]\nurls = ["hunter2-token"]\n')
    assert "hunter2" not in str(info.value)
    with pytest.raises(ConfigError, match="did you mean 'terminal'"):
        parse_config("[notify]\nterminl = true\n")


def test_unknown_after_holds_back_a_resolver_hiccup(dns_server, records: Records) -> None:
    """A DMARC answer that SERVFAILs for fewer than `unknown_after` checks pages nobody;
    one that holds that long is sent, as is its recovery once that holds."""
    records.add_zone("hiccup.test.")
    records.add_txt("_dmarc.hiccup.test.", "v=DMARC1; p=reject; rua=mailto:d@hiccup.test")
    dns = Dns([(dns_server.host, dns_server.port)], timeout=0.5, retries=0)
    settings = NotifySettings(unknown_after=3)

    def round_() -> None:
        dns.clear_cache()
        report = asyncio.run(check_domain(DomainSettings("hiccup.test"), CheckContext(dns)))
        notifications.feed([report])

    with Receiver() as receiver:
        notifications = start_notifications(settings, [receiver.url], window=0.05)
        assert notifications is not None
        round_()  # the baseline: ok
        records.set_behaviour("_dmarc.hiccup.test.", "servfail")
        round_()
        round_()  # unknown for two checks only
        records.set_behaviour("_dmarc.hiccup.test.", None)
        round_()  # back to ok: nothing was sent
        records.set_behaviour("_dmarc.hiccup.test.", "servfail")
        round_()
        round_()
        assert receiver.requests.empty()
        round_()  # the third unknown in a row
        body = receiver.next()
        assert body["title"] == "esm-tui: hiccup.test DMARC ok → unknown"
        records.set_behaviour("_dmarc.hiccup.test.", None)
        round_()
        round_()
        assert receiver.requests.empty()
        round_()
        assert receiver.next()["title"] == "esm-tui: hiccup.test DMARC unknown → ok"
        notifications.close()
        assert receiver.requests.empty()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    env.pop("ESM_TUI_CONFIG", None)
    env["ESM_TUI_DEMO_DELAY"] = "2"
    return env


def test_until_ok_notifies_once_when_the_late_dmarc_record_appears(env) -> None:
    with Receiver() as receiver:
        args = ["check", "--demo", "late.example", "--until-ok", "--every", "0.5"]
        result = subprocess.run(
            [*ESM, *args, "--notify", receiver.url],
            capture_output=True,
            text=True,
            env=env,
            timeout=90,
        )
        assert result.returncode == 0, result.stderr
        body = receiver.next(timeout=1)  # sent before the program exited
        assert receiver.requests.empty()
    assert body["title"] == "esm-tui: late.example DMARC fail → ok"
    assert body["message"].startswith("late.example DMARC: fail → ok (p=quarantine")


def test_without_apprise_the_message_says_what_to_install(tmp_path, env) -> None:
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "apprise.py").write_text("raise ImportError('blocked by the test')\n")
    env["PYTHONPATH"] = str(blocker)
    args = ["check", "--demo", "good.example", "--until-ok", "--notify", "json://127.0.0.1/"]
    result = subprocess.run([*ESM, *args], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 64
    assert "pip install 'esm-tui[notify]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_notify_url_is_a_usage_error_without_the_url(env) -> None:
    args = ["check", "--demo", "good.example", "--until-ok", "--notify", "token-hunter2"]
    result = subprocess.run([*ESM, *args], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 64 and "hunter2" not in result.stderr
    assert "--notify URL 1 is not an Apprise URL" in result.stderr


def test_sending_never_blocks_the_checks() -> None:
    """submit returns at once while the service accepts the connection and never answers."""
    reports: list[str] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"json://127.0.0.1:{listener.getsockname()[1]}/"
        notifier = Notifier([url], window=0.0, report=reports.append)
        done = threading.Event()

        def submit_many() -> None:
            for _ in range(5):
                notifier.submit([change("h.test", "mx", Status.OK, Status.FAIL, "x")])
            done.set()

        threading.Thread(target=submit_many).start()
        assert done.wait(5)
    notifier.close()  # the listener is gone: the pending sends fail, reported once
    assert len(reports) == 1
