"""The config file as text: where each key is, and surgical edits that keep comments.

tomllib gives positions only for syntax errors, and tomli-w would drop every comment on a
round trip. So this module reads the TOML text itself — best effort, after tomllib has
accepted it — to map key paths such as `("domains", 2, "dkim_selectors", 0)` to offsets,
and to find the exact lines of one `[[domains]]` table. It never raises on odd input:
a position it cannot find is simply absent. No I/O here except `write_atomic`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

KeyPath = tuple[str | int, ...]

BARE_KEY = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
#: Containers nested deeper than this are skipped without recording positions (no recursion
#: limit trouble; no config key is nested that deep).
_MAX_DEPTH = 32


@dataclass(frozen=True)
class Statement:
    """A table header or a `key = value` line (its value may span several lines)."""

    start: int  # offset of the first character ('[' or the key)
    line_start: int  # offset of the start of its first line
    line_end: int  # offset just after the newline that ends its last line (or len(text))
    path: KeyPath  # resolved: array-of-tables elements carry their index
    header: bool
    array: bool = False  # a [[header]]


@dataclass
class Layout:
    """Positions of keys and statements in a TOML text."""

    text: str
    positions: dict[KeyPath, int] = field(default_factory=dict)
    statements: list[Statement] = field(default_factory=list)

    def offset(self, path: KeyPath) -> int | None:
        """Offset of `path`, or of its longest prefix that was found."""
        for length in range(len(path), 0, -1):
            found = self.positions.get(path[:length])
            if found is not None:
                return found
        return None

    def line_col(self, path: KeyPath) -> tuple[int | None, int | None]:
        """1-based line and column of `path` (see `offset`), or (None, None)."""
        found = self.offset(path)
        if found is None:
            return None, None
        return line_col(self.text, found)

    def table_span(self, path: KeyPath) -> tuple[int, int] | None:
        """(start, end) offsets of the lines of the `[[...]]` table whose resolved path is
        `path`: its header line through its last key line; None if not written as a header."""
        for number, statement in enumerate(self.statements):
            if statement.header and statement.array and statement.path == path:
                end = statement.line_end
                for other in self.statements[number + 1 :]:
                    if other.header:
                        break
                    end = max(end, other.line_end)
                return statement.line_start, end
        return None


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def scan(text: str) -> Layout:
    """Map the key paths of a TOML text to offsets. Total: never raises, always ends."""
    scanner = _Scanner(text)
    scanner.run()
    return scanner.layout


class _Scanner:
    def __init__(self, text: str) -> None:
        self.t = text
        self.n = len(text)
        self.i = 0
        self.layout = Layout(text)
        #: current index of each array of tables, keyed by its resolved path
        self.array_index: dict[KeyPath, int] = {}

    # -- statements ------------------------------------------------------------------------

    def run(self) -> None:
        prefix: KeyPath = ()
        while True:
            self.skip_blank()
            if self.i >= self.n:
                return
            start = self.i
            if self.t[start] == "[":
                array = self.t.startswith("[[", start)
                self.i += 2 if array else 1
                key = self.key()
                self.skip_inline_ws()
                closing = "]]" if array else "]"
                if self.t.startswith(closing, self.i):
                    self.i += len(closing)
                prefix = self.open_table(key, array, start)
                self.to_line_end()
                self.add(start, prefix, header=True, array=array)
                continue
            key = self.key()
            self.skip_inline_ws()
            if not key or self.i >= self.n or self.t[self.i] != "=":
                self.i = max(self.i, start + 1)
                self.to_line_end()
                continue
            self.i += 1
            self.skip_inline_ws()
            path = prefix + key
            self.record(path, start, len(prefix))
            self.value(path, 0)
            self.to_line_end()
            self.add(start, path, header=False)

    def add(self, start: int, path: KeyPath, *, header: bool, array: bool = False) -> None:
        line_start = self.t.rfind("\n", 0, start) + 1
        self.layout.statements.append(Statement(start, line_start, self.i, path, header, array))

    def open_table(self, key: tuple[str, ...], array: bool, start: int) -> KeyPath:
        # A header names a path through the document; an array of tables on that path means
        # "its last element", and the last part of a [[header]] starts a new element.
        resolved: KeyPath = ()
        for number, part in enumerate(key):
            resolved += (part,)
            self.layout.positions.setdefault(resolved, start)
            if array and number == len(key) - 1:
                index = self.array_index.get(resolved, -1) + 1
                self.array_index[resolved] = index
                resolved += (index,)
                self.layout.positions.setdefault(resolved, start)
            elif resolved in self.array_index:
                resolved += (self.array_index[resolved],)
        return resolved

    def record(self, path: KeyPath, start: int, known: int) -> None:
        # Dotted keys (`a.b = 1`) also define the tables on the way.
        for length in range(known + 1, len(path) + 1):
            self.layout.positions.setdefault(path[:length], start)

    # -- keys and values -------------------------------------------------------------------

    def key(self) -> tuple[str, ...]:
        parts: list[str] = []
        while True:
            self.skip_inline_ws()
            if self.i >= self.n:
                break
            char = self.t[self.i]
            if char in "\"'":
                end = self.string_end(self.i)
                parts.append(_decode_quoted(self.t[self.i : end]))
                self.i = end
            elif char in BARE_KEY:
                end = self.i
                while end < self.n and self.t[end] in BARE_KEY:
                    end += 1
                parts.append(self.t[self.i : end])
                self.i = end
            else:
                break
            self.skip_inline_ws()
            if self.i < self.n and self.t[self.i] == ".":
                self.i += 1
                continue
            break
        return tuple(parts)

    def value(self, path: KeyPath, depth: int) -> None:
        if self.i >= self.n:
            return
        char = self.t[self.i]
        if char in "[{" and depth >= _MAX_DEPTH:
            self.skip_container()
        elif char == "[":
            self.array(path, depth)
        elif char == "{":
            self.inline_table(path, depth)
        elif char in "\"'":
            self.i = self.string_end(self.i)
        else:
            while self.i < self.n and self.t[self.i] not in ",]}#\n":
                self.i += 1

    def array(self, path: KeyPath, depth: int) -> None:
        self.i += 1
        index = 0
        while True:
            self.skip_blank()
            if self.i >= self.n:
                return
            char = self.t[self.i]
            if char == "]":
                self.i += 1
                return
            if char in ",}":
                self.i += 1
                continue
            element = (*path, index)
            self.layout.positions.setdefault(element, self.i)
            before = self.i
            self.value(element, depth + 1)
            index += 1
            if self.i == before:
                self.i += 1

    def inline_table(self, path: KeyPath, depth: int) -> None:
        self.i += 1
        while True:
            self.skip_blank()
            if self.i >= self.n:
                return
            char = self.t[self.i]
            if char == "}":
                self.i += 1
                return
            if char == ",":
                self.i += 1
                continue
            start = self.i
            key = self.key()
            self.skip_inline_ws()
            if not key or self.i >= self.n or self.t[self.i] != "=":
                self.i = max(self.i, start + 1)
                continue
            self.i += 1
            self.skip_inline_ws()
            self.record(path + key, start, len(path))
            self.value(path + key, depth + 1)

    def skip_container(self) -> None:
        level = 0
        while self.i < self.n:
            char = self.t[self.i]
            if char in "\"'":
                self.i = self.string_end(self.i)
                continue
            if char == "#":
                self.skip_comment()
                continue
            if char in "[{":
                level += 1
            elif char in "]}":
                level -= 1
                if level <= 0:
                    self.i += 1
                    return
            self.i += 1

    def string_end(self, pos: int) -> int:
        """Offset just after the string starting at `pos` (or the end of its line/text)."""
        t, n = self.t, self.n
        for quotes in ('"""', "'''"):
            if t.startswith(quotes, pos):
                j = pos + 3
                while j < n:
                    if quotes[0] == '"' and t[j] == "\\":
                        j += 2
                    elif t.startswith(quotes, j):
                        j += 3
                        # Up to two quotes may sit just inside the closing delimiter.
                        for _ in range(2):
                            if j < n and t[j] == quotes[0]:
                                j += 1
                        return min(j, n)
                    else:
                        j += 1
                return n
        quote = t[pos]
        j = pos + 1
        while j < n:
            char = t[j]
            if char == "\\" and quote == '"':
                j += 2
            elif char == quote:
                return j + 1
            elif char == "\n":
                return j
            else:
                j += 1
        return n

    # -- whitespace ------------------------------------------------------------------------

    def skip_inline_ws(self) -> None:
        while self.i < self.n and self.t[self.i] in " \t\r":
            self.i += 1

    def skip_comment(self) -> None:
        end = self.t.find("\n", self.i)
        self.i = self.n if end < 0 else end

    def skip_blank(self) -> None:
        while self.i < self.n:
            char = self.t[self.i]
            if char in " \t\r\n":
                self.i += 1
            elif char == "#":
                self.skip_comment()
            else:
                return

    def to_line_end(self) -> None:
        end = self.t.find("\n", self.i)
        self.i = self.n if end < 0 else end + 1


def _decode_quoted(raw: str) -> str:
    """The value of a quoted key; its raw inner text if tomllib will not decode it."""
    try:
        value = tomllib.loads(f"k = {raw}").get("k")
    except (ValueError, RecursionError):
        value = None
    return value if isinstance(value, str) else raw[1:-1]


# -- edits ---------------------------------------------------------------------------------


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


# -- writing -------------------------------------------------------------------------------


class FileChangedError(Exception):
    """The file on disk is not the one the edit was computed from."""


class SaveError(Exception):
    """Reading or writing the file failed; the message names the file and the OS reason."""


def fingerprint(data: bytes | None) -> str | None:
    """sha256 of the file bytes (None: no file), to notice edits made behind our back."""
    return None if data is None else hashlib.sha256(data).hexdigest()


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def edit_file(path: Path, expected: str | None, edit: Callable[[bytes | None], bytes]) -> None:
    """Replace the file's bytes by `edit(current bytes or None)`, safely.

    Refuses (FileChangedError) when the file's fingerprint is not `expected`, checked before
    the edit and again just before the rename. Keeps the previous bytes in `PATH.bak`. A
    symlinked config stays a symlink: its target is written. Exceptions from `edit` pass
    through; I/O failures raise SaveError and leave the original untouched.
    """
    target = Path(os.path.realpath(path))
    current = _read(target)
    if fingerprint(current) != expected:
        raise FileChangedError(str(path))
    new = edit(current)

    def unchanged() -> None:
        if fingerprint(_read(target)) != expected:
            raise FileChangedError(str(path))

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SaveError(f"cannot create the directory {target.parent}: {_reason(exc)}") from None
    if current is not None:
        bak = backup_path(target)
        try:
            # The backup is as private as the config it copies.
            write_atomic(bak, current, mode=stat.S_IMODE(target.stat().st_mode))
        except OSError as exc:
            raise SaveError(f"cannot write the backup {bak}: {_reason(exc)}") from None
    try:
        write_atomic(target, new, before_replace=unchanged)
    except OSError as exc:
        raise SaveError(f"cannot write {target}: {_reason(exc)}") from None


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SaveError(f"cannot read {path}: {_reason(exc)}") from None


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def write_atomic(
    path: Path,
    data: bytes,
    *,
    mode: int | None = None,
    before_replace: Callable[[], None] | None = None,
) -> None:
    """Write `data` to `path` through a temp file in the same directory, fsync, os.replace.

    The file keeps its permission bits unless `mode` is given (a new one gets 0o644).
    `before_replace` runs after the temp file is complete and may raise to abort; the temp
    file is removed on any failure, so the original is untouched. Raises OSError.
    """
    if mode is None:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = 0o644
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, mode)
        if before_replace is not None:
            before_replace()
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not every platform/filesystem allows it.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
