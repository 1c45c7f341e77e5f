"""The config file as text: where each key is, for error messages and surgical edits.

tomllib gives positions only for syntax errors, and tomli-w would drop every comment on a
round trip. So this module reads the TOML text itself — best effort, after tomllib has
accepted it — to map key paths such as `("domains", 2, "dkim_selectors", 0)` to offsets
(validate.py's line and column), and to find the exact lines of one `[[domains]]` table
(edit.py's removal). It never raises on odd input: a position it cannot find is simply
absent. No I/O here.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field

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
