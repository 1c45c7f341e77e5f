"""`--help` speaks to users (issue 17 item 8): no command sends them to a SPEC they do not
have, and each says what it is for."""

from __future__ import annotations

import subprocess
import sys

import pytest

COMMANDS = ["", "check", "init", "spf-eval", "history", "monitor"]


def _help(command: str) -> str:
    argv = [sys.executable, "-m", "esm_tui", *([command] if command else []), "--help"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_help_names_no_spec_and_has_a_description(command: str) -> None:
    text = _help(command)
    assert "SPEC" not in text
    description = text.split("\n\n")[1]  # the paragraph after the usage lines
    assert len(description.split()) >= 6, description


def test_history_help_says_what_it_shows() -> None:
    text = " ".join(_help("history").split())
    assert "status change" in text and "history database" in text
    assert "the domain whose records to show" in text
