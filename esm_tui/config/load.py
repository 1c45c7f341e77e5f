"""Finding and reading the config file: the default path, $ESM_TUI_CONFIG, `--config`, and
the bytes turned into a validated `Config` (validate.py), or a `ConfigError` with the
file, line and column (SPEC §1: exit 64 with the location, never a traceback).
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path

import platformdirs

from esm_tui.config.errors import ConfigError
from esm_tui.config.model import Config
from esm_tui.config.notify_section import validate_notify
from esm_tui.config.publish_section import validate_publish
from esm_tui.config.save import fingerprint
from esm_tui.config.toml_layout import line_col
from esm_tui.config.validate import Validator

ENV_VAR = "ESM_TUI_CONFIG"
#: More than any config (10,000 domains take ~600 KB): `--config /dev/zero` is refused
#: instead of read until memory runs out.
MAX_CONFIG_BYTES = 8 * 1024 * 1024


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir("esm-tui")) / "config.toml"


def resolve_config_path(cli_path: str | None) -> Path:
    """--config, else $ESM_TUI_CONFIG, else the platform's user config dir."""
    chosen = cli_path or os.environ.get(ENV_VAR) or None
    return Path(chosen).expanduser() if chosen else default_config_path()


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
    text = decode_text(raw, path)
    body = text.removeprefix("\ufeff")  # editors on Windows like to add one
    try:
        document = tomllib.loads(body)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, body, path) from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of 5000 digits
        raise ConfigError(path, f"cannot parse it: {exc}") from None
    validator = Validator(path, body)
    settings, relay, domains = validator.document(document)
    notify = validate_notify(validator, document)
    publish = validate_publish(validator, document.get("publish"), ("publish",))
    return Config(settings, relay, domains, path, fingerprint(raw), notify=notify, publish=publish)


def decode_text(raw: bytes, path: Path | None) -> str:
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
        line, col = line_col(text, len(text))
        return ConfigError(
            path, f"TOML syntax: {message[: found.start()]} at the end of the file", line, col
        )
    return ConfigError(path, f"TOML syntax: {message}")
