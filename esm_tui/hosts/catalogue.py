"""The catalogue of DNS hosts (catalogue.toml, data in the package) as `DnsHost` values.

Owns reading and validating that file: every host has every key with the right type, ids
are unique, patterns compile, the enumerations hold known words. A broken catalogue is a
bug in the package, so `load()` raises `CatalogueError` naming the host and the key (the
test suite holds the shipped file to that); `catalogue()` loads it once per process.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

#: The host of zones whose NS match no pattern (SPEC §6: `"id": "other"`).
OTHER = "other"

NAME_STYLES = frozenset({"relative", "fqdn"})
APEX_FORMS = frozenset({"", "@"})
TXT_QUOTES = frozenset({"none", "required", "forbidden"})
TXT_LONG = frozenset({"auto", "strings", "zone-text"})

_STRINGS = ("id", "name", "lexicon", "name_field", "name_style", "apex", "value_field")
_WORDS = ("txt_quotes", "txt_long")
_LISTS = ("ns_patterns", "console", "pitfalls", "unverified", "sources")
_BOOLS = ("record_sets", "target_dot")
_INTS = ("min_ttl", "txt_max")
#: Every key of a [[host]] table, in the order the guide pages present them.
KEYS = (*_STRINGS, *_WORDS, *_LISTS, *_BOOLS, *_INTS)
_ENUMS = {
    "name_style": NAME_STYLES,
    "apex": APEX_FORMS,
    "txt_quotes": TXT_QUOTES,
    "txt_long": TXT_LONG,
}


class CatalogueError(ValueError):
    """The catalogue file is malformed (a bug in the package, not the user's input)."""


@dataclass(frozen=True)
class DnsHost:
    """One DNS host: how to recognise its name servers and how its web form wants records.

    The fields are catalogue.toml's keys (documented at the top of that file).
    """

    id: str
    name: str
    ns_patterns: tuple[re.Pattern[str], ...]
    lexicon: str
    console: tuple[str, ...]
    name_field: str
    name_style: str
    apex: str
    value_field: str
    txt_quotes: str
    txt_long: str
    txt_max: int
    record_sets: bool
    target_dot: bool
    min_ttl: int
    pitfalls: tuple[str, ...]
    unverified: tuple[str, ...]
    sources: tuple[str, ...]

    def matches(self, nameserver: str) -> bool:
        """Whether one NS host name (any case, trailing dot or not) is one of this host's."""
        host = nameserver.strip().lower().rstrip(".")
        return any(p.search(host) for p in self.ns_patterns)


def load(text: str | None = None) -> tuple[DnsHost, ...]:
    """The hosts of `text` (TOML), or of the shipped catalogue.toml; `other` last."""
    if text is None:
        text = resources.files("esm_tui.hosts").joinpath("catalogue.toml").read_text("utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"catalogue.toml: {exc}") from None
    tables = data.get("host")
    if not isinstance(tables, list) or not tables:
        raise CatalogueError("catalogue.toml: no [[host]] tables")
    unknown = set(data) - {"host"}
    if unknown:
        raise CatalogueError(f"catalogue.toml: unknown top-level keys {sorted(unknown)}")
    hosts = [_host(i, table) for i, table in enumerate(tables)]
    ids = [h.id for h in hosts]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CatalogueError(f"catalogue.toml: duplicate host ids {duplicates}")
    if OTHER not in ids:
        raise CatalogueError(f"catalogue.toml: no host with id {OTHER!r}")
    other = next(h for h in hosts if h.id == OTHER)
    if other.ns_patterns:
        raise CatalogueError(f"catalogue.toml: {OTHER!r} must have no ns_patterns")
    return (*(h for h in hosts if h.id != OTHER), other)


def _host(index: int, table: Any) -> DnsHost:
    where = f"catalogue.toml: host #{index + 1}"
    if not isinstance(table, dict):
        raise CatalogueError(f"{where}: not a table")
    if isinstance(table.get("id"), str):
        where = f"catalogue.toml: host {table['id']!r}"
    missing = [k for k in KEYS if k not in table]
    extra = sorted(set(table) - set(KEYS))
    if missing or extra:
        raise CatalogueError(f"{where}: missing keys {missing}, unknown keys {extra}")
    for key in (*_STRINGS, *_WORDS):
        if not isinstance(table[key], str):
            raise CatalogueError(f"{where}: {key} must be a string")
    for key in _LISTS:
        value = table[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise CatalogueError(f"{where}: {key} must be a list of strings")
    for key in _BOOLS:
        if not isinstance(table[key], bool):
            raise CatalogueError(f"{where}: {key} must be true or false")
    for key in _INTS:
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise CatalogueError(f"{where}: {key} must be a whole number ≥ 0")
    for key, allowed in _ENUMS.items():
        if table[key] not in allowed:
            raise CatalogueError(f"{where}: {key} must be one of {sorted(allowed)}")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", table["id"]):
        raise CatalogueError(f"{where}: id must be lower-case letters, digits and hyphens")
    if not table["name"].strip() or not table["console"]:
        raise CatalogueError(f"{where}: name and console must not be empty")
    bad = sorted(set(table["unverified"]) - set(KEYS))
    if bad:
        raise CatalogueError(f"{where}: unverified names unknown keys {bad}")
    patterns = []
    for pattern in table["ns_patterns"]:
        try:
            patterns.append(re.compile(pattern))
        except re.error as exc:
            raise CatalogueError(f"{where}: ns_patterns {pattern!r}: {exc}") from None
    values = {k: table[k] for k in KEYS}
    values["ns_patterns"] = tuple(patterns)
    for key in ("console", "pitfalls", "unverified", "sources"):
        values[key] = tuple(table[key])
    return DnsHost(**values)


_CATALOGUE: tuple[DnsHost, ...] | None = None


def catalogue() -> tuple[DnsHost, ...]:
    """The shipped hosts, loaded once."""
    global _CATALOGUE
    if _CATALOGUE is None:
        _CATALOGUE = load()
    return _CATALOGUE


def host_by_id(host_id: str) -> DnsHost | None:
    return next((h for h in catalogue() if h.id == host_id), None)


def match(nameservers: Sequence[str]) -> DnsHost:
    """The host most of `nameservers` belong to (catalogue order breaks a tie: a zone
    served by two hosts at once is named after the one listed first), else `other`."""
    hosts = catalogue()
    best, best_count = hosts[-1], 0
    for host in hosts:
        count = sum(1 for ns in nameservers if host.matches(ns))
        if count > best_count:
            best, best_count = host, count
    return best
