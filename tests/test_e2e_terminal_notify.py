"""The terminal notification, captured from a real terminal (SPEC §7, issue 15 item 5).

The real `esm-tui --demo` runs in a private tmux server (tests/test_e2e_tmux.py's fixture);
`pipe-pane` records every byte it writes to its terminal. The terminal reports that the
app lost the focus (the focus-out sequence, as tmux sends it when another pane is chosen);
then the demo's late.example gets its DMARC record, the dashboard sees FAIL → OK and asks
the terminal for a desktop notification: OSC 9 and OSC 777 inside tmux's passthrough, and
the bell. Nothing from DNS is in it, and no other escape sequence rides along.
"""

from __future__ import annotations

import re
import shlex
import time
from pathlib import Path

from test_e2e_tmux import Tmux, esm_tui_command, tmux  # noqa: F401

NOTE = "DMARC of late.example: FAIL → OK"


def _wait_bytes(path: Path, needle: bytes, what: str, timeout: float = 60) -> bytes:
    deadline = time.monotonic() + timeout
    data = b""
    while time.monotonic() < deadline:  # a poll of the recorded output, with a deadline
        data = path.read_bytes() if path.exists() else b""
        if needle in data:
            return data
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; recorded {len(data)} bytes")


def test_out_of_focus_the_change_is_a_desktop_notification(
    tmux: Tmux,  # noqa: F811
    tmp_path: Path,
) -> None:
    raw = tmp_path / "pane.raw"
    command = f"ESM_TUI_DEMO_DELAY=3 {shlex.quote(esm_tui_command())} --demo"
    tmux.run("new-session", "-d", "-s", "esm", "-x", "100", "-y", "30", command)
    tmux.run("pipe-pane", "-o", "-t", "esm", f"cat >> {shlex.quote(str(raw))}")
    tmux.wait(lambda s: re.search(r"FAIL\s+late\.example", s), "late.example failing")
    tmux.run("send-keys", "-t", "esm", "-H", "1b", "5b", "4f")  # ESC [ O: focus out

    data = _wait_bytes(raw, NOTE.encode(), "the notification")
    text = data.decode("utf-8", "replace")
    osc9 = f"\x1bPtmux;\x1b\x1b]9;esm-tui: {NOTE}\x07\x1b\\"
    osc777 = f"\x1bPtmux;\x1b\x1b]777;notify;esm-tui;{NOTE}\x07\x1b\\"
    assert osc9 + osc777 + "\x07" in text
    assert text.count("]9;") == 1 and text.count("]777;") == 1  # once, for the one change
    tmux.run("send-keys", "-t", "esm", "q")
