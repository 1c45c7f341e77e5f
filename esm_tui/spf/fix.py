"""Proposed SPF records: the user's record corrected, keeping every sender it authorizes.

Each change comes with a step that says what it was and why. A record broken only in its
form (quotes, spaces, misspellings: form.py) is written in the valid form with every
mechanism kept. A term is only removed when it authorized nobody (a syntax error whose
intent is not clear made the whole record a permerror, the include loops back, the name
has no address) or when it is `ptr` (and the step says what it matched). An include or
redirect whose target publishes no SPF record is kept and named: it may be a typo of a
sender's name, and removing it is the admin's call once nothing sends through it.
Over-limit records get their heaviest includes replaced by the ip4/ip6 ranges those
includes resolve to now, never the relay's own include.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from esm_tui.model import Fix, FixRecord
from esm_tui.spf.draft import Draft, Slot, format_range, is_mechanism
from esm_tui.spf.errors import SpfSyntaxError, quote
from esm_tui.spf.evaluate import MAX_LOOKUPS, MAX_VOID_LOOKUPS
from esm_tui.spf.flatten import limit_lookups
from esm_tui.spf.form import repair_form
from esm_tui.spf.parse import (
    Mechanism,
    Modifier,
    is_spf_record,
    parse_lenient,
    parse_term,
    split_terms,
)
from esm_tui.spf.redundant import find_redundant, remove_redundant
from esm_tui.spf.tree_model import TreeNode

__all__ = [
    "RelayFailure",
    "RelayNeeds",
    "fix_missing",
    "fix_record",
    "format_range",
    "merge_records",
]

#: RFC 7208 §3.4: keep a record under 450 octets so the reply fits in 512-byte UDP.
SIZE_ADVICE = 450
#: The colon class is left out before the first colon: with it, two stars over the same
#: characters around a colon backtracked quadratically (28 s on `a:` + 30,000 colons).
_NAME_WITH_ADDRESS = re.compile(
    r"([+\-~?]?)(a|mx):([0-9.]+|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*)(/[0-9]+)?\Z", re.I
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


def fix_no_mail(domain: str, sending: Fix) -> Fix:
    """No SPF record and a null MX (RFC 7505): the domain takes no mail, and most likely
    sends none: `v=spf1 -all` (RFC 7505 §4.1 pairs the two), with the record for a domain
    that does send, in case it does."""
    assert sending.record is not None
    return Fix(
        (
            f"{domain} publishes a null MX (it receives no mail): if it sends none either, "
            "publish 'v=spf1 -all', so receivers fail mail forged in its name (RFC 7505 §4.1, "
            "RFC 7208 §5.1); with p=reject in DMARC, such mail is refused.",
            f"If {domain} does send mail (through the relay), publish instead: "
            f"{sending.record.value}",
        ),
        FixRecord(f"{domain}.", "TXT", "v=spf1 -all"),
    )


def _address_term(entry: str) -> str:
    network = ipaddress.ip_network(entry, strict=False)
    return format_range(network)


def merge_records(texts: Sequence[str]) -> tuple[str, list[str]]:
    """One record with the senders of all of them (for "more than one SPF record", §4.5).
    DNS gives records in no particular order: they are merged in sorted order, so the
    proposal does not change from one check to the next."""
    steps: list[str] = []
    repaired = []
    for text in texts:
        form = repair_form(text)
        if form is not None:
            steps.extend(form.steps)
        repaired.append(form.text if form is not None else text)
    texts = sorted(repaired)
    terms: list[str] = []
    seen: set[str] = set()
    qualifiers: list[str] = []
    exp: str | None = None
    for number, text in enumerate(texts, 1):
        qualifiers.append("")  # this record's all qualifier, if it has one
        for start, token in split_terms(text) if is_spf_record(text) else []:
            try:
                term = parse_term(token, start)
            except SpfSyntaxError as exc:
                steps.append(f"Left out {quote(token)} of record {number}: {exc.message}.")
                continue
            if is_mechanism(term, "all"):
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
    draft = Draft(domain)
    form = repair_form(text)
    if form is not None:
        draft.steps.extend(form.steps)
    _take_terms(draft, form.text if form is not None else text)
    if tree is not None:
        _drop_dead_targets(draft, tree)
        _drop_void_terms(draft, tree)
    _drop_ptr(draft)
    _fix_all(draft)
    if tree is not None:
        _open_includes(draft, tree)
        # The smallest edit first: what is redundant goes before anything is flattened.
        # Only in a fix that changes something anyway (or must): an OK record gets none.
        if draft.steps or tree.total_lookups > MAX_LOOKUPS:
            remove_redundant(draft, find_redundant(draft, tree))
    _add_relay(draft, relay)
    limit_lookups(draft, tree, relay.includes, relay_trees or {})
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


def _take_terms(draft: Draft, text: str) -> None:
    record, errors = parse_lenient(text)
    if not errors:
        # The common case, from the parser's memo: the very terms the loop below makes.
        draft.slots.extend(Slot(term.text, term) for term in record.terms)
        return
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
        draft.slots.append(Slot(token, term))


def _repair_or_drop(draft: Draft, token: str, error: SpfSyntaxError) -> None:
    repaired = _repair(token)
    if repaired is not None:
        draft.slots.append(Slot(repaired, parse_term(repaired)))
        draft.steps.append(f"Replaced {quote(token)} with '{repaired}': {error.message}.")
        return
    draft.steps.append(
        f"Removed {quote(token)}: {error.message} ({error.ref}). It made the whole record a "
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


def _drop_dead_targets(draft: Draft, tree: TreeNode) -> None:
    """Remove the record's own include/redirect terms that loop back to it; name (keep)
    those whose target publishes no SPF record."""
    missing = {"spf.include-target-missing", "spf.redirect-target-missing"}
    for child in tree.children:
        codes = {e.code for e in child.errors}
        slot = next((s for s in draft.slots if s.text == child.via), None)
        if slot is None or child.via is None:
            continue
        if "spf.include-loop" in codes:
            draft.slots.remove(slot)
            draft.steps.append(
                f"Removed '{child.via}': it includes this record again (a loop), so every "
                "evaluation that reaches it ends in permerror; it authorized nobody."
            )
        elif codes & missing:
            # Kept: the name may be a typo of a sender's, and the senders meant by it
            # would be lost with it. Removing it is the admin's call.
            draft.steps.append(
                f"'{child.via}': {child.domain} publishes no SPF record, so every evaluation "
                f"that reaches it ends in permerror. Check this name for a typo, or remove it "
                "once nothing sends through it."
            )


def _drop_void_terms(draft: Draft, tree: TreeNode) -> None:
    """Over the void-lookup limit: remove own a/mx terms whose names have no address."""
    excess = tree.total_void_lookups - MAX_VOID_LOOKUPS
    for cost in tree.terms:
        if excess <= 0:
            break
        slot = next((s for s in draft.slots if s.text == cost.term), None)
        if (
            not cost.void
            or slot is None
            or not (is_mechanism(slot.term, "a") or is_mechanism(slot.term, "mx"))
        ):
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


def _drop_ptr(draft: Draft) -> None:
    for slot in [s for s in draft.slots if is_mechanism(s.term, "ptr")]:
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


def _fix_all(draft: Draft) -> None:
    at = draft.all_index()
    if at is None:
        if any(isinstance(s.term, Modifier) and s.term.name == "redirect" for s in draft.slots):
            return  # the redirect target's record decides what unmatched mail gets
        draft.slots.append(Slot("~all", parse_term("~all")))
        draft.steps.append(
            "Added '~all': without it mail from unlisted hosts gets neutral, which tells "
            "receivers nothing (RFC 7208 §4.7)."
        )
        return
    slot = draft.slots[at]
    assert isinstance(slot.term, Mechanism)
    meaning = {
        "+": "let every host on the Internet pass SPF",
        "?": "said nothing (neutral) about mail from unlisted hosts",
    }
    if slot.term.qualifier in meaning:
        draft.steps.append(
            f"Changed '{slot.text}' to '~all': it {meaning[slot.term.qualifier]}; '~all' "
            "makes mail from unlisted hosts a softfail (RFC 7208 §5.1, §8)."
        )
        draft.slots[at] = Slot("~all", parse_term("~all"))
    after = [s.text for s in draft.slots[at + 1 :] if isinstance(s.term, Mechanism)]
    if after:
        draft.steps.append(
            "These terms come after 'all' and are never evaluated (RFC 7208 §5.1): "
            + " ".join(after)
            + ". Move any that stand for a sender before the 'all'."
        )


def _open_includes(draft: Draft, tree: TreeNode) -> None:
    """An included +all cannot be fixed in this record without dropping the include."""
    for node in tree.nodes():
        if node is not tree and node.all == "+all" and node.via_qualifier == "+":
            draft.steps.append(
                f"'{node.via}' leads to {node.domain}, whose record ends in +all: through it "
                "every host passes. Ask its owner to fix it, or replace the include with the "
                "addresses of the hosts that really send for you."
            )


def _add_relay(draft: Draft, relay: RelayNeeds) -> None:
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


def _size_advice(draft: Draft, value: str) -> None:
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
        split = _split_offer(draft)
        if split is not None:
            draft.steps.append(split)


def _split_offer(draft: Draft) -> str | None:
    """Over 450 bytes: the record's own ip4/ip6 ranges moved to a record of their own that
    the main one includes (one more lookup: offered only when the limit allows it)."""
    ranges = [
        s.text
        for s in draft.slots
        if not s.flattened and (is_mechanism(s.term, "ip4") or is_mechanism(s.term, "ip6"))
    ]
    ranges = [r for r in ranges if r[0] not in "-~?"]
    if len(ranges) < 2:
        return None
    lookups = sum(
        1
        for s in draft.slots
        if not s.flattened and isinstance(s.term, Mechanism) and s.term.costs_lookup
    )
    if lookups + 1 > MAX_LOOKUPS:
        return None
    sub_name = f"_spf-ranges.{draft.domain}"
    rest = " ".join(s.text if s.text not in ranges else "" for s in draft.slots).split()
    at = next((i for i, t in enumerate(rest) if t.lstrip("+-~?") == "all"), len(rest))
    main = " ".join(["v=spf1", *rest[:at], f"include:{sub_name}", *rest[at:]])
    moved = " ".join(["v=spf1", *ranges, "-all"])
    return (
        f'Or split it: publish {sub_name} TXT "{moved}" and make the record '
        f'"{main}" ({len(main.encode())} bytes, one more DNS lookup: {lookups + 1} of '
        f"{MAX_LOOKUPS}). The senders are the same."
    )
