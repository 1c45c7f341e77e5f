"""display_safe: nothing from DNS reaches the terminal as a control character."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from esm_tui.text import display_safe


def test_escapes_are_made_visible() -> None:
    assert display_safe("\x1b[2J") == "\\x1b[2J"
    assert display_safe("\x1b]52;c;SGVsbG8=\x07") == "\\x1b]52;c;SGVsbG8=\\x07"
    assert display_safe("a\x00b\x7f\x9b") == "a\\x00b\\x7f\\x9b"
    assert display_safe("abc\u202egnp.exe") == "abc\\u202egnp.exe"
    assert display_safe("zero\u200bwidth") == "zero\\u200bwidth"


def test_plain_text_and_markup_are_untouched() -> None:
    for text in ["v=spf1 -all", "[@click=app.quit]", "[/x]", "café ü 日本", "a\\xffb"]:
        assert display_safe(text) == text


@given(st.text())
def test_output_never_contains_controls(text: str) -> None:
    out = display_safe(text)
    assert all(ord(c) >= 0x20 and not 0x7F <= ord(c) <= 0x9F for c in out)
    assert "\u202e" not in out and "\u2066" not in out
