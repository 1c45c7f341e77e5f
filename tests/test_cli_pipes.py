"""A reader that closes early (`esm-tui check | head -1`, `| true`): issue 17 item 9.

Before, `check` printed a BrokenPipeError traceback and exited 1, which a monitoring
script reads as "warn". Now it ends quietly with 141 (128 + SIGPIPE), the status a shell
gives any tool whose reader left. The real command runs with a real pipe whose read end
is closed before it writes anything.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from esm_tui.cli import READER_GONE

ESM = [sys.executable, "-m", "esm_tui"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env.pop("ESM_TUI_CONFIG", None)
    return env


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--demo"],
        ["check", "--demo", "--json"],
        ["check", "--demo", "--format", "nagios"],
    ],
    ids=["table", "json", "nagios"],
)
def test_a_reader_that_leaves_early_ends_it_quietly(args: list[str], env: dict[str, str]) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first byte is written
    try:
        proc = subprocess.run(
            ESM + args, stdout=write, stderr=subprocess.PIPE, text=True, env=env, timeout=120
        )
    finally:
        os.close(write)
    assert proc.returncode == READER_GONE == 141
    assert "Traceback" not in proc.stderr
    assert "BrokenPipe" not in proc.stderr
    assert proc.stderr == ""  # nothing to say: the reader chose to leave
