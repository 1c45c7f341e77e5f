"""Durations as people type them on the command line: `90s`, `15m`, `2h`, `24h`, `1d`, or
plain seconds (`--timeout` of `check --until-ok`)."""

from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PATTERN = re.compile(r"(\d+(?:\.\d+)?)([smhd]?)")


class DurationError(ValueError):
    """Text that is not a duration; the message says what is expected."""


def parse_duration(text: str) -> float:
    """Seconds of `text`: a positive number with an optional unit s, m, h or d."""
    match = _PATTERN.fullmatch(text.strip().lower())
    if match is None or float(match.group(1)) <= 0:
        raise DurationError(
            f"{text!r} is not a duration: a positive number with s, m, h or d (90s, 2h, 24h)"
        )
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]
