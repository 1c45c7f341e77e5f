"""Pure parsing of DMARC policy records (RFC 9989 §4.7, §4.8).

No I/O. `parse_dmarc` returns a `DmarcRecord` or raises `DmarcSyntaxError` with the position
of the fault; nothing else escapes, whatever the (attacker-controlled) input.

Where the line is drawn: RFC 9989 §4.8 has receivers discard a syntax error "in favor of
default values", so a bad *value* is not fatal: it is kept in `DmarcRecord.problems` and the
tag falls back to its default. What makes the tag-list itself unreadable is a syntax error:
a record that does not start with `v=DMARC1`, a term without `=`, a tag name that is not
letters, or a tag given twice (RFC 6376 §3.2, whose tag-list syntax DMARC uses).

Bounded work (issue 19): the tag-list is split once at `;` and each URI list once at
`,`; every pattern below is anchored with one quantifier per class, so each tag and URI is
read in linear time and the record in time linear in its length. The number of findings
a record can produce is capped by checks/limits.py (30,000 empty URIs are counted, not
listed).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

#: RFC 9989 §4.8 separates with WSP; CR/LF are accepted too (publishers mangle line ends).
_WHITESPACE = " \t\r\n"

POLICIES = ("none", "quarantine", "reject")

#: Tags of RFC 9989 §4.7.
KNOWN_TAGS = frozenset({"v", "p", "sp", "np", "adkim", "aspf", "fo", "psd", "rua", "ruf", "t"})
#: Tags of RFC 7489 that RFC 9989 removed (Appendix C.5.2).
REMOVED_TAGS = frozenset({"pct", "rf", "ri"})

_SINGLE_VALUES = {
    "adkim": ("r", "s"),
    "aspf": ("r", "s"),
    "t": ("y", "n"),
    "psd": ("y", "n", "u"),
}

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_SIZE = re.compile(r"[0-9]+[kmgtKMGT]?")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_ATEXT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+;=%]+")


class DmarcSyntaxError(ValueError):
    """The record is not a DMARC tag-list; `position` is the 0-based index of the fault."""

    def __init__(self, reason: str, position: int) -> None:
        super().__init__(f"{reason} (at character {position + 1})")
        self.reason = reason
        self.position = position


@dataclass(frozen=True)
class Tag:
    """One tag: the name lower-cased (RFC 5234 literals are case-insensitive), value stripped."""

    name: str
    value: str
    position: int


@dataclass(frozen=True)
class ReportUri:
    """One entry of `rua`/`ruf`, as written, and what was understood of it."""

    text: str
    scheme: str | None = None
    address: str | None = None  # the mailto addr-spec
    host: str | None = None  # lower-case, no trailing dot (mailto domain or URI host)
    size: str | None = None  # the obsolete "!size" suffix, RFC 9989 §4.8 obs-dmarc-report-size
    error: str | None = None  # why it is not a valid reporting URI

    @property
    def valid(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Problem:
    """A value a receiver ignores (falling back to the default), and why."""

    tag: str
    value: str
    reason: str
    position: int


@dataclass(frozen=True)
class DmarcRecord:
    """A parsed DMARC policy record. Typed fields hold valid values only (else None)."""

    text: str
    tags: tuple[Tag, ...]
    p: str | None = None
    sp: str | None = None
    np: str | None = None
    adkim: str | None = None
    aspf: str | None = None
    t: str | None = None
    psd: str | None = None
    fo: str | None = None
    pct: int | None = None
    rua: tuple[ReportUri, ...] = ()
    ruf: tuple[ReportUri, ...] = ()
    problems: tuple[Problem, ...] = field(default=())

    def get(self, name: str) -> str | None:
        """The raw value of a tag (name case-insensitive), or None when absent."""
        name = name.lower()
        for tag in self.tags:
            if tag.name == name:
                return tag.value
        return None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    @property
    def unknown_tags(self) -> tuple[Tag, ...]:
        return tuple(t for t in self.tags if t.name not in KNOWN_TAGS | REMOVED_TAGS)

    @property
    def removed_tags(self) -> tuple[Tag, ...]:
        return tuple(t for t in self.tags if t.name in REMOVED_TAGS)

    @property
    def p_follows_v(self) -> bool:
        """RFC 7489 §6.4 wanted p right after v; RFC 9989 allows any order."""
        return "p" not in self or (len(self.tags) > 1 and self.tags[1].name == "p")

    def problem(self, tag: str) -> Problem | None:
        for problem in self.problems:
            if problem.tag == tag:
                return problem
        return None


def starts_with_dmarc1(text: str) -> bool:
    """RFC 9989 §4.10 step 2: does the record start with a `v` tag of value `DMARC1`?

    `v` is case-insensitive, `DMARC1` case-sensitive (RFC 9989 §4.8 `%s"DMARC1"`).
    """
    first = text.split(";", 1)[0]
    name, equals, value = first.partition("=")
    return (
        bool(equals)
        and name.strip(_WHITESPACE).lower() == "v"
        and (value.strip(_WHITESPACE) == "DMARC1")
    )


def parse_dmarc(text: str) -> DmarcRecord:
    """Parse one DMARC policy record (RFC 9989 §4.8)."""
    if len(text) <= MEMO_MAX_TEXT:
        return _parse_memo(text)
    return _parse(text)


#: Records memoized by `_parse_memo` (real ones are well under this); bounds the memory
#: a flood of large hostile records could hold.
MEMO_MAX_TEXT = 512


@functools.lru_cache(maxsize=1024)
def _parse_memo(text: str) -> DmarcRecord:
    """The discovery, the policy checks and the report checks each read the same record;
    `DmarcRecord` is frozen, so they share one parse. A syntax error is not memoized
    (lru_cache stores no exception): it is raised afresh each time."""
    return _parse(text)


def _parse(text: str) -> DmarcRecord:
    if not starts_with_dmarc1(text):
        position = len(text) - len(text.lstrip(_WHITESPACE))
        raise DmarcSyntaxError("the record does not start with v=DMARC1", position)
    tags = _split_tags(text)
    return _interpret(text, tags)


def _split_tags(text: str) -> list[Tag]:
    tags: list[Tag] = []
    seen: set[str] = set()
    offset = 0
    for segment in text.split(";"):
        tag = _parse_term(segment, offset)
        offset += len(segment) + 1
        if tag is None:
            continue  # ";;" or a trailing ";": receivers skip empty terms
        if tag.name in seen:
            raise DmarcSyntaxError(
                f"tag {tag.name!r} occurs twice (the tag-list is then invalid)", tag.position
            )
        seen.add(tag.name)
        tags.append(tag)
    return tags


def _parse_term(segment: str, offset: int) -> Tag | None:
    stripped = segment.strip(_WHITESPACE)
    if not stripped:
        return None
    start = offset + len(segment) - len(segment.lstrip(_WHITESPACE))
    name, equals, value = segment.partition("=")
    if not equals:
        raise DmarcSyntaxError(f"expected 'tag=value', found {stripped!r} without '='", start)
    name = name.strip(_WHITESPACE)
    if not name or not (name.isascii() and name.isalpha()):
        raise DmarcSyntaxError(f"invalid tag name {name!r} (letters only)", start)
    return Tag(name.lower(), value.strip(_WHITESPACE), start)


def _interpret(text: str, tags: list[Tag]) -> DmarcRecord:
    values: dict[str, object] = {}
    problems: list[Problem] = []
    for tag in tags:
        reason = _check_value(tag, values)
        if reason is not None:
            problems.append(Problem(tag.name, tag.value, reason, tag.position))
    return DmarcRecord(
        text=text,
        tags=tuple(tags),
        problems=tuple(problems),
        **values,  # type: ignore[arg-type]
    )


def _check_value(tag: Tag, values: dict[str, object]) -> str | None:
    """Store a valid value of a known tag in `values`; return why it is invalid, if it is."""
    name, value = tag.name, tag.value
    if name in ("rf", "ri"):
        return None  # removed by RFC 9989: ignored whatever they hold
    if name in ("rua", "ruf"):
        # Each URI carries its own verdict (ReportUri.error).
        values[name] = parse_uri_list(value)
        return None
    if not _printable(value):
        return "contains characters outside printable ASCII"
    if name in ("p", "sp", "np"):
        if value.lower() not in POLICIES:
            return "expected none, quarantine or reject"
        values[name] = value.lower()
    elif name in _SINGLE_VALUES:
        allowed = _SINGLE_VALUES[name]
        if value.lower() not in allowed:
            return "expected " + " or ".join(allowed)
        values[name] = value.lower()
    elif name == "fo":
        reason = _check_fo(value)
        if reason is not None:
            return reason
        values["fo"] = value.lower()
    elif name == "pct":
        if not value.isdigit() or int(value) > 100:
            return "expected a whole number from 0 to 100"
        values["pct"] = int(value)
    return None


def _printable(value: str) -> bool:
    # dmarc-value = %x20-3A / %x3C-7E (a ";" cannot occur inside a term).
    return all(" " <= c <= "~" or c == "\t" for c in value)


def _check_fo(value: str) -> str | None:
    items = [item.strip(_WHITESPACE).lower() for item in value.split(":")]
    if not value.strip(_WHITESPACE) or any(item not in ("0", "1", "d", "s") for item in items):
        return "expected a colon-separated list of 0, 1, d and s"
    if "0" in items and "1" in items:
        return "0 and 1 are mutually exclusive"
    if len(items) != len(set(items)):
        return "an option is listed twice"
    return None


def parse_uri_list(value: str) -> tuple[ReportUri, ...]:
    """Split a `rua`/`ruf` value at commas and check each URI (RFC 9989 §4.8 dmarc-urilist)."""
    return tuple(parse_report_uri(part.strip(_WHITESPACE)) for part in value.split(","))


def parse_report_uri(text: str) -> ReportUri:
    """One DMARC reporting URI: a URI (RFC 3986), optionally with the obsolete `!size`."""
    if not text:
        return ReportUri(text, error="empty URI")
    uri, size = text, None
    if "!" in text:
        uri, _, size = text.rpartition("!")
        if not _SIZE.fullmatch(size):
            return ReportUri(
                text, error=f"'!{size}' is not a size limit ('!' must be written %21 in a URI)"
            )
    scheme, colon, rest = uri.partition(":")
    if not colon or not _SCHEME.fullmatch(scheme):
        return ReportUri(text, size=size, error="no URI scheme (expected e.g. mailto:)")
    scheme = scheme.lower()
    if not rest or not _URI_CHARS.fullmatch(rest):
        return ReportUri(text, scheme, size=size, error="characters not allowed in a URI")
    if scheme == "mailto":
        return _mailto(text, rest, size)
    host = _uri_host(rest)
    return ReportUri(text, scheme, host=host, size=size)


def _mailto(text: str, rest: str, size: str | None) -> ReportUri:
    address = rest.split("?", 1)[0]
    local, at, domain = address.rpartition("@")
    if not at or not local:
        return ReportUri(text, "mailto", size=size, error=f"{address!r} is not an email address")
    if not _ATEXT.fullmatch(local) or local.startswith(".") or local.endswith("."):
        return ReportUri(text, "mailto", size=size, error=f"invalid mailbox name {local!r}")
    host = domain.lower().rstrip(".")
    if not host:
        return ReportUri(text, "mailto", size=size, error=f"no domain after '@' in {address!r}")
    if not is_hostname(host):
        return ReportUri(text, "mailto", size=size, error=f"invalid domain {domain!r}")
    return ReportUri(text, "mailto", address=address, host=host, size=size)


def _uri_host(rest: str) -> str | None:
    if not rest.startswith("//"):
        return None
    authority = rest[2:].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    host = authority.rpartition("@")[2].rsplit(":", 1)[0].lower().rstrip(".")
    return host if is_hostname(host) else None


def is_hostname(name: str) -> bool:
    """A DNS host name (LDH labels, A-labels for IDN), without the trailing dot."""
    labels = name.split(".")
    return (
        0 < len(name) <= 253
        and len(labels) >= 2
        and all(_LABEL.fullmatch(label) for label in labels)
    )


def format_record(tags: list[tuple[str, str]]) -> str:
    """A record text from (tag, value) pairs; `v=DMARC1` first, as RFC 9989 §4.7 requires."""
    body = [f"{name}={value}" for name, value in tags if name != "v"]
    return "; ".join(["v=DMARC1", *body])
