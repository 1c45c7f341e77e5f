"""Proposed SPF records: the user's record corrected, keeping every sender it authorizes.

Each change comes with a step that says what it was and why; a term is only removed when
it authorized nobody (a syntax error made the whole record a permerror, the target has
no SPF record or no address) or when it is `ptr` (and the step says what it matched).
Over-limit records get their heaviest includes replaced by the ip4/ip6 ranges those
includes resolve to now, never the relay's own include.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from esm_tui.model import Fix, FixRecord
from esm_tui.spf.errors import SpfSyntaxError
from esm_tui.spf.evaluate import MAX_LOOKUPS, MAX_VOID_LOOKUPS
from esm_tui.spf.parse import Mechanism, Modifier, Term, is_spf_record, parse_term, split_terms
from esm_tui.spf.tree import Network, TreeNode

#: RFC 7208 §3.4: keep a record under 450 octets so the reply fits in 512-byte UDP.
SIZE_ADVICE = 450
_NAME_WITH_ADDRESS = re.compile(
    r"([+\-~?]?)(a|mx):([0-9.]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)(/[0-9]+)?\Z", re.I
)
_IP_WRONG_FAMILY = re.compile(r"([+\-~?]?)(ip4|ip6):([^/]+)(/[0-9]+)?\Z", re.I)
_ALL_WITH_JUNK = re.compile(r"([+\-~?]?)all[^A-Za-z0-9]+\Z", re.I)


@dataclass(frozen=True)
class RelayFailure:
    """A configured relay address that check_host did not pass."""

    entry: str
    address: str
    result: str
    chain: tuple[str, ...] = ()


@dataclass(frozen=True)
class RelayNeeds:
    """What the relay needs of the record: its configured includes (and those not reached
    through the tree) and addresses, and the addresses that did not get pass."""

    includes: tuple[str, ...] = ()
    missing_includes: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    failing: tuple[RelayFailure, ...] = ()


@dataclass
class _Slot:
    text: str
    term: Term | None
    flattened: bool = False


@dataclass
class _Draft:
    domain: str
    slots: list[_Slot] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)

    def value(self) -> str:
        return " ".join(["v=spf1", *(s.text for s in self.slots)])

    def all_index(self) -> int | None:
        return next((i for i, s in enumerate(self.slots) if _is(s.term, "all")), None)

    def insert_before_all(self, texts: Sequence[str]) -> None:
        at = self.all_index()
        if at is None:
            mechanisms = [i for i, s in enumerate(self.slots) if isinstance(s.term, Mechanism)]
            at = mechanisms[-1] + 1 if mechanisms else 0
        for offset, text in enumerate(texts):
            self.slots.insert(at + offset, _Slot(text, parse_term(text)))


def _is(term: Term | None, name: str) -> bool:
    return isinstance(term, Mechanism) and term.name == name


def format_range(network: Network) -> str:
    """`ip4:192.0.2.1` for a single address, `ip4:192.0.2.0/24` for a network."""
    kind = "ip4" if network.version == 4 else "ip6"
    if network.prefixlen == network.max_prefixlen:
        return f"{kind}:{network.network_address}"
    return f"{kind}:{network}"


def fix_missing(domain: str, relay: RelayNeeds) -> Fix:
    """No SPF record: a starting record for a domain whose mail goes through the relay."""
    relay_terms = [f"include:{i}" for i in relay.includes] or [
        _address_term(ip) for ip in relay.ips
    ]
    value = " ".join(["v=spf1", "mx", *relay_terms, "~all"])
    steps = [
        f"Publish one TXT record at {domain}: it tells receivers which hosts may send mail "
        "for the domain (RFC 7208 §3).",
        "'mx' authorizes the hosts named in your MX records; remove it if they never send.",
    ]
    if relay.includes:
        steps.append(
            "'"
            + " ".join(relay_terms)
            + "' authorizes the e-securemail relay ([relay] spf_include)."
        )
    elif relay.ips:
        steps.append(
            "'" + " ".join(relay_terms) + "' authorizes the relay's addresses ([relay] spf_ips)."
        )
    steps.append(
        "Add an include: or ip4:/ip6: term for every other service that sends as this domain "
        "(newsletters, CRM, ticketing) before '~all'."
    )
    steps.append(
        "'~all' makes other senders a softfail; change it to '-all' once DMARC reports show "
        f"all your mail passes. If {domain} sends no mail at all, publish 'v=spf1 -all' instead."
    )
    return Fix(tuple(steps), FixRecord(f"{domain}.", "TXT", value))


def _address_term(entry: str) -> str:
    network = ipaddress.ip_network(entry, strict=False)
    return format_range(network)


def merge_records(texts: Sequence[str]) -> tuple[str, list[str]]:
    """One record with the senders of all of them (for "more than one SPF record", §4.5).
    DNS gives records in no particular order: they are merged in sorted order, so the
    proposal does not change from one check to the next."""
    texts = sorted(texts)
    terms: list[str] = []
    seen: set[str] = set()
    qualifiers: list[str] = []
    exp: str | None = None
    steps: list[str] = []
    for number, text in enumerate(texts, 1):
        qualifiers.append("")  # this record's all qualifier, if it has one
        for start, token in split_terms(text) if is_spf_record(text) else []:
            try:
                term = parse_term(token, start)
            except SpfSyntaxError as exc:
                steps.append(f"Left out '{token}' of record {number}: {exc.message}.")
                continue
            if _is(term, "all"):
                assert isinstance(term, Mechanism)
                qualifiers[-1] = qualifiers[-1] or term.qualifier
                continue
            if isinstance(term, Modifier) and term.name == "redirect":
                token = f"include:{term.value.text}"
                steps.append(
                    f"redirect={term.value.text} of record {number} became {token}: a merged "
                    "record ends in its own 'all', which would disable a redirect."
                )
            elif isinstance(term, Modifier) and term.name == "exp":
                exp = exp or token
                continue
            if token.lower() not in seen:
                seen.add(token.lower())
                terms.append(token)
    # -all only if every record ended in -all; anything else (incl. none) becomes ~all.
    qualifier = "-" if all(q == "-" for q in qualifiers) else "~"
    merged = " ".join(["v=spf1", *terms, *([exp] if exp else []), qualifier + "all"])
    return merged, steps


def fix_record(
    domain: str,
    text: str,
    tree: TreeNode | None,
    relay: RelayNeeds,
    relay_trees: Mapping[str, TreeNode] | None = None,
) -> Fix | None:
    """The record corrected, or None when nothing needs changing. `tree` is the walk of
    the record's valid terms; `relay_trees` the walks of includes the fix would add."""
    draft = _Draft(domain)
    _take_terms(draft, text)
    if tree is not None:
        _drop_dead_targets(draft, tree)
        _drop_void_terms(draft, tree)
    _drop_ptr(draft)
    _fix_all(draft)
    if tree is not None:
        _open_includes(draft, tree)
    _add_relay(draft, relay, tree)
    _limit_lookups(draft, tree, relay, relay_trees or {})
    value = draft.value()
    if value != text:
        _size_advice(draft, value)
    if not draft.steps:
        return None
    changed = value != text
    if changed:
        draft.steps.insert(
            0, f"Replace the SPF record of {domain} with the record below. What changed, and why:"
        )
    record = FixRecord(f"{domain}.", "TXT", value) if changed else None
    return Fix(tuple(draft.steps), record)


def _take_terms(draft: _Draft, text: str) -> None:
    seen: set[str] = set()
    for start, token in split_terms(text):
        try:
            term = parse_term(token, start)
        except SpfSyntaxError as exc:
            _repair_or_drop(draft, token, exc)
            continue
        if isinstance(term, Modifier) and term.name in ("redirect", "exp"):
            if term.name in seen:
                draft.steps.append(
                    f"Removed the second '{term.name}=' ('{token}'): a record may have only one "
                    "(RFC 7208 §6); the first one is kept."
                )
                continue
            seen.add(term.name)
        draft.slots.append(_Slot(token, term))


def _repair_or_drop(draft: _Draft, token: str, error: SpfSyntaxError) -> None:
    repaired = _repair(token)
    if repaired is not None:
        draft.slots.append(_Slot(repaired, parse_term(repaired)))
        draft.steps.append(f"Replaced '{token}' with '{repaired}': {error.message}.")
        return
    draft.steps.append(
        f"Removed '{token}': {error.message} ({error.ref}). It made the whole record a "
        "permerror, so it authorized nobody; if it stood for a sender, add that sender again "
        "in a valid form."
    )


def _repair(token: str) -> str | None:
    """A correction for the common mistakes whose intent is clear, else None."""
    match = _NAME_WITH_ADDRESS.match(token)
    if match:
        candidate = (
            f"{match.group(1)}ip{_family(match.group(3))}:{match.group(3)}{match.group(4) or ''}"
        )
        return candidate if _parses(candidate) else None
    match = _IP_WRONG_FAMILY.match(token)
    if match:
        candidate = (
            f"{match.group(1)}ip{_family(match.group(3))}:{match.group(3)}{match.group(4) or ''}"
        )
        return candidate if candidate != token and _parses(candidate) else None
    match = _ALL_WITH_JUNK.match(token)
    if match:
        return f"{match.group(1)}all"
    return None


def _family(address: str) -> int:
    return 6 if ":" in address else 4


def _parses(token: str) -> bool:
    try:
        parse_term(token)
    except SpfSyntaxError:
        return False
    return True


def _drop_dead_targets(draft: _Draft, tree: TreeNode) -> None:
    """Remove the record's own include/redirect terms whose target authorizes nobody."""
    dead = {"spf.include-target-missing", "spf.redirect-target-missing", "spf.include-loop"}
    for child in tree.children:
        codes = {e.code for e in child.errors}
        if not codes & dead or child.via is None:
            continue
        slot = next((s for s in draft.slots if s.text == child.via), None)
        if slot is None:
            continue
        draft.slots.remove(slot)
        why = (
            "it includes this record again (a loop)"
            if "spf.include-loop" in codes
            else f"{child.domain} has no SPF record"
        )
        draft.steps.append(
            f"Removed '{child.via}': {why}, so every evaluation that reaches it ends in "
            "permerror; it authorized nobody."
        )


def _drop_void_terms(draft: _Draft, tree: TreeNode) -> None:
    """Over the void-lookup limit: remove own a/mx terms whose names have no address."""
    excess = tree.total_void_lookups - MAX_VOID_LOOKUPS
    for cost in tree.terms:
        if excess <= 0:
            break
        slot = next((s for s in draft.slots if s.text == cost.term), None)
        if not cost.void or slot is None or not (_is(slot.term, "a") or _is(slot.term, "mx")):
            continue
        draft.slots.remove(slot)
        excess -= 1
        draft.steps.append(
            f"Removed '{cost.term}': its name has no address or MX record (a void lookup, "
            "RFC 7208 §4.6.4), so it authorized nobody."
        )
    if excess > 0:
        draft.steps.append(
            f"Still {excess} void lookup(s) over the limit of {MAX_VOID_LOOKUPS} in included "
            "records: ask their owners, or replace those includes."
        )


def _drop_ptr(draft: _Draft) -> None:
    for slot in [s for s in draft.slots if _is(s.term, "ptr")]:
        assert isinstance(slot.term, Mechanism)
        spec = slot.term.domain_spec
        target = spec.text if spec is not None else draft.domain
        draft.slots.remove(slot)
        draft.steps.append(
            f"Removed '{slot.text}' (deprecated, RFC 7208 §5.5): it authorized any host whose "
            f"reverse DNS (PTR) name, confirmed by a forward lookup, is {target} or ends in "
            f".{target}. It is slow, unreliable and skipped by some receivers. If mail is sent "
            "from such hosts, add their addresses as ip4:/ip6: terms."
        )


def _fix_all(draft: _Draft) -> None:
    at = draft.all_index()
    if at is None:
        if any(isinstance(s.term, Modifier) and s.term.name == "redirect" for s in draft.slots):
            return  # the redirect target's record decides what unmatched mail gets
        draft.slots.append(_Slot("~all", parse_term("~all")))
        draft.steps.append(
            "Added '~all': without it mail from unlisted hosts gets neutral, which tells "
            "receivers nothing (RFC 7208 §4.7)."
        )
        return
    slot = draft.slots[at]
    assert isinstance(slot.term, Mechanism)
    meaning = {"+": "authorized every host on the Internet", "?": "said nothing (neutral)"}
    if slot.term.qualifier in meaning:
        draft.steps.append(
            f"Changed '{slot.text}' to '~all': it {meaning[slot.term.qualifier]} about mail "
            "from unlisted hosts; '~all' makes that a softfail (RFC 7208 §5.1, §8)."
        )
        draft.slots[at] = _Slot("~all", parse_term("~all"))
    after = [s.text for s in draft.slots[at + 1 :] if isinstance(s.term, Mechanism)]
    if after:
        draft.steps.append(
            "These terms come after 'all' and are never evaluated (RFC 7208 §5.1): "
            + " ".join(after)
            + ". Move any that stand for a sender before the 'all'."
        )


def _open_includes(draft: _Draft, tree: TreeNode) -> None:
    """An included +all cannot be fixed in this record without dropping the include."""
    for node in tree.nodes():
        if node is not tree and node.all == "+all" and node.via_qualifier == "+":
            draft.steps.append(
                f"'{node.via}' leads to {node.domain}, whose record ends in +all: through it "
                "every host passes. Ask its owner to fix it, or replace the include with the "
                "addresses of the hosts that really send for you."
            )


def _add_relay(draft: _Draft, relay: RelayNeeds, tree: TreeNode | None) -> None:
    adding = [f"include:{name}" for name in relay.missing_includes]
    if adding:
        draft.insert_before_all(adding)
        draft.steps.append(
            "Added '" + " ".join(adding) + "' before the 'all': the e-securemail relay's senders "
            "([relay] spf_include) must be reachable from the record."
        )
    failing = [f for f in relay.failing if f.result != "temperror"]
    if not failing:
        return
    if not relay.includes:
        entries = sorted({f.entry for f in failing})
        terms = [_address_term(e) for e in entries]
        terms = [t for t in terms if t not in {s.text for s in draft.slots}]
        if terms:
            draft.insert_before_all(terms)
            draft.steps.append(
                "Added '" + " ".join(terms) + "' before the 'all': the relay's addresses "
                "([relay] spf_ips) must get pass."
            )
        return
    if adding:
        return  # the added include is expected to authorize them
    for failure in failing:
        chain = failure.chain
        decided = " → ".join(chain) if chain else "no term (the default result)"
        draft.steps.append(
            f"The relay address {failure.address} ({failure.entry}) gets {failure.result}, "
            f"decided by {decided}. "
            "If a term before the relay's include matches it, move the include before that term."
        )


def _cost(slot: _Slot, tree: TreeNode | None, relay_trees: Mapping[str, TreeNode]) -> int:
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


def _evaluated(draft: _Draft) -> list[_Slot]:
    """The slots an evaluation can reach: up to the first all; the redirect if no all."""
    at = draft.all_index()
    if at is not None:
        return draft.slots[: at + 1]
    return draft.slots


def _limit_lookups(
    draft: _Draft, tree: TreeNode | None, relay: RelayNeeds, relay_trees: Mapping[str, TreeNode]
) -> None:
    """Over 10 lookups: replace the heaviest includes (then the record's own mx/a terms) by
    the ranges they resolve to now — but only when that brings the record within the
    limit; a record made static without being fixed would be worse off."""
    total = sum(_cost(s, tree, relay_trees) for s in _evaluated(draft))
    if total <= MAX_LOOKUPS:
        return
    keep = {name.lower().rstrip(".") for name in relay.includes}
    plan: list[tuple[int, _Slot, list[Network]]] = []
    stuck: list[str] = []
    for slot in _evaluated(draft):
        term = slot.term
        if not isinstance(term, Mechanism) or term.name != "include" or _target(term) in keep:
            continue
        child = _child(tree, slot.text)
        if child is None:
            continue
        if child.subtree_flattenable():
            plan.append((child.total_lookups, slot, child.subtree_ranges()))
        else:
            stuck.append(f"'{slot.text}' ({child.total_lookups} lookups)")
    plan.sort(key=lambda p: -p[0])
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


def _own_terms(draft: _Draft, tree: TreeNode | None) -> list[tuple[int, _Slot, list[Network]]]:
    """The record's own mx, then a, terms that resolved completely (1 lookup each)."""
    if tree is None:
        return []
    found: list[tuple[int, _Slot, list[Network]]] = []
    taken: set[int] = set()
    for name in ("mx", "a"):
        for cost in tree.terms:
            slot = next(
                (
                    s
                    for s in draft.slots
                    if s.text == cost.term and _is(s.term, name) and id(s) not in taken
                ),
                None,
            )
            if slot is None or not cost.resolved or cost.void:
                continue
            assert isinstance(slot.term, Mechanism)
            if slot.term.qualifier != "+":
                continue
            taken.add(id(slot))
            v4 = ipaddress.collapse_addresses([r for r in cost.ranges if r.version == 4])
            v6 = ipaddress.collapse_addresses([r for r in cost.ranges if r.version == 6])
            found.append((1, slot, [*v4, *v6]))
    return found


def _flatten(draft: _Draft, slot: _Slot, ranges: list[Network], cost: int) -> None:
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


def _size_advice(draft: _Draft, value: str) -> None:
    size = len(value.encode())
    if size > 255:
        draft.steps.append(
            f"The record is {size} characters: publish it as several quoted strings of at most "
            "255 characters each (receivers join them without spaces, RFC 7208 §3.3)."
        )
    if size > SIZE_ADVICE:
        draft.steps.append(
            f"It is over {SIZE_ADVICE} bytes, so replies may not fit in one UDP packet "
            "(RFC 7208 §3.4); consider fewer terms."
        )
