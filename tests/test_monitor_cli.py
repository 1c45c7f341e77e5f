"""`esm-tui monitor` (SPEC §7, issue 15): the real command, a real DNS server, a real receiver.

The monitor is started as systemd would (JOURNAL_STREAM set: syslog priorities on each
line), watching two demo domains over the loopback DNS server. The test waits for each
line it needs — the first check of late.example — then publishes late.example's DMARC
record in the server's zone and waits for the change line, the notification and the
history row; SIGTERM then ends it with 0.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from notify_receiver import Receiver
from test_tui_app import config_text

from esm_tui.demo.scenario import DELAYED_NAME, DELAYED_VALUE, demo_records
from esm_tui.demo.server import DnsServer
from esm_tui.history import History, HistoryError

ESM = [sys.executable, "-m", "esm_tui"]
UNIT = Path(__file__).parents[1] / "docs" / "monitor.md"


@pytest.fixture
def server() -> Iterator[DnsServer]:
    with DnsServer(demo_records()) as srv:
        yield srv


class Lines:
    """The monitor's stdout, read by a thread so that the test can wait for a line."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        assert proc.stdout is not None
        stream = proc.stdout
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait(self, part: str, timeout: float = 60) -> str:
        """The first line (seen already, or the next ones) holding `part`."""
        for line in self.seen:
            if part in line:
                return line
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no line with {part!r}; seen: {self.seen}") from None
            if line is None:
                raise AssertionError(f"the monitor ended before {part!r}; seen: {self.seen}")
            self.seen.append(line)
            if part in line:
                return line


def notify(receiver: Receiver) -> list[str]:
    return ["--notify", receiver.url]


def _default_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # a background job starts with it ignored


def test_monitor_logs_notifies_records_history_and_stops_on_sigterm(
    server: DnsServer, tmp_path: Path
) -> None:
    server.records.remove(DELAYED_NAME, "TXT")  # late.example starts without DMARC
    config = tmp_path / "config.toml"
    text = config_text(server, ["late.example", "good.example"])
    config.write_text(text.replace("history = false", "history = true"), encoding="utf-8")
    env = {**os.environ, "ESM_TUI_DATA_DIR": str(tmp_path / "data"), "JOURNAL_STREAM": "8:1"}
    env.pop("ESM_TUI_CONFIG", None)
    with Receiver() as receiver:
        proc = subprocess.Popen(
            [*ESM, "monitor", "--config", str(config), "--interval", "0.5", *notify(receiver)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            preexec_fn=_default_signals,
        )
        try:
            lines = Lines(proc)
            assert lines.wait("watching 2 domains").startswith("<5>esm-tui monitor:")
            first = lines.wait("late.example first check")
            assert first.startswith("<3>") and "(dmarc fail)" in first  # fail: priority 3
            good = lines.wait("good.example first check")
            assert good.startswith("<5>") and "every record ok" in good

            server.records.replace(DELAYED_NAME, "TXT", f'"{DELAYED_VALUE}"')
            change = lines.wait("late.example dmarc fail → ok")
            assert change.startswith("<5>") and "p=quarantine" in change
            body = receiver.next(timeout=30)
            assert body["title"] == "esm-tui: late.example DMARC fail → ok"

            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
            assert lines.wait("stopped").startswith("<5>")
            assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")
        finally:
            proc.kill()
            proc.wait()
    history = History.open(tmp_path / "data" / "history.sqlite3")
    assert not isinstance(history, HistoryError), history
    try:
        timeline = history.timeline("late.example")
    finally:
        history.close()
    assert not isinstance(timeline, HistoryError), timeline
    assert [t.status for t in timeline["dmarc"]][-2:] == ["fail", "ok"]


def test_sigint_stops_it_too_and_a_bad_interval_is_a_usage_error(
    server: DnsServer, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(config_text(server, ["good.example"]), encoding="utf-8")
    env = {**os.environ, "ESM_TUI_DATA_DIR": str(tmp_path / "data")}
    env.pop("ESM_TUI_CONFIG", None)
    env.pop("JOURNAL_STREAM", None)
    bad = subprocess.run(
        [*ESM, "monitor", "--config", str(config), "--interval", "-1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert bad.returncode == 64 and "positive number of seconds" in bad.stderr
    proc = subprocess.Popen(
        [*ESM, "monitor", "--config", str(config), "--interval", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_default_signals,
    )
    try:
        lines = Lines(proc)
        assert not lines.wait("good.example first check").startswith("<")  # no journal
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()


def test_the_systemd_unit_in_the_docs_runs_the_real_command() -> None:
    text = UNIT.read_text(encoding="utf-8")
    unit = text.split("```ini\n", 1)[1].split("```", 1)[0]
    exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    argv = exec_start.removeprefix("ExecStart=").split()
    assert argv[0].endswith("/esm-tui") and argv[1] == "monitor"
    from esm_tui.monitor_cli import parser

    parser().parse_args(argv[2:])  # every flag of the unit exists
    assert "KillSignal=SIGTERM" in unit or "KillSignal" not in unit
