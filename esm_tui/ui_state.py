"""What the dashboard remembers between runs that is not configuration: the theme.

Issue 17 item 7: a theme chosen in the command palette was forgotten at the next start.
The config file is the admin's (edited by hand, kept byte for byte except for the domain
tables `a`/`d` change), so this goes to a small JSON file beside the history database
(`$ESM_TUI_DATA_DIR`, else the user data dir). A missing, unreadable or malformed file
is ignored: the dashboard starts with its default theme and says nothing.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from esm_tui.history import default_path

log = logging.getLogger(__name__)

FILE_NAME = "ui-state.json"
#: Longest theme name accepted from the file (Textual's names are short words).
MAX_NAME = 64


def state_path() -> Path:
    return default_path().parent / FILE_NAME


def load_theme() -> str | None:
    """The theme saved by the last run, if any."""
    try:
        data = json.loads(state_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    theme = data.get("theme") if isinstance(data, dict) else None
    if isinstance(theme, str) and 0 < len(theme) <= MAX_NAME and theme.isprintable():
        return theme
    return None


def save_theme(theme: str) -> None:
    """Remember `theme` for the next run (atomically; a failure is logged, not raised)."""
    path = state_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"theme": theme}), encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        log.warning("could not remember the theme: %s", exc)
