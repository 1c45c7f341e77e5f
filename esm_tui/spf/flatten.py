"""Over 10 DNS lookups: includes (and the record's own mx/a terms) replaced by the ip4/ip6
ranges they resolve to now, as found by the tree walk (RFC 7208 §4.6.4)."""

from __future__ import annotations

import ipaddress
from collections import deque
from collections.abc import Collection, Mapping

from esm_tui.spf.draft import Draft, Slot, format_range, is_mechanism
from esm_tui.spf.evaluate import MAX_LOOKUPS
from esm_tui.spf.parse import Mechanism, Modifier
from esm_tui.spf.redundant import rotating
from esm_tui.spf.tree_model import Network, TreeNode


def _cost(slot: Slot, tree: TreeNode | None, relay_trees: Mapping[str, TreeNode]) -> int:
    term = slot.term
    if slot.flattened or term is None:
        return 0
    if isinstance(term, Modifier):
        if term.name != "redirect":
            return 0
        child = _child(tree, slot.text)
        return child.total_lookups if child is not None else 1
    if term.name == "include":
        child = _child(tree, slot.text) or relay_trees.get(_target(term))
        return child.total_lookups if child is not None else 1
    return 1 if term.costs_lookup else 0


def _child(tree: TreeNode | None, via: str) -> TreeNode | None:
    if tree is None:
        return None
    return next((c for c in tree.children if c.via == via), None)


def _target(term: Mechanism) -> str:
    spec = term.domain_spec
    return spec.text.lower().rstrip(".") if spec is not None else ""


def _evaluated(draft: Draft) -> list[Slot]:
    """The slots an evaluation can reach: up to the first all; the redirect if no all."""
    at = draft.all_index()
    if at is not None:
        return draft.slots[: at + 1]
    return draft.slots


def limit_lookups(
    draft: Draft,
    tree: TreeNode | None,
    relay_includes: Collection[str],
    relay_trees: Mapping[str, TreeNode],
) -> None:
    """Over 10 lookups: replace the heaviest includes (then the record's own mx/a terms) by
    the ranges they resolve to now — but only when that brings the record within the
    limit; a record made static without being fixed would be worse off."""
    total = sum(_cost(s, tree, relay_trees) for s in _evaluated(draft))
    if total <= MAX_LOOKUPS:
        return
    keep = {name.lower().rstrip(".") for name in relay_includes}  # the relay's stay dynamic
    plan: list[tuple[int, Slot, list[Network]]] = []
    stuck: list[str] = []
    for slot in _evaluated(draft):
        term = slot.term
        if not isinstance(term, Mechanism) or term.name != "include" or _target(term) in keep:
            continue
        if rotating(_target(term)):
            # Google, Microsoft 365, Amazon SES, SendGrid, Mailgun…: they change their
            # ranges and ask customers to include them; a copy would break silently.
            stuck.append(f"'{slot.text}' (a provider that rotates its ranges: kept)")
            continue
        child = _child(tree, slot.text)
        if child is None:
            continue
        if child.subtree_flattenable():
            plan.append((child.total_lookups, slot, child.subtree_ranges()))
        else:
            stuck.append(f"'{slot.text}' ({child.total_lookups} lookups)")
    plan.sort(key=lambda p: -p[0])
    _name_heavy_includes(draft, plan, total)
    plan += _own_terms(draft, tree)
    chosen, remaining = [], total
    for step in plan:
        if remaining <= MAX_LOOKUPS:
            break
        chosen.append(step)
        remaining -= step[0]
    if remaining > MAX_LOOKUPS:
        draft.steps.append(
            f"The record still needs {total} DNS lookups (limit {MAX_LOOKUPS}, RFC 7208 §4.6.4). "
            + (
                "These includes cannot be written as fixed ranges (they use ptr, exists or "
                "macros, or a lookup failed): " + ", ".join(stuck) + ". "
                if stuck
                else ""
            )
            + "Remove senders you no longer use, or ask those providers for a lighter include."
        )
        return
    for cost, slot, ranges in chosen:
        _flatten(draft, slot, ranges, cost)


def _name_heavy_includes(
    draft: Draft, plan: list[tuple[int, Slot, list[Network]]], total: int
) -> None:
    """Before flattening: the includes an admin may no longer need, named, not removed."""
    if not plan:
        return
    named = ", ".join(f"'{slot.text}' ({cost})" for cost, slot, _ in plan[:4])
    draft.steps.append(
        f"The record needs {total} DNS lookups (limit {MAX_LOOKUPS}). If you no longer send "
        f"mail through some of these services, removing their include is the better fix: "
        f"{named}. Otherwise, as below, the heaviest are replaced by their current ranges."
    )


def _own_terms(draft: Draft, tree: TreeNode | None) -> list[tuple[int, Slot, list[Network]]]:
    """The record's own mx, then a, terms that resolved completely (1 lookup each)."""
    if tree is None:
        return []
    found: list[tuple[int, Slot, list[Network]]] = []
    for name in ("mx", "a"):
        # The slots not yet taken, by text, in record order: a term is matched to the first
        # of them, which is taken only when flattened. Looked up, not searched: a search
        # of every slot for every term was quadratic (300 s for a 60 KB record of 30,000
        # `a` terms, measured).
        free: dict[str, deque[Slot]] = {}
        for s in draft.slots:
            if is_mechanism(s.term, name):
                free.setdefault(s.text, deque()).append(s)
        for cost in tree.terms:
            waiting = free.get(cost.term)
            slot = waiting[0] if waiting else None
            if slot is None or not cost.resolved or cost.void:
                continue
            assert isinstance(slot.term, Mechanism)
            if slot.term.qualifier != "+":
                continue
            waiting.popleft()
            v4 = ipaddress.collapse_addresses([r for r in cost.ranges if r.version == 4])
            v6 = ipaddress.collapse_addresses([r for r in cost.ranges if r.version == 6])
            found.append((1, slot, [*v4, *v6]))
    return found


def _flatten(draft: Draft, slot: Slot, ranges: list[Network], cost: int) -> None:
    original = slot.text
    replacement = " ".join(format_range(r) for r in ranges)
    slot.text = replacement
    slot.flattened = True
    if not replacement:
        draft.slots.remove(slot)
    listed = replacement or "nothing (it authorizes no address)"
    lookups = "1 lookup" if cost == 1 else f"{cost} lookups"
    draft.steps.append(
        f"Replaced '{original}' ({lookups}) with the addresses it resolves to now: "
        f"{listed}. Fixed ranges do not follow later changes of those hosts: re-check "
        "regularly (esm-tui shows when the record needs updating)."
    )
