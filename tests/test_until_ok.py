"""`esm-tui check --until-ok` as the real program against the demo's loopback DNS server:
late.example's DMARC record appears (after ESM_TUI_DEMO_DELAY seconds), a broken record
never does, and Ctrl-C ends it with the current worst status (SPEC §7)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ESM = [sys.executable, "-m", "esm_tui"]
CHANGE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (\S+) (\S+) (\S+) → (\S+): (.+)")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    env.pop("ESM_TUI_CONFIG", None)
    env["ESM_TUI_DEMO_DELAY"] = "2"
    return env


def test_until_ok_exits_0_once_the_late_dmarc_record_appears(env) -> None:
    args = ["check", "--demo", "late.example", "--until-ok", "--every", "0.5", "--timeout", "60s"]
    result = subprocess.run(ESM + args, capture_output=True, text=True, env=env, timeout=90)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, lines
    match = CHANGE.fullmatch(lines[0])
    assert match and match.groups()[:4] == ("late.example", "dmarc", "fail", "ok")
    assert "p=quarantine" in match.group(5)
    assert "waiting for late.example dmarc: fail" in result.stderr


def test_until_ok_gives_up_at_the_timeout_with_the_worst_status(env) -> None:
    args = ["check", "--demo", "shop.example", "--until-ok", "--every", "0.3", "--timeout", "1s"]
    result = subprocess.run(ESM + args, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1  # warn: shop.example never turns ok
    assert result.stdout == ""  # no status changed
    both = ["check", "--demo", "shop.example", "broken.example", "--until-ok", "--timeout", "1s"]
    result = subprocess.run(ESM + both, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_ends_it_cleanly_with_the_current_worst_status(env) -> None:
    args = ["check", "--demo", "broken.example", "--until-ok", "--every", "30"]
    with subprocess.Popen(
        ESM + args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # A shell's background job (CI may run the suite as one) starts with SIGINT
        # ignored, and Python then keeps it ignored: give the child Ctrl-C as a terminal would.
        preexec_fn=_default_sigint,
    ) as proc:
        try:
            assert proc.stderr is not None
            line = proc.stderr.readline()  # the first round is done: it says what it waits for
            assert line.startswith("esm-tui: waiting for broken.example mx: fail")
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=10) == 2
            assert "Traceback" not in proc.stderr.read()
        finally:
            proc.kill()  # a failed assertion must not leave `with` waiting for it forever
