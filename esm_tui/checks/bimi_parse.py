"""Pure parsing of BIMI assertion records (draft-brand-indicators-for-message-identification
§4.3), and the checks of the URLs they hold.

No I/O. `parse_bimi` returns a `BimiRecord` or raises `BimiSyntaxError` with the position of
the fault; nothing else escapes, whatever the (attacker-controlled) input.

Bounded work (issue 19): the tag-list is split once at `;`, each tag once at `=`; URLs
are checked with `urllib.parse.urlsplit` and string methods, no patterns. Linear.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from esm_tui.checks.dmarc.parse import is_hostname

#: RFC 6376 §3.2 whitespace, which the BIMI tag-list inherits.
_WHITESPACE = " \t\r\n"


class BimiSyntaxError(ValueError):
    """The record is not a BIMI tag-list; `position` is the 0-based index of the fault."""

    def __init__(self, reason: str, position: int) -> None:
        super().__init__(f"{reason} (at character {position + 1})")
        self.reason = reason
        self.position = position


@dataclass(frozen=True)
class BimiRecord:
    """A parsed assertion record: tags in the order published (names case-sensitive)."""

    text: str
    tags: tuple[tuple[str, str], ...]

    def get(self, name: str) -> str | None:
        for tag, value in self.tags:
            if tag == name:
                return value
        return None

    @property
    def l(self) -> str | None:  # noqa: E743 - the tag is called l
        return self.get("l")

    @property
    def a(self) -> str | None:
        return self.get("a")

    @property
    def declined(self) -> bool:
        """§4.3.1: both l= and a= empty (an absent a= counts as empty)."""
        return self.l == "" and not self.a

    @property
    def unknown_tags(self) -> tuple[tuple[str, str], ...]:
        return tuple((t, v) for t, v in self.tags if t not in ("v", "l", "a", "lps", "avp"))


def starts_with_bimi1(text: str) -> bool:
    """§7.2 step 4: the record starts with a v= tag of exactly BIMI1."""
    name, equals, value = text.split(";", 1)[0].partition("=")
    return bool(equals) and name.strip(_WHITESPACE) == "v" and value.strip(_WHITESPACE) == "BIMI1"


def parse_bimi(text: str) -> BimiRecord:
    """Parse an assertion record (§4.3); raises BimiSyntaxError, nothing else."""
    if not starts_with_bimi1(text):
        raise BimiSyntaxError(
            "the record does not start with v=BIMI1", len(text) - len(text.lstrip(_WHITESPACE))
        )
    tags: list[tuple[str, str]] = []
    seen: set[str] = set()
    offset = 0
    for segment in text.split(";"):
        start = offset + len(segment) - len(segment.lstrip(_WHITESPACE))
        offset += len(segment) + 1
        if not segment.strip(_WHITESPACE):
            continue
        name, equals, value = segment.partition("=")
        name = name.strip(_WHITESPACE)
        if not equals:
            raise BimiSyntaxError(f"expected 'tag=value', found {segment.strip()!r}", start)
        if not _tag_name(name):
            raise BimiSyntaxError(f"invalid tag name {name!r}", start)
        if name in seen:
            raise BimiSyntaxError(f"tag {name!r} occurs twice", start)
        seen.add(name)
        tags.append((name, value.strip(_WHITESPACE)))
    return BimiRecord(text, tuple(tags))


def _tag_name(name: str) -> bool:
    # RFC 6376 §3.2 tag-name = ALPHA *ALNUMPUNC.
    return (
        bool(name)
        and name.isascii()
        and name[0].isalpha()
        and all(c.isalnum() or c == "_" for c in name)
    )


def looks_like_bimi(text: str) -> bool:
    """Whether a TXT record that does not start with v=BIMI1 still looks meant as BIMI
    (misspelt version, tags out of order): it says BIMI, or it has an l= or a= tag."""
    if "bimi" in text.lower():
        return True
    names = {part.split("=", 1)[0].strip(_WHITESPACE).lower() for part in text.split(";")}
    return bool(names & {"l", "a"})


def https_url_problem(value: str) -> str | None:
    """Why `value` is not a single https URL with a host name, or None when it is."""
    if any(c in value for c in " \t\r\n,"):
        return "it must be a single URL (no spaces or commas)"
    try:
        parts = urllib.parse.urlsplit(value)
        host = parts.hostname
    except ValueError:
        return "it is not a URL"
    if parts.scheme.lower() != "https":
        scheme = parts.scheme or "no scheme"
        return f"the scheme is {scheme}, BIMI requires https"
    if not host or not is_hostname(host.rstrip(".")):
        return "it has no fully qualified host name"
    return None
