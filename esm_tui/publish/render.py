"""The plan as text for a terminal or a ticket: each change as before → after, what stays,
why; DNS data escaped (esm_tui.text.display_safe), never interpreted."""

from __future__ import annotations

from collections.abc import Sequence

from esm_tui.model import CHECK_LABELS
from esm_tui.publish.plan import Change, Plan
from esm_tui.publish.verify import Served
from esm_tui.text import display_safe


def plan_text(plan: Plan, *, title: str | None = None) -> str:
    lines = [title or f"Plan for {display_safe(plan.domain)} (zone {display_safe(plan.zone)})"]
    if not plan.changes and not plan.unreadable:
        lines.append("  Nothing to change: every record esm-tui can fix is as it should be.")
    for change in plan.changes:
        lines.extend(change_lines(change))
    for what in plan.unreadable:
        lines.append(f"  ? {display_safe(what)}: could not be read from the zone; not planned.")
    auto, manual = len(plan.automatic), len(plan.manual)
    if plan.changes:
        lines.append(
            f"{auto} change{'s' * (auto != 1)} esm-tui can publish, {manual} to make by hand."
        )
    return "\n".join(lines) + "\n"


def change_lines(change: Change) -> list[str]:
    label = CHECK_LABELS.get(change.check, change.check)
    head = "MANUAL " if change.manual else ""
    state = "" if change.before else " (new)"
    lines = [f"  {head}{label}: {change.type} {display_safe(change.name)} TTL {change.ttl}{state}"]
    if change.manual:
        lines.append(f"    why: {display_safe(change.why)}")
        lines.extend(f"    - {display_safe(step)}" for step in change.steps[1:])
        return lines
    removed = [v for v in change.before if v not in change.after]
    added = [v for v in change.after if v not in change.before]
    kept = [v for v in change.before if v in change.after]
    lines.extend(f"    - {_quoted(v)}" for v in removed)
    lines.extend(f"    + {_quoted(v)}" for v in added)
    lines.extend(f"      {_quoted(v)}  (stays)" for v in kept)
    lines.append(f"    why: {display_safe(change.why)}")
    lines.extend(f"    · {display_safe(step)}" for step in change.steps[:_STEPS])
    return lines


#: Steps shown per automatic change (the SPF fix explains each term it changed).
_STEPS = 8


def served_text(served: Sequence[Served]) -> str:
    if not served:
        return "No authoritative server could be asked (no NS address found).\n"
    lines = []
    for s in served:
        if s.serves:
            lines.append(f"  ✓ {display_safe(s.host)} ({s.address}) serves the new records")
        else:
            missing = ", ".join(display_safe(m) for m in s.missing)
            lines.append(f"  … {display_safe(s.host)} ({s.address}) does not yet: {missing}")
    return "\n".join(lines) + "\n"


def _quoted(value: str) -> str:
    return '"' + display_safe(value) + '"'
