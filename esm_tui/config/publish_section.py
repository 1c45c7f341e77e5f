"""The `[publish]` section and `[[domains]] publish = {...}` (SPEC §6): how `esm-tui fix
--apply` and the dashboard's Publish send changes to the zone.

    [publish]
    provider = "rfc2136"           # or a dns-lexicon provider name
    server = "192.0.2.53:53"       # rfc2136: where UPDATEs go (default: the SOA MNAME)
    tsig_key_file = "tsig.key"     # rfc2136: a BIND key file
    credentials_file = "dns.toml"  # lexicon: refused when group/others can read it

The key file is read when the config loads, so a mistake is reported with the config's
file:line before anything is published. A secret is never part of a message, a repr or
the journal: TsigKey and the credentials hide it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from esm_tui.dns import NameserverError, Server, parse_nameserver

if TYPE_CHECKING:
    from esm_tui.config.validate import Validator

PUBLISH_KEYS = ("provider", "server", "tsig_key_file", "credentials_file")
_PROVIDER = re.compile(r"[a-z][a-z0-9_]{1,40}\Z")
#: One `key "name" { algorithm ...; secret "..."; };` block of a BIND key file.
_KEY_BLOCK = re.compile(r'key\s+"?([A-Za-z0-9._-]+)"?\s*\{(.*?)\}\s*;', re.S)
_ALGORITHMS = (
    "hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha224", "hmac-sha1", "hmac-md5",
)  # fmt: skip


@dataclass(frozen=True)
class TsigKeyConfig:
    """A TSIG key from a BIND key file; its secret never shows in a repr."""

    name: str
    algorithm: str
    secret: str = field(repr=False)

    def __repr__(self) -> str:
        return f"TsigKeyConfig(name={self.name!r}, algorithm={self.algorithm!r}, secret=<hidden>)"


@dataclass(frozen=True)
class PublishSettings:
    provider: str
    server: Server | None = None
    tsig_key_file: Path | None = None
    tsig_key: TsigKeyConfig | None = None
    credentials_file: Path | None = None


def validate_publish(
    validator: Validator, table: Any, where: tuple[str | int, ...]
) -> PublishSettings | None:
    """A `[publish]` table (or a domain's `publish = {...}`); None when absent."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise validator.error(where, "must be a table (provider, server, tsig_key_file, ...)")
    validator.known_keys(table, where, PUBLISH_KEYS)
    provider = table.get("provider")
    if not isinstance(provider, str) or not _PROVIDER.match(provider):
        raise validator.error(
            (*where, "provider"),
            'must name how to publish: "rfc2136", or a dns-lexicon provider ("ovh", '
            '"gandi", "cloudflare", ...)',
        )
    server = None
    if "server" in table:
        value = table["server"]
        try:
            if not isinstance(value, str):
                raise NameserverError("must be a string")
            server = parse_nameserver(value)
        except NameserverError as exc:
            raise validator.error((*where, "server"), f"{exc} (IP or IP:PORT)") from None
    key_file = _path(validator, table, (*where, "tsig_key_file"))
    key = _read_key(validator, key_file, (*where, "tsig_key_file")) if key_file else None
    if provider == "rfc2136" and key is None:
        raise validator.error(
            (*where, "tsig_key_file"),
            "rfc2136 needs a TSIG key (a BIND key file, as `tsig-keygen` or `knotc` write)",
        )
    credentials = _path(validator, table, (*where, "credentials_file"))
    if credentials is not None:
        _private(validator, credentials, (*where, "credentials_file"))
    return PublishSettings(provider, server, key_file, key, credentials)


def _path(validator: Validator, table: dict, key: tuple[str | int, ...]) -> Path | None:
    value = table.get(key[-1])
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise validator.error(key, "must be the path of a file")
    path = Path(value).expanduser()
    if not path.is_absolute() and validator.path is not None:
        path = validator.path.parent / path
    return path


def _read_key(validator: Validator, path: Path, key: tuple[str | int, ...]) -> TsigKeyConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise validator.error(key, f"cannot read {path}: {exc.strerror or exc}") from None
    match = _KEY_BLOCK.search(text)
    if match is None:
        raise validator.error(key, f'{path}: no `key "name" {{ algorithm ...; secret "..."; }};`')
    name, body = match.groups()
    algorithm = re.search(r"algorithm\s+\"?([A-Za-z0-9-]+)\"?\s*;", body)
    secret = re.search(r'secret\s+"([A-Za-z0-9+/=]+)"\s*;', body)
    if algorithm is None or algorithm.group(1).lower() not in _ALGORITHMS:
        raise validator.error(
            key, f"{path}: key {name!r} has no known algorithm ({', '.join(_ALGORITHMS)})"
        )
    if secret is None:
        raise validator.error(key, f"{path}: key {name!r} has no base64 secret")
    return TsigKeyConfig(name if name.endswith(".") else name + ".", algorithm.group(1).lower(),
                         secret.group(1))  # fmt: skip


def _private(validator: Validator, path: Path, key: tuple[str | int, ...]) -> None:
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise validator.error(key, f"cannot read {path}: {exc.strerror or exc}") from None
    if mode & 0o077:
        raise validator.error(
            key, f"{path} can be read by other users: it holds secrets (chmod 600 {path})"
        )
