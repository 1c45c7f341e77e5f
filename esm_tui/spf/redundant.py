"""The smallest edit first (issue 18 item 2): terms of an SPF record that authorize nobody
the rest of the record does not already authorize, and cost lookups or bytes for nothing.

- the same include twice in the record (the second is never reached with a new answer);
- an include of a name another include of the record already reaches below it (every
  path through `+include` only: a `+include:a` whose record has `include:b` makes the
  record's own `include:b` redundant);
- an `ip4`/`ip6` range inside another range of the record with the same qualifier.

Each is a finding (info) whatever the lookup count, and the fix removes them before it
considers dropping or flattening anything (esm_tui.spf.flatten). The providers that
rotate their ranges and ask customers not to copy them are named here too: the fix never
flattens their includes.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from esm_tui.spf.draft import Draft, Slot
from esm_tui.spf.parse import Mechanism
from esm_tui.spf.tree_model import TreeNode

#: Includes never flattened: these providers change their ranges and document that
#: customers must include them, not copy the addresses.
ROTATING = (
    "_spf.google.com",
    "spf.protection.outlook.com",
    "amazonses.com",
    "sendgrid.net",
    "mailgun.org",
    "spf.mandrillapp.com",
    "_spf.salesforce.com",
    "servers.mcsv.net",
    "mail.zendesk.com",
    "spf.brevo.com",
)


def rotating(target: str) -> bool:
    target = target.lower().rstrip(".")
    return any(target == r or target.endswith("." + r) for r in ROTATING)


@dataclass(frozen=True)
class Redundant:
    slot: Slot
    code: str
    why: str


def _target(slot: Slot) -> str | None:
    term = slot.term
    if not isinstance(term, Mechanism) or term.name != "include" or term.domain_spec is None:
        return None
    return term.domain_spec.text.lower().rstrip(".")


def _reached_below(node: TreeNode) -> set[str]:
    """Names reached through `+include` only, below `node` (not `node` itself)."""
    found: set[str] = set()
    stack = [node]
    seen = 0
    while stack and seen < 10_000:  # bounded: a tree has at most ~20 nodes (10 lookups)
        seen += 1
        current = stack.pop()
        for child in current.children:
            if child.via is None or not child.via.lstrip("+").startswith("include:"):
                continue
            if child.via_qualifier != "+":
                continue
            found.add(child.domain.lower().rstrip("."))
            stack.append(child)
    return found


def find_redundant(draft: Draft, tree: TreeNode | None) -> list[Redundant]:
    """The record's redundant terms, in record order (each slot at most once)."""
    out: list[Redundant] = []
    seen_includes: dict[str, str] = {}
    below: dict[str, set[str]] = {}
    if tree is not None:
        for child in tree.children:
            if child.via and child.via_qualifier == "+":
                below[child.via] = _reached_below(child)
    for slot in draft.slots:
        target = _target(slot)
        if target is None:
            continue
        if target in seen_includes:
            out.append(Redundant(slot, "spf.duplicate-include",
                                 f"'{slot.text}' appears twice in the record"))  # fmt: skip
            continue
        seen_includes[target] = slot.text
        qualifier = slot.term.qualifier if isinstance(slot.term, Mechanism) else "+"
        if qualifier != "+":
            continue
        for via, names in below.items():
            if via != slot.text and target in names:
                out.append(Redundant(
                    slot, "spf.redundant-include",
                    f"'{slot.text}' is already reached through '{via}', which includes it",
                ))  # fmt: skip
                break
    out.extend(_covered_ranges(draft, {id(r.slot) for r in out}))
    return out


#: Ranges compared pairwise at most (a record of 64 KB holds thousands): past this, the
#: covered-range search is skipped rather than quadratic (issue 19's bounded work).
_MAX_RANGES = 200


def _covered_ranges(draft: Draft, taken: set[int]) -> list[Redundant]:
    ranges: list[tuple[Slot, str, ipaddress.IPv4Network | ipaddress.IPv6Network]] = []
    for slot in draft.slots:
        term = slot.term
        if not isinstance(term, Mechanism) or term.name not in ("ip4", "ip6"):
            continue
        try:
            network = ipaddress.ip_network(slot.text.lstrip("+-~?").split(":", 1)[1], strict=False)
        except ValueError:
            continue
        ranges.append((slot, term.qualifier, network))
    if len(ranges) > _MAX_RANGES:
        return []
    out = []
    for slot, qualifier, network in ranges:
        if id(slot) in taken:
            continue
        wider = next(
            (
                other
                for other, q, net in ranges
                if other is not slot and q == qualifier and net.version == network.version
                and net != network and network.subnet_of(net)  # type: ignore[arg-type]
            ),
            None,
        )  # fmt: skip
        if wider is not None:
            out.append(Redundant(slot, "spf.covered-range",
                                 f"'{slot.text}' lies inside '{wider.text}'"))  # fmt: skip
    return out


def draft_of(domain: str, text: str) -> Draft:
    """A draft of a valid record's terms (the check's findings use the same search)."""
    from esm_tui.spf.errors import SpfSyntaxError
    from esm_tui.spf.parse import parse_term, split_terms

    draft = Draft(domain)
    for start, token in split_terms(text):
        if token.lower() == "v=spf1":
            continue
        try:
            draft.slots.append(Slot(token, parse_term(token, start)))
        except SpfSyntaxError:
            draft.slots.append(Slot(token, None))
    return draft


def remove_redundant(draft: Draft, found: list[Redundant]) -> None:
    """Remove them from the draft, each with a step (nothing else changes)."""
    for item in found:
        if item.slot in draft.slots:
            draft.slots.remove(item.slot)
            draft.steps.append(
                f"Removed {item.why}: it authorized nobody the record did not already "
                "authorize (the smallest edit first)."
            )
