"""Validating a parsed config: every key known, every value of the right type and range,
domains unique; a mistake becomes a `ConfigError` naming the key path
(`domains[2].dkim_selectors[0]`) and, where the text shows it, the line and column.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from esm_tui.config.errors import ConfigError, DomainNameError
from esm_tui.config.model import DomainConfig, Relay, Settings
from esm_tui.config.names import mx_pattern, network, normalize_domain, normalize_selector
from esm_tui.config.presets import PRESETS, apply_preset
from esm_tui.config.publish_section import validate_publish
from esm_tui.config.toml_layout import BARE_KEY, KeyPath, Layout, scan
from esm_tui.config.trust_anchors import trust_anchors
from esm_tui.dns import NameserverError, Server, parse_nameserver

_MISSING: Any = object()
_TOP_KEYS = ("settings", "relay", "domains", "notify", "publish")
_SETTINGS_KEYS = (
    "interval", "timeout", "retries", "concurrency", "nameservers", "history", "port",
    "compare_resolvers", "trust_anchors", "https_port",
)  # fmt: skip
_RELAY_KEYS = ("preset", "mx", "spf_include", "spf_ips", "dkim_selectors")
_DOMAIN_KEYS = (
    "name", "dkim_selectors", "bimi", "mx", "spf_include", "spf_ips", "mta_sts", "tls_rpt",
    "dnssec", "publish",
)  # fmt: skip


def format_key(path: KeyPath) -> str:
    """`("domains", 2, "name")` -> `domains[2].name`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            shown = part if part and set(part) <= BARE_KEY else repr(part)
            out += f".{shown}" if out else shown
    return out


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return "an integer" if abs(value) > 10**12 else f"an integer ({value})"
    kinds = {float: "a number", str: "a string", list: "an array", dict: "a table"}
    return next((k for t, k in kinds.items() if isinstance(value, t)), "a date/time")


class Validator:
    def __init__(self, path: Path | None, text: str) -> None:
        self.path = path
        self.text = text
        self._layout: Layout | None = None

    def position(self, key: KeyPath) -> tuple[int | None, int | None]:
        if self._layout is None:  # only scanned when something is wrong
            self._layout = scan(self.text)
        return self._layout.line_col(key)

    def error(self, key: KeyPath, message: str) -> ConfigError:
        line, col = self.position(key)
        return ConfigError(self.path, message, line, col, key=format_key(key))

    def document(self, data: dict) -> tuple[Settings, Relay, tuple[DomainConfig, ...]]:
        self.known_keys(data, (), _TOP_KEYS)
        settings = self.settings(self.table(data, "settings"))
        return settings, self.relay(self.table(data, "relay")), self.domains(data)

    def table(self, data: dict, key: str) -> dict:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise self.error((key,), f"must be a table ([{key}]), not {_describe(value)}")
        return value

    def known_keys(self, table: Mapping, where: KeyPath, allowed: Sequence[str]) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise self.error(
                    (*where, key), f"unknown key ({hint}allowed: {', '.join(allowed)})"
                )

    def settings(self, table: dict) -> Settings:
        self.known_keys(table, ("settings",), _SETTINGS_KEYS)
        where = "settings"
        # Upper bounds keep asyncio's timers and the retry loop sane, far above any real need.
        return Settings(
            interval=self.integer(table, where, "interval", 300, 10, 7 * 86400),
            timeout=self.number(table, where, "timeout", 5.0, 300.0),
            retries=self.integer(table, where, "retries", 2, 0, 10),
            concurrency=self.integer(table, where, "concurrency", 64, 1, 4096),
            nameservers=self.servers(table, where, "nameservers"),
            history=self.boolean(table, where, "history", True),
            port=self.integer(table, where, "port", 53, 1, 65535),
            compare_resolvers=self.servers(table, where, "compare_resolvers"),
            trust_anchors=trust_anchors(self, table),
            https_port=self.integer(table, where, "https_port", 443, 1, 65535),
        )

    def relay(self, table: dict) -> Relay:
        self.known_keys(table, ("relay",), _RELAY_KEYS)
        own = {
            "mx": self.strings(table, ("relay", "mx"), mx_pattern),
            "spf_include": self.strings(table, ("relay", "spf_include"), normalize_domain),
            "spf_ips": self.strings(table, ("relay", "spf_ips"), network),
            "dkim_selectors": self.strings(table, ("relay", "dkim_selectors"), normalize_selector),
        }
        preset = table.get("preset")
        if preset is not None:
            if not isinstance(preset, str):
                raise self.error(("relay", "preset"), f"must be a string, not {_describe(preset)}")
            if preset not in PRESETS:
                known = ", ".join(f'"{name}"' for name in PRESETS)
                raise self.error(("relay", "preset"), f"unknown preset {preset!r} (known: {known})")
            return apply_preset(preset, own)
        return Relay(**{key: value or () for key, value in own.items()})

    def domains(self, data: dict) -> tuple[DomainConfig, ...]:
        entries = data.get("domains", [])
        if not isinstance(entries, list):
            raise self.error(
                ("domains",),
                "must be an array of tables (one [[domains]] per domain), "
                f"not {_describe(entries)}",
            )
        seen: dict[str, int] = {}
        result = []
        for index, entry in enumerate(entries):
            domain = self.domain(entry, ("domains", index))
            if domain.name in seen:
                first = seen[domain.name]
                line, _ = self.position(("domains", first, "name"))
                at = f", line {line}" if line is not None else ""
                raise self.error(
                    ("domains", index, "name"),
                    f"{entry['name']!r} is the same domain as domains[{first}] "
                    f"({entries[first]['name']!r}{at})",
                )
            seen[domain.name] = index
            result.append(domain)
        return tuple(result)

    def domain(self, entry: object, where: KeyPath) -> DomainConfig:
        if not isinstance(entry, dict):
            raise self.error(where, f"must be a table with a name, not {_describe(entry)}")
        self.known_keys(entry, where, _DOMAIN_KEYS)
        if "name" not in entry:
            raise self.error(where, 'has no name (add: name = "example.com")')
        raw_name = entry["name"]
        if not isinstance(raw_name, str):
            raise self.error((*where, "name"), f"must be a string, not {_describe(raw_name)}")
        try:
            name = normalize_domain(raw_name)
        except DomainNameError as exc:
            raise self.error((*where, "name"), str(exc)) from None
        return DomainConfig(
            name=name,
            dkim_selectors=self.strings(entry, (*where, "dkim_selectors"), normalize_selector)
            or (),
            bimi=self.boolean(entry, where, "bimi", False),
            mta_sts=self.boolean(entry, where, "mta_sts", False),
            tls_rpt=self.boolean(entry, where, "tls_rpt", False),
            dnssec=self.boolean(entry, where, "dnssec", False),
            mx=self.strings(entry, (*where, "mx"), mx_pattern),
            spf_include=self.strings(entry, (*where, "spf_include"), normalize_domain),
            spf_ips=self.strings(entry, (*where, "spf_ips"), network),
            publish=validate_publish(self, entry.get("publish"), (*where, "publish")),
        )

    # -- scalars and lists -------------------------------------------------------------------

    def integer(self, table: dict, where: str, key: str, default: int, low: int, high: int) -> int:
        value = table.get(key, _MISSING)
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error((where, key), f"must be an integer, not {_describe(value)}")
        if not low <= value <= high:
            shown = str(value) if abs(value) <= 10**12 else "that"
            raise self.error((where, key), f"must be from {low} to {high}, not {shown}")
        return value

    def number(self, table: dict, where: str, key: str, default: float, high: float) -> float:
        value = table.get(key, _MISSING)
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error((where, key), f"must be a number of seconds, not {_describe(value)}")
        if not (math.isfinite(value) and 0 < value <= high):
            shown = str(value) if abs(value) <= 10**12 else "that"
            raise self.error((where, key), f"must be more than 0 and at most {high:g}, not {shown}")
        return float(value)

    def boolean(self, table: dict, where: str | KeyPath, key: str, default: bool) -> bool:
        value = table.get(key, _MISSING)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            path = (where, key) if isinstance(where, str) else (*where, key)
            raise self.error(path, f"must be true or false, not {_describe(value)}")
        return value

    def servers(self, table: dict, where: str, key: str) -> tuple[Server, ...]:
        return self.strings(table, (where, key), parse_nameserver) or ()

    def strings(
        self, table: dict, path: KeyPath, convert: Callable[[str], Any]
    ) -> tuple[Any, ...] | None:
        """None when absent; else each string converted (ValueError -> ConfigError)."""
        value = table.get(path[-1], _MISSING)
        if value is _MISSING:
            return None
        if not isinstance(value, list):
            raise self.error(path, f"must be an array of strings, not {_describe(value)}")
        result = []
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise self.error((*path, index), f"must be a string, not {_describe(item)}")
            try:
                result.append(convert(item))
            except (ValueError, NameserverError) as exc:
                raise self.error((*path, index), str(exc)) from None
        return tuple(result)
