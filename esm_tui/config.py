"""The config file: load and validate (tomllib), edit the domain list, default path.

Every error is a `ConfigError` naming the file, the key path (`domains[2].dkim_selectors[0]`)
and, where it can be found in the text, the line and column (SPEC §1: exit 64 with the
location, never a traceback). Saving edits the text surgically (config_edit.py) so nothing
the user wrote — comments included — is lost.
"""

from __future__ import annotations

import difflib
import encodings.idna
import importlib.resources
import ipaddress
import math
import os
import re
import stat
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import platformdirs

from esm_tui import config_edit
from esm_tui.dns import NameserverError, Server, parse_nameserver
from esm_tui.model import DomainSettings

KeyPath = config_edit.KeyPath
ENV_VAR = "ESM_TUI_CONFIG"
EXAMPLE_NAME = "config.example.toml"
#: More than any config (10,000 domains take ~600 KB): `--config /dev/zero` is refused
#: instead of read until memory runs out.
MAX_CONFIG_BYTES = 8 * 1024 * 1024


# -- values ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """[settings]. Not validated here (tests may inject a short interval); load_config is."""

    interval: int = 300
    timeout: float = 5.0
    retries: int = 2
    concurrency: int = 64
    nameservers: tuple[Server, ...] = ()
    history: bool = True
    port: int = 53
    compare_resolvers: tuple[Server, ...] = ()


@dataclass(frozen=True)
class Relay:
    """[relay]: what the e-securemail relay needs of every domain."""

    mx: tuple[str, ...] = ()
    spf_include: tuple[str, ...] = ()
    spf_ips: tuple[str, ...] = ()
    dkim_selectors: tuple[str, ...] = ()


@dataclass(frozen=True)
class DomainConfig:
    """One [[domains]] table. None = inherit [relay]; a tuple, even empty, replaces it."""

    name: str
    dkim_selectors: tuple[str, ...] = ()
    bimi: bool = False
    mx: tuple[str, ...] | None = None
    spf_include: tuple[str, ...] | None = None
    spf_ips: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Config:
    settings: Settings = field(default_factory=Settings)
    relay: Relay = field(default_factory=Relay)
    domains: tuple[DomainConfig, ...] = ()
    path: Path | None = None
    #: sha256 of the file bytes as loaded; None when there was no file.
    fingerprint: str | None = None

    def domain(self, name: str) -> DomainConfig | None:
        """The configured entry for `name` (any spelling normalize_domain accepts)."""
        found = self._by_name.get(name)  # the common case: the name as configured
        if found is None:
            found = self._by_name.get(normalize_domain(name))
        return found

    @cached_property
    def _by_name(self) -> dict[str, DomainConfig]:
        # The dashboard asks for each domain's settings at each check: a scan of the
        # list each time was quadratic at 1,000 domains. (Names are unique: validated.)
        return {d.name: d for d in reversed(self.domains)}  # the first one wins

    def domain_settings(self, name: str, extra_selectors: Sequence[str] = ()) -> DomainSettings:
        """What is expected of `name`: [relay] values, replaced by the domain's own lists where
        it sets them; selectors are [relay] + domain + `extra_selectors`, without repeats.
        A name not in the config gets the [relay] defaults. Raises DomainNameError."""
        entry = self.domain(name) or DomainConfig(normalize_domain(name))
        relay = self.relay
        extra = (s.strip().lower().rstrip(".") for s in extra_selectors)
        selectors = _unique([*relay.dkim_selectors, *entry.dkim_selectors, *extra])
        return DomainSettings(
            name=entry.name,
            relay_mx=relay.mx if entry.mx is None else entry.mx,
            spf_include=relay.spf_include if entry.spf_include is None else entry.spf_include,
            spf_ips=relay.spf_ips if entry.spf_ips is None else entry.spf_ips,
            dkim_selectors=selectors,
            bimi_expected=entry.bimi,
        )

    def with_domains(self, names: Iterable[str], *, replace_configured: bool = False) -> Config:
        """The config with command-line domains: after the configured ones (or, with
        `replace_configured`, only those). A configured domain keeps its own settings.
        Raises DomainNameError for an invalid name."""
        wanted = _unique(normalize_domain(n) for n in names)
        known = {d.name: d for d in self.domains}
        extra = tuple(known.get(n) or DomainConfig(n) for n in wanted)
        if replace_configured:
            return replace(self, domains=extra)
        added = tuple(d for d in extra if d not in self.domains)
        return replace(self, domains=self.domains + added)


# -- errors ---------------------------------------------------------------------------------


class ConfigError(Exception):
    """A config problem: `str()` is "PATH:LINE:COL: key.path: message" (parts as known)."""

    def __init__(
        self,
        path: Path | None,
        message: str,
        line: int | None = None,
        col: int | None = None,
        key: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.col = col
        self.key = key
        self.message = f"{key}: {message}" if key else message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = str(self.path) if self.path is not None else "<config>"
        if self.line is not None:
            where += f":{self.line}" + (f":{self.col}" if self.col is not None else "")
        return f"{where}: {self.message}"


class ConfigChangedError(ConfigError):
    """The file changed on disk since it was loaded: reload it instead of overwriting."""


class DomainNameError(ValueError):
    """Not a usable domain name; the message names the input."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"{text!r} is not a valid domain name: {reason}")


class SelectorError(ValueError):
    """Not a usable DKIM selector; the message names the input."""


# -- names ----------------------------------------------------------------------------------

_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")
#: What IDNA treats as a label separator besides "." (RFC 3490 §3.1).
_IDNA_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def _labels(text: str) -> list[str]:
    """ASCII, lower-case labels of a dotted name; ValueError with a reason."""
    labels = []
    for label in text.translate(_IDNA_DOTS).split("."):
        if not label:
            raise ValueError("it has an empty label ('..', or a leading dot)")
        if not label.isascii():
            try:
                label = encodings.idna.ToASCII(label).decode("ascii")
            except UnicodeError as exc:
                raise ValueError(f"label {label!r} cannot be converted with IDNA ({exc})") from None
        label = label.lower()
        bad = sorted(set(label) - _LABEL_CHARS)
        if bad:
            shown = ", ".join(repr(c) for c in bad)
            raise ValueError(
                f"label {label!r} contains {shown} (only letters, digits, '-' and '_')"
            )
        if len(label) > 63:
            raise ValueError(f"label {label[:20]!r}... is longer than 63 characters")
        if label.startswith("-") or label.endswith("-"):
            raise ValueError(f"label {label!r} starts or ends with a hyphen")
        labels.append(label)
    return labels


def normalize_domain(text: str) -> str:
    """ASCII (IDNA), lower-case, without a trailing dot; DomainNameError if not a domain name.

    IDNA conversion is Python's (IDNA 2003, so "ß" becomes "ss").
    """
    name = text.strip()
    if name.endswith("."):
        name = name[:-1]
    if not name:
        raise DomainNameError(text, "it is empty")
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        raise DomainNameError(text, "it is an IP address; give a domain name")
    try:
        labels = _labels(name)
    except ValueError as exc:
        raise DomainNameError(text, str(exc)) from None
    ascii_name = ".".join(labels)
    if len(ascii_name) > 253:
        raise DomainNameError(text, f"it is {len(ascii_name)} characters long (at most 253)")
    if len(labels) < 2:
        raise DomainNameError(text, "it is a single label; give the full name, e.g. example.com")
    if labels[-1].isdigit():
        raise DomainNameError(text, f"its top-level domain {labels[-1]!r} is all digits")
    return ascii_name


def normalize_selector(text: str) -> str:
    """A DKIM selector (RFC 6376 §3.1: dot-separated labels), ASCII and lower-case."""
    selector = text.strip()
    if not selector:
        raise SelectorError(f"{text!r} is not a valid DKIM selector: it is empty")
    try:
        labels = _labels(selector)
    except ValueError as exc:
        raise SelectorError(f"{text!r} is not a valid DKIM selector: {exc}") from None
    result = ".".join(labels)
    if len(result) > 200:  # leaves room for "._domainkey." and the domain
        raise SelectorError(f"{text!r} is not a valid DKIM selector: it is too long")
    return result


def _mx_pattern(text: str) -> str:
    name = text.strip()
    glob = name.startswith("*.")
    rest = name[2:] if glob else name
    if "*" in rest:
        raise ValueError(
            f"{text!r} is not a valid MX host name: '*' is allowed only as the first label, "
            "as in '*.relay.example'"
        )
    try:
        return ("*." if glob else "") + normalize_domain(rest)
    except DomainNameError as exc:
        raise ValueError(f"{text!r} is not a valid MX host name: {exc.reason}") from None


def _network(text: str) -> str:
    candidate = text.strip()
    try:
        if "%" in candidate:  # a scoped address is no SPF network
            raise ValueError
        ipaddress.ip_network(candidate, strict=False)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an IP address or network "
            "(e.g. 192.0.2.1, 192.0.2.0/24, 2001:db8::/32)"
        ) from None
    return candidate


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for item in items if item))


# -- paths ----------------------------------------------------------------------------------


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir("esm-tui")) / "config.toml"


def resolve_config_path(cli_path: str | None) -> Path:
    """--config, else $ESM_TUI_CONFIG, else the platform's user config dir."""
    chosen = cli_path or os.environ.get(ENV_VAR) or None
    return Path(chosen).expanduser() if chosen else default_config_path()


# -- loading --------------------------------------------------------------------------------


def load_config(path: Path, *, missing_ok: bool = True) -> Config:
    """Load and validate `path`. A missing file is an empty config (unless not `missing_ok`)."""
    path = Path(path)
    try:
        data = _read_bounded(path)
    except FileNotFoundError:
        if missing_ok:
            return Config(path=path)
        raise ConfigError(path, "no such file") from None
    except IsADirectoryError:
        raise ConfigError(path, "is a directory, not a config file") from None
    except OSError as exc:
        raise ConfigError(path, f"cannot read it: {exc.strerror or exc}") from None
    return parse_config(data, path)


def _read_bounded(path: Path) -> bytes:
    """The file's bytes. A pipe or socket is refused (reading it would wait forever), and
    so is anything longer than MAX_CONFIG_BYTES; /dev/null reads as an empty config."""
    if stat.S_ISFIFO(mode := path.stat().st_mode) or stat.S_ISSOCK(mode):
        raise ConfigError(path, "is a pipe or a socket, not a config file")
    with path.open("rb") as handle:
        data = handle.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(
            path, f"is larger than {MAX_CONFIG_BYTES // 2**20} MiB: not a config file"
        )
    return data


def parse_config(data: bytes | str, path: Path | None = None) -> Config:
    """Validate the content of a config file; `path` is only used in messages."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    text = _decode(raw, path)
    body = text.removeprefix("\ufeff")  # editors on Windows like to add one
    try:
        document = tomllib.loads(body)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, body, path) from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of 5000 digits
        raise ConfigError(path, f"cannot parse it: {exc}") from None
    settings, relay, domains = _Validator(path, body).document(document)
    return Config(settings, relay, domains, path, config_edit.fingerprint(raw))


def _decode(raw: bytes, path: Path | None) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = raw[exc.start]
        raise ConfigError(
            path, f"not valid UTF-8 (byte 0x{byte:02x}); save the file as UTF-8", line, col
        ) from None


_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_AT_END = re.compile(r"\s*\(at end of document\)\s*$")


def _syntax_error(exc: tomllib.TOMLDecodeError, text: str, path: Path | None) -> ConfigError:
    message = str(exc)
    found = _AT.search(message)
    if found:
        line, col = int(found.group(1)), int(found.group(2))
        return ConfigError(path, f"TOML syntax: {message[: found.start()]}", line, col)
    found = _AT_END.search(message)
    if found:
        line, col = config_edit.line_col(text, len(text))
        return ConfigError(
            path, f"TOML syntax: {message[: found.start()]} at the end of the file", line, col
        )
    return ConfigError(path, f"TOML syntax: {message}")


# -- validation -----------------------------------------------------------------------------

_MISSING: Any = object()
_TOP_KEYS = ("settings", "relay", "domains")
_SETTINGS_KEYS = (
    "interval", "timeout", "retries", "concurrency", "nameservers", "history", "port",
    "compare_resolvers",
)  # fmt: skip
_RELAY_KEYS = ("mx", "spf_include", "spf_ips", "dkim_selectors")
_DOMAIN_KEYS = ("name", "dkim_selectors", "bimi", "mx", "spf_include", "spf_ips")


def format_key(path: KeyPath) -> str:
    """`("domains", 2, "name")` -> `domains[2].name`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            shown = part if part and set(part) <= config_edit.BARE_KEY else repr(part)
            out += f".{shown}" if out else shown
    return out


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return "an integer" if abs(value) > 10**12 else f"an integer ({value})"
    kinds = {float: "a number", str: "a string", list: "an array", dict: "a table"}
    return next((k for t, k in kinds.items() if isinstance(value, t)), "a date/time")


class _Validator:
    def __init__(self, path: Path | None, text: str) -> None:
        self.path = path
        self.text = text
        self._layout: config_edit.Layout | None = None

    def position(self, key: KeyPath) -> tuple[int | None, int | None]:
        if self._layout is None:  # only scanned when something is wrong
            self._layout = config_edit.scan(self.text)
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
        )

    def relay(self, table: dict) -> Relay:
        self.known_keys(table, ("relay",), _RELAY_KEYS)
        return Relay(
            mx=self.strings(table, ("relay", "mx"), _mx_pattern) or (),
            spf_include=self.strings(table, ("relay", "spf_include"), normalize_domain) or (),
            spf_ips=self.strings(table, ("relay", "spf_ips"), _network) or (),
            dkim_selectors=self.strings(table, ("relay", "dkim_selectors"), normalize_selector)
            or (),
        )

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
            mx=self.strings(entry, (*where, "mx"), _mx_pattern),
            spf_include=self.strings(entry, (*where, "spf_include"), normalize_domain),
            spf_ips=self.strings(entry, (*where, "spf_ips"), _network),
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


# -- saving ---------------------------------------------------------------------------------


def add_domain(config: Config, name: str) -> Config:
    """Append a [[domains]] table for `name` to the file (created if absent); return the
    reloaded config. Comments and everything else in the file stay byte-for-byte."""
    path = _editable_path(config)
    wanted = _normalize_for_edit(path, name)
    shown = name.strip()
    shown = (shown[:-1] if shown.endswith(".") else shown).lower()

    def edit(current: bytes | None) -> bytes:
        text = _decode(current or b"", path)
        before = _names(text, path)
        if wanted in before:
            raise ConfigError(path, f"{wanted} is already in the config")
        block = f"[[domains]]\nname = {config_edit.toml_string(shown)}\n"
        new = config_edit.append_block(text, block)
        return _checked(new, [*before, wanted], path, f"cannot add {wanted}")

    _edit(config, path, edit)
    return load_config(path)


def remove_domain(config: Config, name: str) -> Config:
    """Remove the lines of `name`'s [[domains]] table from the file; return the reloaded
    config. Comments after the table (above the next one) and all else stay as they were."""
    path = _editable_path(config)
    wanted = _normalize_for_edit(path, name)

    def edit(current: bytes | None) -> bytes:
        text = _decode(current or b"", path)
        before = _names(text, path)
        if wanted not in before:
            raise ConfigError(path, f"{wanted} is not in the config")
        index = before.index(wanted)
        body = text.removeprefix("\ufeff")
        span = config_edit.scan(body).table_span(("domains", index))
        if span is None:
            raise ConfigError(
                path,
                f"cannot remove {wanted}: it is not written as a [[domains]] table "
                "(edit the file by hand)",
            )
        new = text[: len(text) - len(body)] + config_edit.remove_span(body, *span)
        after = [n for n in before if n != wanted]
        return _checked(new, after, path, f"cannot remove {wanted}")

    _edit(config, path, edit)
    return load_config(path)


def _editable_path(config: Config) -> Path:
    if config.path is None:
        raise ConfigError(None, "no config file to save to")
    return config.path


def _normalize_for_edit(path: Path, name: str) -> str:
    try:
        return normalize_domain(name)
    except DomainNameError as exc:
        raise ConfigError(path, str(exc)) from None


def _names(text: str, path: Path) -> list[str]:
    return [d.name for d in parse_config(text, path).domains]


def _checked(text: str, expected: list[str], path: Path, what: str) -> bytes:
    """The new text, after proving it loads to exactly the `expected` domains."""
    try:
        names = _names(text, path)
    except ConfigError as exc:
        raise ConfigError(path, f"{what} safely ({exc.message}); the file is unchanged") from None
    if names != expected:
        raise ConfigError(path, f"{what} safely; the file is unchanged")
    return text.encode("utf-8")


def _edit(config: Config, path: Path, edit: Callable[[bytes | None], bytes]) -> None:
    try:
        config_edit.edit_file(path, config.fingerprint, edit)
    except config_edit.FileChangedError:
        raise ConfigChangedError(
            path, "the file changed on disk since it was loaded; reload it and try again"
        ) from None
    except config_edit.SaveError as exc:
        raise ConfigError(path, str(exc)) from None


def example_config_text() -> str:
    """The commented starter config shipped with the package."""
    return importlib.resources.files("esm_tui").joinpath(EXAMPLE_NAME).read_text("utf-8")


def write_starter_config(path: Path) -> None:
    """Write the example config to `path` (parents created); never overwrites a file."""
    path = Path(path)
    if path.exists() or path.is_symlink():
        raise ConfigError(path, "already exists; not overwriting it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(path, f"cannot create its directory: {exc.strerror or exc}") from None
    try:
        with path.open("x", encoding="utf-8", newline="") as handle:
            handle.write(example_config_text())
    except FileExistsError:
        raise ConfigError(path, "already exists; not overwriting it") from None
    except OSError as exc:
        raise ConfigError(path, f"cannot write it: {exc.strerror or exc}") from None
