"""The `[notify]` section (SPEC §7): Apprise URLs, `unknown_after`, `terminal`.

The URLs often hold secrets (tokens, passwords): a message about one names its position
and its scheme only (`redact`), never the rest of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # validate imports the model, which holds NotifySettings
    from esm_tui.config.validate import Validator

NOTIFY_KEYS = ("urls", "unknown_after", "terminal")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://\S+")


@dataclass(frozen=True)
class NotifySettings:
    """Where status changes go: Apprise URLs, how many checks a change to or from unknown
    must hold before it is sent, and whether the dashboard notifies through the terminal."""

    urls: tuple[str, ...] = ()
    unknown_after: int = 3
    terminal: bool = True


def redact(url: str) -> str:
    """`scheme://…`: what may be printed of a notification URL."""
    match = _SCHEME.fullmatch(url.strip())
    return f"{match.group(1).lower()}://…" if match else "(not a URL)"


def notify_url(text: str) -> str:
    """A notification URL as written (`scheme://...`); ValueError, without the URL's text,
    for anything else."""
    if _SCHEME.fullmatch(text.strip()) is None:
        raise ValueError("is not an Apprise URL (scheme://..., e.g. ntfy://topic)")
    return text.strip()


def validate_notify(validator: Validator, document: dict[str, Any]) -> NotifySettings:
    """`[notify]` of a parsed config document (defaults when absent); ConfigError on a
    mistake, naming the key and line."""
    table = validator.table(document, "notify")
    validator.known_keys(table, ("notify",), NOTIFY_KEYS)
    return NotifySettings(
        urls=validator.strings(table, ("notify", "urls"), notify_url) or (),
        unknown_after=validator.integer(table, "notify", "unknown_after", 3, 1, 1000),
        terminal=validator.boolean(table, "notify", "terminal", True),
    )
