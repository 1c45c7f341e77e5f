"""Editing the domain list in the config file: add or remove one `[[domains]]` table by
changing only its lines, so that nothing else the user wrote — comments included — moves.

Each edit is proven before it is written (the new text must load to exactly the expected
domains) and saved by save.py (atomic, with a `.bak`, refused if the file changed on disk).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from esm_tui.config.errors import ConfigChangedError, ConfigError, DomainNameError
from esm_tui.config.load import decode_text, load_config, parse_config
from esm_tui.config.model import Config
from esm_tui.config.names import normalize_domain
from esm_tui.config.save import FileChangedError, SaveError, edit_file
from esm_tui.config.toml_layout import scan


def add_domain(config: Config, name: str) -> Config:
    """Append a [[domains]] table for `name` to the file (created if absent); return the
    reloaded config. Comments and everything else in the file stay byte-for-byte."""
    path = _editable_path(config)
    wanted = _normalize_for_edit(path, name)
    shown = name.strip()
    shown = (shown[:-1] if shown.endswith(".") else shown).lower()

    def edit(current: bytes | None) -> bytes:
        text = decode_text(current or b"", path)
        before = _names(text, path)
        if wanted in before:
            raise ConfigError(path, f"{wanted} is already in the config")
        block = f"[[domains]]\nname = {toml_string(shown)}\n"
        new = append_block(text, block)
        return _checked(new, [*before, wanted], path, f"cannot add {wanted}")

    _edit(config, path, edit)
    return load_config(path)


def remove_domain(config: Config, name: str) -> Config:
    """Remove the lines of `name`'s [[domains]] table from the file; return the reloaded
    config. Comments after the table (above the next one) and all else stay as they were."""
    path = _editable_path(config)
    wanted = _normalize_for_edit(path, name)

    def edit(current: bytes | None) -> bytes:
        text = decode_text(current or b"", path)
        before = _names(text, path)
        if wanted not in before:
            raise ConfigError(path, f"{wanted} is not in the config")
        index = before.index(wanted)
        body = text.removeprefix("\ufeff")
        span = scan(body).table_span(("domains", index))
        if span is None:
            raise ConfigError(
                path,
                f"cannot remove {wanted}: it is not written as a [[domains]] table "
                "(edit the file by hand)",
            )
        new = text[: len(text) - len(body)] + remove_span(body, *span)
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
        edit_file(path, config.fingerprint, edit)
    except FileChangedError:
        raise ConfigChangedError(
            path, "the file changed on disk since it was loaded; reload it and try again"
        ) from None
    except SaveError as exc:
        raise ConfigError(path, str(exc)) from None


# -- text edits ------------------------------------------------------------------------------


#: What a TOML basic string cannot hold as it is: the control characters but tab.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def toml_string(text: str) -> str:
    """`text` as a TOML basic string. TOML forbids only `"`, `\\` and the control characters
    (but tab) inside one, so those are escaped and everything else, IDN included, stays."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", escaped) + '"'


def newline_of(text: str) -> str:
    """The file's line ending, so appended lines match it."""
    return "\r\n" if "\r\n" in text else "\n"


def append_block(text: str, block: str) -> str:
    """`text` with `block` (lines ending in "\\n") appended after one blank line."""
    newline = newline_of(text)
    block = block.replace("\n", newline)
    if not text:
        return block
    if not text.endswith("\n"):
        text += newline
    if text.strip() and not text.endswith(newline * 2):
        text += newline
    return text + block


def remove_span(text: str, start: int, end: int) -> str:
    """Remove the lines `start:end` and the blank lines after them; when that reaches the
    end of the text, also the blank lines before them (so adding then removing a table gives
    back the original text). Comments after the span belong to what follows: they stay."""
    end = _skip_blank_lines_forward(text, end)
    if end >= len(text):
        start = _skip_blank_lines_backward(text, start)
    return text[:start] + text[end:]


def _skip_blank_lines_forward(text: str, pos: int) -> int:
    while pos < len(text):
        newline = text.find("\n", pos)
        line_end = len(text) if newline < 0 else newline + 1
        if text[pos:line_end].strip():
            break
        pos = line_end
    return pos


def _skip_blank_lines_backward(text: str, pos: int) -> int:
    while pos > 0:
        previous = text.rfind("\n", 0, pos - 1) + 1
        if text[previous:pos].strip():
            break
        pos = previous
    return pos
