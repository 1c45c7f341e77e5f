"""The text of a notification: a title and one line per change (domain, record,
old → new, summary). DNS data is attacker-controlled: every piece of it goes through
display_safe, and the body is sent as plain text (Apprise escapes it for HTML services)."""

from __future__ import annotations

from collections.abc import Sequence

from esm_tui.changes import DONE, Change
from esm_tui.model import Status, worst
from esm_tui.text import display_safe


def label(check: str) -> str:
    """`dmarc` -> `DMARC`, `mta_sts` -> `MTA-STS`: record names as admins write them."""
    return check.upper().replace("_", "-")


def change_line(change: Change) -> str:
    return (
        f"{display_safe(change.domain)} {label(change.check)}: {change.old} → {change.new} "
        f"({display_safe(change.summary)})"
    )


def title(changes: Sequence[Change]) -> str:
    if len(changes) == 1:
        only = changes[0]
        return f"esm-tui: {display_safe(only.domain)} {label(only.check)} {only.old} → {only.new}"
    domains = {c.domain for c in changes}
    where = display_safe(next(iter(domains))) if len(domains) == 1 else f"{len(domains)} domains"
    return f"esm-tui: {len(changes)} record changes on {where}"


def body(changes: Sequence[Change]) -> str:
    return "\n".join(change_line(c) for c in changes)


def severity(changes: Sequence[Change]) -> str:
    """The message's kind: `fail` or `warn` when a record got worse to that, `ok` when
    every change ends ok (or none), else `info`."""
    new = worst(c.new for c in changes)
    if new in (Status.FAIL, Status.WARN):
        return str(new)
    return "ok" if all(c.new in DONE for c in changes) else "info"
