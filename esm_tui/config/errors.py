"""The config's errors: `ConfigError` ("PATH:LINE:COL: key.path: message", exit 64 in the
CLI) and the errors of a single value (a domain name, a DKIM selector).
"""

from __future__ import annotations

from pathlib import Path


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
