"""The `check` options of SPEC §7: `--demo`, `--format`, `--until-ok` (`--every`,
`--timeout`) and `--notify`; cli.py registers them with one call and asks this module
for the output format and the demo's config."""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator

from esm_tui.duration import DurationError, parse_duration

FORMATS = ("table", "json", "nagios")
#: Seconds before the demo's late.example gets its DMARC record (tests shorten it).
DEMO_DELAY_ENV = "ESM_TUI_DEMO_DELAY"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--demo", action="store_true", help="check the built-in demo domains (loopback DNS server)"
    )
    parser.add_argument(
        "--format", choices=FORMATS, help="output: table (default), json, nagios (plugin)"
    )
    parser.add_argument(
        "--until-ok",
        action="store_true",
        help="re-check until every record is ok or none; one line per status change",
    )
    parser.add_argument(
        "--every",
        type=_seconds,
        default=30.0,
        metavar="SECONDS",
        help="with --until-ok: seconds between checks (default 30)",
    )
    parser.add_argument(
        "--timeout",
        type=_duration,
        metavar="DURATION",
        help="with --until-ok: give up after this long (90s, 2h, 24h); exit with the worst status",
    )
    parser.add_argument(
        "--notify",
        action="append",
        default=[],
        metavar="URL",
        help="Apprise URL to notify of status changes (repeatable; needs esm-tui[notify])",
    )


def output_format(args: argparse.Namespace) -> str:
    """`--format`, with `--json` as `--format json`; a conflict is a usage error."""
    if args.json and args.format not in (None, "json"):
        raise argparse.ArgumentTypeError(f"--json and --format {args.format} disagree")
    return "json" if args.json else args.format or "table"


@contextlib.contextmanager
def demo_config(args: argparse.Namespace) -> Iterator[None]:
    """With `--demo`: the demo server runs, and `args` point at its config (its resolver,
    its four domains) for as long as the check does."""
    if not args.demo:
        yield
        return
    from esm_tui.demo.scenario import Demo

    with Demo(delay=demo_delay()) as demo:
        args.config = str(demo.config_path)
        args.nameserver = []
        yield


def demo_delay() -> float:
    """When the demo's late.example gets its DMARC record: 20 s, or `$ESM_TUI_DEMO_DELAY`
    (the tests' way to see the change sooner)."""
    from esm_tui.demo.scenario import DELAY_SECONDS

    with contextlib.suppress(ValueError):
        return float(os.environ.get(DEMO_DELAY_ENV, DELAY_SECONDS))
    return DELAY_SECONDS


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except DurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
