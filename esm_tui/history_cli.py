"""`esm-tui history DOMAIN [--json] [--config PATH]`: the status timeline of a domain's records.

Reads the history database (never creates it). Exit 0 when the history could be read
(even if empty), 64 on bad arguments or config, 74 (EX_IOERR) when the database cannot
be read. No tracebacks: every problem is one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import NoReturn

from esm_tui.config import (
    ConfigError,
    DomainNameError,
    load_config,
    normalize_domain,
    resolve_config_path,
)
from esm_tui.history import (
    History,
    HistoryError,
    Transition,
    default_path,
    render_timeline,
    timeline_json,
)
from esm_tui.model import CHECK_LABELS, Status
from esm_tui.text import display_safe

EX_OK = 0
EX_USAGE = 64
EX_IOERR = 74

_LABELS = CHECK_LABELS


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EX_USAGE, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="esm-tui history",
        description="The status timeline of a domain's records, newest last: each status "
        "change the dashboard, `check` and `monitor` recorded in the "
        "history database (when each record turned OK, failed, and for how long).",
    )
    parser.add_argument("domain", metavar="DOMAIN", help="the domain whose records to show")
    parser.add_argument("--json", action="store_true", help="JSON output")
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $ESM_TUI_CONFIG or the user config dir)",
    )
    return parser


def run_history(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        domain = normalize_domain(args.domain)
    except DomainNameError as exc:
        print(f"esm-tui history: {exc}", file=sys.stderr)
        return EX_USAGE
    try:
        config = load_config(resolve_config_path(args.config))
    except ConfigError as exc:
        print(f"esm-tui history: {exc}", file=sys.stderr)
        return EX_USAGE
    if not config.settings.history:
        print(
            f"esm-tui history: history is off in {config.path} (settings.history = false); "
            "showing what was recorded before",
            file=sys.stderr,
        )
    timeline = _read(domain)
    if isinstance(timeline, HistoryError):
        print(f"esm-tui history: {timeline}", file=sys.stderr)
        return EX_IOERR
    if args.json:
        json.dump(timeline_json(domain, timeline), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(domain, timeline))
    return EX_OK


def _read(domain: str) -> dict[str, list[Transition]] | HistoryError:
    path = default_path()
    if not path.exists():
        return {}
    history = History.open(path, create=False)
    if isinstance(history, HistoryError):
        return history
    try:
        return history.timeline(domain)
    finally:
        history.close()


def render_text(
    domain: str, timeline: dict[str, list[Transition]], *, now: datetime | None = None
) -> str:
    """Per record: the timeline in words, then each transition with its summary."""
    if not timeline:
        return f"no history recorded for {domain}\n"
    now = now or datetime.now(UTC)
    lines = [domain]
    for name, transitions in timeline.items():
        label = _LABELS.get(name, name.upper())
        lines.append(f"  {label:<6} {display_safe(render_timeline(transitions, now=now))}")
        for t in transitions:
            at = t.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
            word = Status(t.status).word
            lines.append(f"         {at}  {word:<4}  {display_safe(t.summary)}")
    return "\n".join(lines) + "\n"
