"""Desktop notifications through the terminal itself (SPEC §7, issue 15 item 5).

When a record changes while the dashboard is not in focus, the terminal is asked to show a
desktop notification: OSC 9 (iTerm2, WezTerm, Windows Terminal, kitty, foot…) and OSC 777
(rxvt-unicode, VTE terminals such as GNOME Terminal, Konsole), then the bell for the rest.
Terminals ignore the sequence they do not know. They are escape sequences written to the
terminal, so they travel over SSH as they are; inside tmux they are wrapped in tmux's
passthrough (`ESC P tmux; … ESC \\`), which tmux forwards when `allow-passthrough` is on.

The text names a domain and a summary built from DNS data: it is made safe first (no
control character, no `;` that OSC 777 uses between fields, nothing that could end the
sequence), and cut to a length every terminal takes.
"""

from __future__ import annotations

from esm_tui.text import display_safe

#: Characters of a notification's body at most (terminals cut or refuse long ones).
MAX_TEXT = 200
_ESC, _BEL, _ST = "\x1b", "\x07", "\x1b\\"


def safe_text(text: str) -> str:
    """`text` with nothing that could end or split an OSC sequence, on one line."""
    shown = display_safe(text)  # control characters as visible escapes (`\x1b`)
    shown = shown.replace(";", ",")
    shown = " ".join(shown.split())
    return shown if len(shown) <= MAX_TEXT else shown[: MAX_TEXT - 1] + "…"


def notification(title: str, body: str, *, tmux: bool = False) -> str:
    """OSC 9 and OSC 777 for `title`/`body`, then BEL; wrapped for tmux if asked."""
    title, body = safe_text(title), safe_text(body)
    sequences = [f"{_ESC}]9;{title}: {body}{_BEL}", f"{_ESC}]777;notify;{title};{body}{_BEL}"]
    if tmux:  # passthrough: ESC P tmux; <sequence with each ESC doubled> ESC \
        sequences = [f"{_ESC}Ptmux;{s.replace(_ESC, _ESC * 2)}{_ST}" for s in sequences]
    return "".join(sequences) + _BEL
