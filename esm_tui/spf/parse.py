"""The SPF record parser (RFC 7208 §4.5, §4.6, §5, §6, §7, ABNF in §12): pure and total.

`parse_spf(text)` returns an `SpfRecord` or raises `SpfSyntaxError` with the position of the
first problem. Any syntax error anywhere makes the whole record a permerror (§4.6), so the
parser checks every term even after `all`; unknown but well-formed modifiers are kept and
ignored (§6).

Bounded work (issue 19): one pass over the record. Terms are split once at spaces; each
term is matched by anchored patterns with a single quantifier per character class (no
nested or adjacent quantifiers over the same characters), so a failed match costs at most
a linear walk back; domain-specs go to macros.py's scan. A 64 KB record of one hostile
shape parses in under 0.6 s of CPU (tests/test_bounded_parsers.py); there is no length
cut — records over 450 bytes get the `spf.record-size` note (record_size.py).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass

from esm_tui.once import once
from esm_tui.spf.errors import SpfSyntaxError, quote
from esm_tui.spf.macros import MacroString, parse_domain_spec, parse_macro_string

QUALIFIER_RESULTS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}
MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
#: §4.6.4: the terms that cost a DNS query (plus the redirect modifier).
LOOKUP_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})

_VERSION = re.compile(r"v=spf1(?: |\Z)", re.IGNORECASE)
_MODIFIER = re.compile(r"([A-Za-z][A-Za-z0-9_.\-]*)=(.*)\Z", re.DOTALL)
_DIRECTIVE = re.compile(r"([+\-~?]?)([A-Za-z][A-Za-z0-9]*)(.*)\Z", re.DOTALL)
#: §12 qnum: 0-255 without leading zeros; ip4-network is four of them.
_QNUM = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
_IP4 = re.compile(rf"{_QNUM}(?:\.{_QNUM}){{3}}\Z")
_IP6_CHARS = re.compile(r"[0-9A-Fa-f:.]+\Z")
_DUAL_CIDR = re.compile(r"(/([0-9]+))?(//([0-9]+))?\Z")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Mechanism:
    """A directive: qualifier + mechanism (§4.6.2). `text` is the term as written."""

    qualifier: str
    name: str
    text: str
    position: int
    domain_spec: MacroString | None = None
    network: Network | None = None
    cidr4: int | None = None
    cidr6: int | None = None

    @property
    def result(self) -> str:
        """The result when this mechanism matches (§4.6.2)."""
        return QUALIFIER_RESULTS[self.qualifier]

    @property
    def costs_lookup(self) -> bool:
        return self.name in LOOKUP_MECHANISMS


@dataclass(frozen=True)
class Modifier:
    """`name=value` (§4.6.1); `name` is lower-case."""

    name: str
    value: MacroString
    text: str
    position: int


Term = Mechanism | Modifier


@dataclass(frozen=True)
class SpfRecord:
    """A parsed record. Frozen, and shared between callers (see `_clean_record`), so the
    derived views below are computed once per record."""

    text: str
    terms: tuple[Term, ...]

    @once
    def mechanisms(self) -> tuple[Mechanism, ...]:
        return tuple(t for t in self.terms if isinstance(t, Mechanism))

    @once
    def redirect(self) -> Modifier | None:
        return self._modifier("redirect")

    @once
    def exp(self) -> Modifier | None:
        return self._modifier("exp")

    @once
    def unknown_modifiers(self) -> tuple[Modifier, ...]:
        return tuple(
            t for t in self.terms if isinstance(t, Modifier) and t.name not in ("redirect", "exp")
        )

    @once
    def all(self) -> Mechanism | None:
        """The first `all`: evaluation never goes past it (§5.1)."""
        return next((m for m in self.mechanisms if m.name == "all"), None)

    def _modifier(self, name: str) -> Modifier | None:
        return next((t for t in self.terms if isinstance(t, Modifier) and t.name == name), None)


def is_spf_record(text: str) -> bool:
    """§4.5: a record is an SPF record when it starts with `v=spf1` (any case) followed by a
    space or the end. `v=spf10` and `v=spf1mx` (strings glued without a space) are not."""
    return _VERSION.match(text) is not None


def parse_spf(text: str) -> SpfRecord:
    """Parse a whole record; raises SpfSyntaxError (message, position, RFC reference)."""
    if not is_spf_record(text):
        raise _version_error(text)
    record, errors = parse_lenient(text)
    if errors:
        raise errors[0][1]
    return record


def parse_lenient(text: str) -> tuple[SpfRecord, list[tuple[str, SpfSyntaxError]]]:
    """For counting and repairs, not for evaluation: the record made of its valid terms
    (a repeated redirect/exp dropped), and each rejected term with its error, in order."""
    if len(text) <= MEMO_MAX_TEXT:
        clean = _clean_record(text)
        if clean is not None:
            return clean, []
    return _parse_lenient(text)


#: Records memoized by `_clean_record`: real ones are a few hundred characters; the bounds
#: keep a flood of large hostile records from holding more than a few tens of MB.
MEMO_MAX_TEXT = 512
MEMO_MAX_TERMS = 40


@functools.lru_cache(maxsize=2048)
def _clean_record(text: str) -> SpfRecord | None:
    """The record when it parses without error (and is small), else None: errors are not
    memoized, as an exception object must be raised afresh each time. A shared include is
    met by every domain that uses it, and a domain's own record by its syntax check, its
    tree walk and each check_host() run; records are frozen, so they can share one parse."""
    record, errors = _parse_lenient(text)
    return None if errors or len(record.terms) > MEMO_MAX_TERMS else record


def _parse_lenient(text: str) -> tuple[SpfRecord, list[tuple[str, SpfSyntaxError]]]:
    if not is_spf_record(text):
        return SpfRecord(text, ()), [(text, _version_error(text))]
    terms: list[Term] = []
    errors: list[tuple[str, SpfSyntaxError]] = []
    seen: set[str] = set()
    for start, token in split_terms(text):
        try:
            term = parse_term(token, start)
        except SpfSyntaxError as exc:
            errors.append((token, exc))
            continue
        if isinstance(term, Modifier) and term.name in ("redirect", "exp"):
            if term.name in seen:
                message = f"'{term.name}=' appears more than once"
                errors.append((token, SpfSyntaxError(message, start, "RFC 7208 §6")))
                continue
            seen.add(term.name)
        terms.append(term)
    return SpfRecord(text, tuple(terms)), errors


def _version_error(text: str) -> SpfSyntaxError:
    return SpfSyntaxError(
        f"{quote(text, 20)} is not an SPF record: it must start with 'v=spf1' and a space",
        0,
        "RFC 7208 §4.5",
    )


def split_terms(text: str) -> list[tuple[int, str]]:
    """The terms after the version, with their offsets. Only SP separates terms (§12:
    `terms = *( 1*SP ( directive / modifier ) )`); any other whitespace stays inside a term
    and is then rejected by the term's grammar."""
    found: list[tuple[int, str]] = []
    i = 6  # len("v=spf1")
    while i < len(text):
        if text[i] == " ":
            i += 1
            continue
        end = text.find(" ", i)
        end = len(text) if end < 0 else end
        found.append((i, text[i:end]))
        i = end
    return found


def parse_term(token: str, position: int = 0) -> Term:
    """One term (directive or modifier); `position` is its offset in the record."""
    modifier = _MODIFIER.match(token)
    if modifier:
        return _modifier(modifier.group(1), modifier.group(2), token, position)
    directive = _DIRECTIVE.match(token)
    if not directive:
        raise SpfSyntaxError(
            f"{quote(token)} is neither a mechanism nor a modifier", position, "RFC 7208 §4.6.1"
        )
    qualifier, name, rest = directive.groups()
    name = name.lower()
    if name not in MECHANISMS:
        raise SpfSyntaxError(
            f"unknown mechanism {quote(token)} (known: {', '.join(MECHANISMS)})",
            position,
            "RFC 7208 §5",
        )
    where = position + len(qualifier) + len(name)
    return _MECHANISM_PARSERS[name](qualifier or "+", name, rest, token, position, where)


def _modifier(name: str, value: str, token: str, position: int) -> Modifier:
    key = name.lower()
    where = position + len(name) + 1
    if key in ("redirect", "exp"):
        # Known modifiers are never "unknown-modifier": their value must be a domain-spec
        # (the suite's redirect-syntax-error / exp-syntax-error cases, RFC 7208 erratum).
        ref = "RFC 7208 §6.1" if key == "redirect" else "RFC 7208 §6.2"
        if not value:
            raise SpfSyntaxError(f"'{key}=' needs a domain name", where, ref)
        spec = parse_domain_spec(value, base=where)
    else:
        spec = parse_macro_string(value, base=where)
    return Modifier(key, spec, token, position)


def _no_argument(q: str, name: str, rest: str, token: str, pos: int, where: int) -> Mechanism:
    if rest:
        raise SpfSyntaxError(
            f"{quote(token)}: 'all' takes no argument or prefix length", where, "RFC 7208 §5.1"
        )
    return Mechanism(q, name, token, pos)


def _domain_required(q: str, name: str, rest: str, token: str, pos: int, where: int) -> Mechanism:
    """include and exists: `":" domain-spec`, no CIDR."""
    ref = "RFC 7208 §5.2" if name == "include" else "RFC 7208 §5.7"
    if not rest.startswith(":"):
        raise SpfSyntaxError(f"{quote(token)}: '{name}' needs ':' and a domain", where, ref)
    return Mechanism(q, name, token, pos, parse_domain_spec(rest[1:], base=where + 1))


def _ptr(q: str, name: str, rest: str, token: str, pos: int, where: int) -> Mechanism:
    if not rest:
        return Mechanism(q, name, token, pos)
    if not rest.startswith(":"):
        raise SpfSyntaxError(
            f"{quote(token)}: 'ptr' takes only ':' and a domain (no prefix length)",
            where,
            "RFC 7208 §5.5",
        )
    return Mechanism(q, name, token, pos, parse_domain_spec(rest[1:], base=where + 1))


def _a_or_mx(q: str, name: str, rest: str, token: str, pos: int, where: int) -> Mechanism:
    """a and mx: `[":" domain-spec] [dual-cidr-length]` (§5.3, §5.4)."""
    ref = "RFC 7208 §5.3" if name == "a" else "RFC 7208 §5.4"
    cidr = _DUAL_CIDR.search(rest)
    assert cidr is not None  # every group is optional: it matches at the end at least
    head = rest[: cidr.start()]
    if head and not head.startswith(":"):
        raise SpfSyntaxError(
            f"{quote(token)}: expected ':' and a domain, or prefix lengths written "
            f"{name}/24, {name}//64 or {name}/24//64",
            where,
            ref,
        )
    cidr_at = where + cidr.start()
    cidr4 = _cidr(cidr.group(2), 32, token, cidr_at + 1, ref) if cidr.group(1) else None
    cidr6_at = cidr_at + len(cidr.group(1) or "") + 2
    cidr6 = _cidr(cidr.group(4), 128, token, cidr6_at, ref) if cidr.group(3) else None
    spec = parse_domain_spec(head[1:], base=where + 1) if head else None
    return Mechanism(q, name, token, pos, spec, cidr4=cidr4, cidr6=cidr6)


def _cidr(digits: str, limit: int, token: str, position: int, ref: str) -> int:
    if digits != "0" and digits.startswith("0"):
        raise SpfSyntaxError(
            f"{quote(token)}: prefix length /{digits} has a leading zero", position, ref
        )
    value = int(digits[:4])
    if len(digits) > 3 or value > limit:
        family = "IPv4" if limit == 32 else "IPv6"
        raise SpfSyntaxError(
            f"{quote(token)}: prefix length /{digits[:8]} is over {limit}, the {family} maximum",
            position,
            ref,
        )
    return value


def _ip(q: str, name: str, rest: str, token: str, pos: int, where: int) -> Mechanism:
    """ip4 and ip6: `":" network ["/" length]`; ip4 strictly dotted-quad (§5.6)."""
    ref = "RFC 7208 §5.6"
    if not rest.startswith(":") or len(rest) == 1:
        raise SpfSyntaxError(f"{quote(token)}: '{name}' needs ':' and an address", where, ref)
    address, slash, length = rest[1:].partition("/")
    at = where + 1
    limit = 32 if name == "ip4" else 128
    cidr = limit
    if slash:
        if not re.fullmatch(r"[0-9]+", length):
            raise SpfSyntaxError(
                f"{quote(token)}: '/{length[:20]}' is not a prefix length"
                + (" (dual CIDR is only for a and mx)" if length.startswith("/") else ""),
                at + len(address) + 1,
                ref,
            )
        cidr = _cidr(length, limit, token, at + len(address) + 1, ref)
    return Mechanism(q, name, token, pos, network=_network(name, address, cidr, token, at))


def _network(name: str, address: str, cidr: int, token: str, at: int) -> Network:
    ref = "RFC 7208 §5.6"
    if name == "ip4":
        if not _IP4.match(address):
            raise SpfSyntaxError(
                f"{quote(token)}: {quote(address)} is not an IPv4 address (four decimal "
                "numbers 0-255 without leading zeros; use a prefix length, not fewer parts)",
                at,
                ref,
            )
        return ipaddress.IPv4Network(f"{address}/{cidr}", strict=False)
    try:
        if not _IP6_CHARS.match(address):
            raise ValueError(address)
        parsed = ipaddress.IPv6Address(address)
    except ValueError:
        raise SpfSyntaxError(
            f"{quote(token)}: {quote(address)} is not an IPv6 address", at, ref
        ) from None
    return ipaddress.IPv6Network(f"{parsed}/{cidr}", strict=False)


_MECHANISM_PARSERS = {
    "all": _no_argument,
    "include": _domain_required,
    "exists": _domain_required,
    "a": _a_or_mx,
    "mx": _a_or_mx,
    "ptr": _ptr,
    "ip4": _ip,
    "ip6": _ip,
}
