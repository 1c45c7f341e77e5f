"""The TXT records of MTA-STS (`_mta-sts`, RFC 8461 §3.1) and TLS-RPT (`_smtp._tls`,
RFC 8460 §3): the same grammar, a version then `;`-separated `name=value` fields.

    record    = version 1*(field-delim field) [field-delim]
    field-delim = *WSP ";" *WSP
    field     = name "=" value
    name      = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
    value     = 1*(%x21-3A / %x3C / %x3E-7E)      ; printable ASCII but ";" and "="

(`rua`'s value holds URIs separated by `,` with optional spaces, parsed by tls_rpt.)

Bounded work: one pass over the text with `str.split` and a compiled regex per field, so a
hostile 64 KB record costs linear time (tests/test_bounded_parsers.py style).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}\Z")
_VALUE = re.compile(r"[\x21-\x3a\x3c\x3e-\x7e]+\Z")
#: rua's value may hold spaces after its commas (`*WSP "," *WSP`).
_SPACED_VALUE = re.compile(
    r"[\x21-\x3a\x3c\x3e-\x7e]+(?:[ \t]*,[ \t]*[\x21-\x3a\x3c\x3e-\x7e]+)*\Z"
)


class TxtSyntaxError(ValueError):
    """The record does not follow the grammar; `reason` says where."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TxtRecord:
    """A parsed record: its fields in order (names as written; repeats kept)."""

    text: str
    fields: tuple[tuple[str, str], ...]

    def first(self, name: str) -> str | None:
        """The first value of `name` (names compare case-sensitively, as the ABNF's %s)."""
        for key, value in self.fields:
            if key == name:
                return value
        return None

    def count(self, name: str) -> int:
        return sum(1 for key, _ in self.fields if key == name)


def starts_with(text: str, version: str) -> bool:
    """Whether `text` is a record of this kind: it starts with the version field, exactly
    (RFC 8461 §3.1 and RFC 8460 §3 discard every other TXT record at the name)."""
    head = text.split(";", 1)[0].strip(" \t")
    return head == version


def parse(text: str, version: str, spaced: tuple[str, ...] = ()) -> TxtRecord:
    """Parse a record that starts with `version` (e.g. `v=STSv1`). `spaced` names the fields
    whose values may hold `, ` lists (TLS-RPT's rua). Raises TxtSyntaxError."""
    parts = text.split(";")
    if parts[0].strip(" \t") != version:
        raise TxtSyntaxError(f"the record must start with {version}")
    if parts[0] != parts[0].lstrip(" \t"):
        raise TxtSyntaxError(f"a space before {version}")
    fields: list[tuple[str, str]] = []
    last = len(parts) - 1
    for index, part in enumerate(parts[1:], start=1):
        item = part.strip(" \t")
        if not item:
            if index == last:
                break  # the optional trailing ";"
            raise TxtSyntaxError(f'an empty field (";;") after field {index}')
        name, eq, value = item.partition("=")
        if not eq:
            raise TxtSyntaxError(f'field {index} ({_short(item)}) has no "="')
        if not _NAME.match(name):
            raise TxtSyntaxError(f"field {index} has an invalid name ({_short(name)})")
        pattern = _SPACED_VALUE if name in spaced else _VALUE
        if not pattern.match(value):
            raise TxtSyntaxError(
                f"the value of {name} ({_short(value)}) is empty or holds a character the "
                'grammar does not allow (a space, "=", a control or non-ASCII character)'
            )
        fields.append((name, value))
    if not fields:
        raise TxtSyntaxError(f"no field after {version}")
    return TxtRecord(text, tuple(fields))


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
