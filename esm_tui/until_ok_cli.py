"""`esm-tui check --until-ok` as the command runs it: the loop of until_ok.py in an event
loop, with the notifications of `[notify]` and `--notify`, and Ctrl-C ending it cleanly."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from esm_tui.model import DomainReport, Status
from esm_tui.notify.sender import NotifyError
from esm_tui.notify.setup import start_notifications
from esm_tui.until_ok import run_until_ok


class NotifyUsageError(Exception):
    """Notifications asked for cannot start: the caller prints it as a usage error."""


def run_until_ok_cli(
    args: argparse.Namespace,
    names: Sequence[str],
    check: Callable[[str], Awaitable[DomainReport]],
    dns: Any,
    config: Any,
) -> Status:
    """Run `--until-ok` to its end; the worst status (of the last check at a timeout)."""
    try:
        notifications = start_notifications(config.notify, args.notify)
    except NotifyError as exc:
        raise NotifyUsageError(str(exc)) from None
    try:
        return asyncio.run(
            run_until_ok(
                names,
                check,
                dns.clear_cache,
                every=args.every,
                timeout=args.timeout,
                on_round=notifications.feed if notifications else None,
            )
        )
    finally:
        if notifications is not None:
            notifications.close()
