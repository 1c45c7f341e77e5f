"""Pure parsing of a DKIM key record's tag=value list (RFC 6376 §3.2, §3.6.1).

No I/O. `parse_dkim` returns a `DkimRecord` or raises `DkimSyntaxError` (with the position
in the text); nothing else escapes, whatever the (attacker-controlled) input. The key in
`p=` is decoded by keys.py.

Bounded work (issue 19): the tag-list is split once at `;`, each tag once at `=`; the
one pattern is a single character class under `*`. Linear in the record's length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: RFC 6376 §3.2 allows FWS (which may contain CRLF) around and between values; a bare CR or
#: LF is accepted too: DNS publishers mangle line ends, verifiers skip them alike.
_WHITESPACE = " \t\r\n"


class DkimSyntaxError(ValueError):
    """The record is not a tag=value list; `position` is the 0-based index of the fault."""

    def __init__(self, reason: str, position: int) -> None:
        super().__init__(f"{reason} (at character {position + 1})")
        self.reason = reason
        self.position = position


@dataclass(frozen=True)
class Tag:
    """One tag-spec: the value has the surrounding whitespace removed, inner folding kept."""

    name: str
    value: str
    position: int


@dataclass(frozen=True)
class DkimRecord:
    """A parsed key record: its tags in the order published."""

    tags: tuple[Tag, ...]

    def get(self, name: str) -> str | None:
        """The value of a tag (tag names are case-sensitive, RFC 6376 §3.2), or None."""
        for tag in self.tags:
            if tag.name == name:
                return tag.value
        return None

    def __contains__(self, name: object) -> bool:
        return any(tag.name == name for tag in self.tags)

    def as_dict(self) -> dict[str, str]:
        return {tag.name: tag.value for tag in self.tags}

    def items(self, name: str) -> list[str] | None:
        """A colon-separated tag (h=, s=, t=) as lower-case items; None when absent.

        The values are ABNF literals, which are case-insensitive (RFC 5234 §2.3).
        """
        value = self.get(name)
        if value is None:
            return None
        return [item.strip(_WHITESPACE).lower() for item in value.split(":") if item.strip()]


def parse_dkim(text: str) -> DkimRecord:
    """Parse a DKIM key record's tag-list (RFC 6376 §3.2, §3.6.1).

    Lenient where verifiers are: empty tag-specs (`;;`, a trailing `; `) are skipped.
    Strict where the RFC makes the whole record invalid: a tag without `=`, a bad tag
    name, a character outside VALCHAR in a value, a tag that occurs twice.
    """
    tags: list[Tag] = []
    seen: set[str] = set()
    start = 0
    for segment in text.split(";"):
        tag = _parse_tag_spec(segment, start)
        if tag is not None:
            if tag.name in seen:
                raise DkimSyntaxError(
                    f"tag {tag.name!r} occurs twice (the whole tag-list is then invalid)",
                    tag.position,
                )
            seen.add(tag.name)
            tags.append(tag)
        start += len(segment) + 1
    return DkimRecord(tuple(tags))


def _parse_tag_spec(segment: str, offset: int) -> Tag | None:
    if not segment.strip(_WHITESPACE):
        return None
    name_start = offset + len(segment) - len(segment.lstrip(_WHITESPACE))
    equals = segment.find("=")
    if equals < 0:
        raise DkimSyntaxError("expected 'tag=value', found no '='", name_start)
    name = segment[:equals].strip(_WHITESPACE)
    if not _valid_tag_name(name):
        raise DkimSyntaxError(f"invalid tag name {name!r}", name_start)
    raw_value = segment[equals + 1 :]
    value_start = offset + equals + 1
    # The common case (a clean value, such as a 400-character key) in one regex match;
    # the loop below finds and reports the first bad character.
    if _CLEAN_VALUE.fullmatch(raw_value) is None:
        for index, char in enumerate(raw_value):
            if char not in _WHITESPACE and not _valchar(char):
                raise DkimSyntaxError(
                    f"character {_describe_char(char)} is not allowed in the value of {name!r}",
                    value_start + index,
                )
    return Tag(name, raw_value.strip(_WHITESPACE), name_start)


#: A value made only of VALCHAR (%x21-7E) and the whitespace accepted around and in it.
_CLEAN_VALUE = re.compile(r"[\x21-\x7e \t\r\n]*")


def _valid_tag_name(name: str) -> bool:
    # tag-name = ALPHA *ALNUMPUNC; ALNUMPUNC = ALPHA / DIGIT / "_" (ASCII only).
    if not name or not (name[0].isascii() and name[0].isalpha()):
        return False
    return all(c.isascii() and (c.isalnum() or c == "_") for c in name)


def _valchar(char: str) -> bool:
    # VALCHAR = %x21-3A / %x3C-7E: printable ASCII except ";" (which cannot occur here).
    return "\x21" <= char <= "\x7e"


def _describe_char(char: str) -> str:
    if char.isprintable() and not char.isspace():
        return f"{char!r} (U+{ord(char):04X})"
    return f"U+{ord(char):04X}"
