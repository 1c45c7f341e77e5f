"""Making untrusted text safe to show: the one place control characters become visible.

Textual and Rich drop only a few control characters (BEL, BS, VT, FF, CR); ESC, the C1
range and the bidi overrides would reach the terminal. Every string that came from DNS
goes through `display_safe()` before any widget, table or `check` output sees it.

Bounded work (issue 19): one pass per string, one set lookup per character; a string
without any unsafe character is returned as it came (no copy).
"""

from __future__ import annotations

import unicodedata

#: Unicode format characters that reorder or hide text (Trojan Source, CVE-2021-42574).
_BIDI_AND_INVISIBLE = frozenset(
    "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _unsafe(char: str) -> bool:
    if char in _BIDI_AND_INVISIBLE:
        return True
    category = unicodedata.category(char)
    # Cc: C0, DEL and C1 controls; Cs: lone surrogates; Co/Cn: private-use and unassigned.
    return category in ("Cc", "Cs", "Zl", "Zp") or (category == "Cf" and char != "\u00ad")


def display_safe(text: str) -> str:
    """Map every control, bidi or invisible formatting character to a visible escape.

    A literal backslash stays as it is: the raw records already show invalid UTF-8 as
    `\\xNN` (SPEC §3), and doubling backslashes would change what admins copy.
    """
    if text.isprintable() and not any(c in _BIDI_AND_INVISIBLE for c in text):
        return text
    return "".join(_escape(c) if _unsafe(c) else c for c in text)
