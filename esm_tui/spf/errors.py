"""The one error the SPF parsers raise: what is wrong, where, and which RFC section says so."""

from __future__ import annotations


class SpfSyntaxError(ValueError):
    """A record (or macro string) that RFC 7208 does not allow.

    `position` is the 0-based character offset in the text that was parsed; `ref` the
    RFC 7208 section that the rule comes from (for the finding's reference).
    """

    def __init__(self, message: str, position: int = 0, ref: str = "RFC 7208 §4.6") -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.ref = ref

    def __str__(self) -> str:
        return f"{self.message} (at character {self.position + 1})"


def quote(text: str, limit: int = 80) -> str:
    """`text` in single quotes for a message, every non-printable or non-ASCII character
    escaped (DNS data is untrusted; lone surrogates from invalid UTF-8 must not reach a
    terminal or an encoder), cut to `limit` characters."""
    out = []
    for char in text[:limit]:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, kept by surrogateescape
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "'" + "".join(out) + ("…" if len(text) > limit else "") + "'"
