"""End to end: the real `esm-tui --demo` in an 80×24 tmux window, read off the screen.

A private tmux server (its own socket), an isolated HOME and XDG directories (no user
config is read or written), the installed console script. The test waits for what the
screen shows, polling capture-pane with a deadline, and never asserts on elapsed time.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from esm_tui.demo.scenario import DEMO_DOMAINS

TMUX = shutil.which("tmux") or "/usr/bin/tmux"


def esm_tui_command() -> str:
    """The `esm-tui` console script of this environment."""
    beside = Path(sys.executable).parent / "esm-tui"
    found = str(beside) if beside.exists() else shutil.which("esm-tui")
    assert found, "the esm-tui console script is not installed (pip install -e .)"
    return found


class Tmux:
    def __init__(self, socket: str, env: dict[str, str]) -> None:
        self.socket = socket
        self.env = env

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [TMUX, "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True, text=True, env=self.env, timeout=20, check=check,
        )  # fmt: skip

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "esm").stdout

    def pane(self, fmt: str) -> str:
        return self.run("display-message", "-p", "-t", "esm", fmt).stdout.strip()

    def wait(self, condition: Callable[[str], object], what: str, timeout: float = 30) -> str:
        """Poll the screen until `condition(screen)` holds."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if condition(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; the screen:\n{screen}")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    if not Path(TMUX).exists():
        pytest.fail("tmux is needed for the end-to-end test (apt-get install tmux)")
    home = tmp_path / "home"
    for sub in ("config", "data", "cache", "state"):
        (home / sub).mkdir(parents=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_STATE_HOME": str(home / "state"),
        "TMUX_TMPDIR": str(tmp_path),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    server = Tmux(f"esm-e2e-{uuid.uuid4().hex[:8]}", env)
    yield server
    server.run("kill-server", check=False)


def test_esm_tui_demo_in_tmux(tmux: Tmux, tmp_path: Path) -> None:
    # The exit status goes to a file: tmux's own #{pane_dead_status} is not always set.
    status_file = tmp_path / "exit-status"
    command = f"{shlex.quote(esm_tui_command())} --demo; echo $? > {shlex.quote(str(status_file))}"
    tmux.run("new-session", "-d", "-s", "esm", "-x", "80", "-y", "24", command)
    assert tmux.pane("#{pane_width}x#{pane_height}") == "80x24"

    # The cards fill in: the sidebar lists the demo domains with their statuses.
    screen = tmux.wait(
        lambda s: (
            all(re.search(rf"(OK|WARN|FAIL)\s+{d}", s) for d in DEMO_DOMAINS)
            and " ago · next" in s
            and "Quit" in s
        ),
        "the demo's cards",
    )
    assert "esm-tui" in screen and "demo" in screen and "resolver 127.0.0.1:" in screen
    assert re.search(r"✓ OK\s+good\.example", screen)
    assert re.search(r"✗ FAIL\s+broken\.example", screen)
    for label in ("MX", "SPF", "DKIM", "DMARC", "BIMI"):
        assert f"─ {label} ─" in screen
    assert "q Quit" in screen.splitlines()[-1]
    # The demo server is also the zones' authoritative server: the cards say where the
    # records stand ("published on 1/1 servers").
    tmux.wait(lambda s: "published on 1/1" in s, "the propagation line")

    # r: the selected domain is checked again (its cards say so within a second or two).
    tmux.run("send-keys", "-t", "esm", "r")
    tmux.wait(lambda s: re.search(r"(?<!\d)[01] s ago", s), "a fresh check after r")

    # Into the cards, and the detail of the first one.
    tmux.run("send-keys", "-t", "esm", "Enter")
    tmux.wait(lambda s: "┏━ MX ━" in s, "the MX card focused")
    tmux.run("send-keys", "-t", "esm", "Enter")
    screen = tmux.wait(lambda s: "MX of good.example" in s, "the MX detail")
    assert "Records as published" in screen and "mx1.esm-relay.example." in screen
    tmux.run("send-keys", "-t", "esm", "Escape")
    tmux.wait(lambda s: "─ Domains " in s, "the dashboard again")

    # q quits cleanly, and no config was written to the isolated home.
    tmux.run("send-keys", "-t", "esm", "q")
    deadline = time.monotonic() + 20
    while not (status_file.exists() and status_file.read_text().strip()):
        assert time.monotonic() < deadline, "esm-tui did not exit after q"
        time.sleep(0.2)
    assert status_file.read_text().strip() == "0"
    assert not any((tmp_path / "home" / "config").iterdir())
