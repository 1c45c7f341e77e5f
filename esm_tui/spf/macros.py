"""RFC 7208 §7 macros: parsing macro strings and domain-specs, and expanding them.

Parsing is pure and total (a value or `SpfSyntaxError`). Expansion is async only because
the `p` macro needs DNS (the validated name of the client address), which the caller
supplies as a coroutine function so this module does no I/O itself.

Bounded work (issue 19): `_scan` reads a macro string once, character by character;
the top label and the address hint of a domain-spec are judged with set membership and
`str.partition`, not with patterns. The `re.fullmatch` it replaced backtracked over runs
of `:` (30,000 colons: 25 s); now that input takes milliseconds.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from esm_tui.once import once
from esm_tui.spf.errors import SpfSyntaxError, quote

#: §7.1 macro-letter; c, r and t only in explanation text (§7.2).
ALL_LETTERS = frozenset("slodiphcrtv")
DOMAIN_LETTERS = frozenset("slodiphv")
DELIMITERS = ".-+,/_="
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_LABEL_CHARS = _ALNUM | {"-"}
_DIGITS = frozenset("0123456789")
_ADDRESS_CHARS = frozenset("0123456789ABCDEFabcdef:.")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Macro:
    """One `%{...}` expression: letter, transformers (digits, reversal) and delimiters."""

    letter: str
    url_escape: bool
    digits: int | None
    reverse: bool
    delimiters: str
    text: str


Part = str | Macro


@dataclass(frozen=True)
class MacroString:
    """A parsed macro-string: literal text (with %%, %_, %- already decoded) and macros."""

    text: str
    parts: tuple[Part, ...] = ()

    @once
    def letters(self) -> frozenset[str]:
        return frozenset(p.letter for p in self.parts if isinstance(p, Macro))

    @once
    def is_static(self) -> bool:
        """No macro at all: the value is known without a message or a client address."""
        return not any(isinstance(p, Macro) for p in self.parts)

    def literal(self) -> str:
        """The text with escapes decoded; for a static string that is the value."""
        return "".join(p if isinstance(p, str) else p.text for p in self.parts)


def parse_macro_string(
    text: str, *, base: int = 0, letters: frozenset[str] = ALL_LETTERS, spaces: bool = False
) -> MacroString:
    """Parse §7.1 `macro-string` (or `explain-string` with `spaces`). `base` offsets the
    positions in errors (the string's place in the whole record)."""
    parts, _tail = _scan(text, base, letters, spaces)
    return MacroString(text, tuple(parts))


def _scan(
    text: str, base: int, letters: frozenset[str], spaces: bool
) -> tuple[list[Part], str | None]:
    """The parts of a macro-string, and its trailing literal text: the raw characters after
    the last macro-expand (None when the string ends in a macro-expand, §7.1 domain-end)."""
    if "%" not in text and text.isascii() and text.isprintable() and (spaces or " " not in text):
        # Nearly every domain-spec: no macro, only visible ASCII (0x21-0x7E, and spaces
        # where allowed: printable ASCII is 0x20-0x7E). What the scan below gives for it,
        # without a Python step per character.
        return ([text] if text else []), text
    return _scan_chars(text, base, letters, spaces)


def _scan_chars(
    text: str, base: int, letters: frozenset[str], spaces: bool
) -> tuple[list[Part], str | None]:
    parts: list[Part] = []
    literal: list[str] = []
    tail_start: int | None = 0
    i = 0
    while i < len(text):
        char = text[i]
        if char == "%":
            part, i = _parse_percent(text, i, base, letters)
            if isinstance(part, Macro):
                if literal:
                    parts.append("".join(literal))
                    literal = []
                parts.append(part)
            else:
                literal.append(part)
            tail_start = None if i == len(text) else i
            continue
        if not (0x21 <= ord(char) <= 0x7E or (spaces and char == " ")):
            raise SpfSyntaxError(_bad_char(char), base + i, "RFC 7208 §7.1")
        literal.append(char)
        i += 1
    if literal:
        parts.append("".join(literal))
    return parts, None if tail_start is None else text[tail_start:]


def _bad_char(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"invalid UTF-8 byte 0x{code - 0xDC00:02x} (SPF records are 7-bit ASCII)"
    if code > 0x7E:
        return f"non-ASCII character {quote(char)} (SPF records are 7-bit ASCII, §3.1)"
    if char == " ":
        return "a space is not allowed here"
    return f"control character {quote(char)} is not allowed (terms are separated by spaces only)"


def _parse_percent(text: str, i: int, base: int, letters: frozenset[str]) -> tuple[Part, int]:
    """One `%` escape or `%{...}` macro starting at text[i]; returns it and the next index."""
    nxt = text[i + 1 : i + 2]
    simple = {"%": "%", "_": " ", "-": "%20"}
    if nxt in simple and nxt:
        return simple[nxt], i + 2
    if nxt != "{":
        what = quote(nxt) if nxt else "the end"
        raise SpfSyntaxError(
            f"'%' must be followed by '{{', '%', '_' or '-', not {what}", base + i, "RFC 7208 §7.1"
        )
    end = text.find("}", i + 2)
    if end < 0:
        raise SpfSyntaxError("macro '%{' is not closed by '}'", base + i, "RFC 7208 §7.1")
    body = text[i + 2 : end]
    return _parse_macro_body(body, text[i : end + 1], base + i, letters), end + 1


def _parse_macro_body(body: str, whole: str, position: int, letters: frozenset[str]) -> Macro:
    if not body:
        raise SpfSyntaxError("empty macro '%{}'", position, "RFC 7208 §7.1")
    letter = body[0]
    if not letter.isascii() or letter.lower() not in ALL_LETTERS:
        raise SpfSyntaxError(
            f"unknown macro letter {quote(letter)} in {quote(whole)}", position, "RFC 7208 §7.2"
        )
    if letter.lower() not in letters:
        raise SpfSyntaxError(
            f"macro letter {quote(letter)} is allowed only in explanation text (exp= TXT)",
            position,
            "RFC 7208 §7.2",
        )
    rest = body[1:]
    digit_text = rest[: len(rest) - len(rest.lstrip("0123456789"))]
    rest = rest[len(digit_text) :]
    digits = None
    if digit_text:
        if not digit_text.strip("0"):
            raise SpfSyntaxError(
                f"the number of parts in {quote(whole)} must be nonzero", position, "RFC 7208 §7.3"
            )
        # More parts than a name can have (127) means "all of them"; keeps the int small.
        digits = min(int(digit_text.lstrip("0")[:4]), 9999)
    reverse = rest[:1] in ("r", "R")
    if reverse:
        rest = rest[1:]
    bad = next((c for c in rest if c not in DELIMITERS), None)
    if bad is not None:
        raise SpfSyntaxError(
            f"{quote(bad)} is not a macro delimiter in {quote(whole)} (use one of {DELIMITERS})",
            position,
            "RFC 7208 §7.1",
        )
    return Macro(letter.lower(), letter.isupper(), digits, reverse, rest, whole)


def parse_domain_spec(text: str, *, base: int = 0) -> MacroString:
    """Parse §7.1 `domain-spec`: a macro-string that ends in a macro or in `.toplabel[.]`."""
    if not text:
        raise SpfSyntaxError("a domain name is required here", base, "RFC 7208 §4.8")
    parts, tail = _scan(text, base, DOMAIN_LETTERS, False)
    if tail is None:
        return MacroString(text, tuple(parts))  # domain-end = macro-expand
    name = tail[:-1] if tail.endswith(".") else tail
    dot = name.rfind(".")
    toplabel = name[dot + 1 :]
    if dot < 0 or not is_toplabel(toplabel):
        hint = ""
        position = base + len(text) - len(tail) + dot + 1  # the top label (or the start)
        if _looks_like_address(text):
            hint = " (an address needs ip4: or ip6:, not a name mechanism)"
            position = base
        raise SpfSyntaxError(
            f"{quote(text)} is not a valid domain: it must end in a macro or in "
            f"'.' and a top-level label that is not all-numeric{hint}",
            position,
            "RFC 7208 §7.1",
        )
    return MacroString(text, tuple(parts))


def is_toplabel(label: str) -> bool:
    """§7.1 `toplabel`: `*alphanum ALPHA *alphanum` or `1*alphanum "-" *(alphanum / "-")
    alphanum` — letters, digits and dashes, not all-numeric unless it holds a dash, and
    neither starting nor ending with a dash. One pass over the label: the grammar as a
    regular expression (a starred class around a letter) backtracks quadratically on a
    long label with a bad character at its end (4 s for 32,000 characters, measured)."""
    if not label or not set(label) <= _LABEL_CHARS:
        return False
    if "-" in label:
        return label[0] != "-" and label[-1] != "-"
    return not set(label) <= _DIGITS


def _looks_like_address(text: str) -> bool:
    """An IPv4 or IPv6 address (with an optional /cidr) written where a domain belongs:
    `[0-9.]+(/[0-9]*)?` or `[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(/[0-9]*)?`, decided with set
    tests. As a regular expression the second form (two stars over the same characters
    around a colon) cost 60 s for `a:` followed by 30,000 colons (issue 19)."""
    head, slash, cidr = text.partition("/")
    if slash and not set(cidr) <= _DIGITS:
        return False
    if not head or not set(head) <= _ADDRESS_CHARS:
        return False
    return ":" in head or set(head) <= _DIGITS | {"."}


# -- expansion --------------------------------------------------------------------------------


@dataclass
class MacroEnv:
    """The values macros expand to (§7.2). `validated_name` computes `p` lazily (DNS)."""

    sender: str
    domain: str
    ip: IpAddress
    helo: str
    receiver: str = "unknown"
    validated_name: Callable[[], Awaitable[str]] | None = None
    now: Callable[[], float] = field(default=time.time)

    @property
    def local_part(self) -> str:
        local = self.sender.rpartition("@")[0] if "@" in self.sender else ""
        return local or "postmaster"

    @property
    def sender_domain(self) -> str:
        return self.sender.rpartition("@")[2] if "@" in self.sender else self.sender

    async def value(self, letter: str) -> str:
        match letter:
            case "s":
                return f"{self.local_part}@{self.sender_domain}"
            case "l":
                return self.local_part
            case "o":
                return self.sender_domain
            case "d":
                return self.domain
            case "i":
                return dotted_ip(self.ip)
            case "p":
                return await self.validated_name() if self.validated_name else "unknown"
            case "v":
                return "in-addr" if self.ip.version == 4 else "ip6"
            case "h":
                return self.helo
            case "c":
                return str(self.ip)
            case "r":
                return self.receiver
            case "t":
                return str(int(self.now()))
        raise ValueError(letter)


def dotted_ip(ip: IpAddress) -> str:
    """§7.3: the `i` macro. IPv6 as 32 dot-separated nibbles, upper-case like the reference
    implementation (the RFC 7208 test suite expects it; DNS names ignore case anyway)."""
    if ip.version == 4:
        return str(ip)
    return ".".join(ip.exploded.replace(":", "").upper())


async def expand(spec: MacroString, env: MacroEnv) -> str:
    """Expand a parsed macro-string (§7.3): transformers, delimiters, URL escaping."""
    out: list[str] = []
    for part in spec.parts:
        if isinstance(part, str):
            out.append(part)
            continue
        value = await env.value(part.letter)
        out.append(_transform(value, part))
    return "".join(out)


def _transform(value: str, macro: Macro) -> str:
    delimiters = macro.delimiters or "."
    pieces = re.split("[" + re.escape(delimiters) + "]", value)
    if macro.reverse:
        pieces.reverse()
    if macro.digits is not None and macro.digits < len(pieces):
        pieces = pieces[len(pieces) - macro.digits :]
    result = ".".join(pieces)
    if macro.url_escape:
        # §7.3: upper-case letters are URL-escaped; only RFC 3986 "unreserved" stays.
        result = urllib.parse.quote(result, safe="-._~", errors="surrogateescape")
    return result


@functools.lru_cache(maxsize=4096)  # pure; the same include targets for every domain
def query_name(expanded: str) -> str | None:
    """The DNS name to ask for an expanded target, or None when no query can be made.

    §7.3: a name over 253 characters loses labels from the left until it fits; a trailing
    dot is ignored (§7.3 / the test suite's trailing-dot cases). A name with an empty or an
    over-long label, or non-ASCII text, cannot be sent; RFC 7208 leaves that case open and
    we treat it as "no such name" (a no-match), like §4.3 does for the initial domain.
    """
    name = expanded[:-1] if expanded.endswith(".") else expanded
    while len(name) > 253 and "." in name:
        name = name.split(".", 1)[1]
    if not name or len(name) > 253 or not name.isascii():
        return None
    if any(not label or len(label) > 63 for label in name.split(".")):
        return None
    return name


def presentation(name: str) -> str:
    """`name` in the text form dnspython parses: a backslash (legal in an SPF target, and
    possibly from a macro's value) is escaped, so it reaches the wire as itself."""
    return name.replace("\\", "\\\\")


def valid_initial_domain(domain: str) -> bool:
    """§4.3: the domain check_host starts from must be a well-formed, multi-label name.
    A domain literal (`[192.0.2.1]`) or a bare address is not one."""
    name = domain[:-1] if domain.endswith(".") else domain
    if query_name(name) != name or "." not in name:
        return False
    if name.startswith("[") or name.rsplit(".", 1)[1].isdigit():
        return False  # a domain literal, or a last label of digits (an IPv4 address too)
    # Any other address has a colon: parsing only those spares every domain a ValueError.
    return ":" not in name or not _looks_like_ip(name)


def _looks_like_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
