"""`esm-tui check --until-ok` as the command runs it: the loop of until_ok.py in an event
loop, with the notifications of `[notify]` and `--notify`, and Ctrl-C ending it cleanly."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from esm_tui.model import DomainReport, Status
from esm_tui.until_ok import run_until_ok


def run_until_ok_cli(
    args: argparse.Namespace,
    names: Sequence[str],
    check: Callable[[str], Awaitable[DomainReport]],
    dns: Any,
    config: Any,
) -> Status:
    """Run `--until-ok` to its end; the worst status (of the last check at a timeout)."""
    return asyncio.run(
        run_until_ok(names, check, dns.clear_cache, every=args.every, timeout=args.timeout)
    )
