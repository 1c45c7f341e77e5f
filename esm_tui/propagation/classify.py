"""Pure comparison of what the authoritative servers and the resolvers answer (issue 5).

No I/O: `classify()` takes the answers of one (name, type) and returns its propagation
state; `merge()` folds the states of several names (DKIM selectors) into one card.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

import dns.exception
import dns.rdata

from esm_tui.dns import decode_txt
from esm_tui.model import Propagation, PropagationState, ServerAnswer

AUTHORITATIVE = "authoritative"
RESOLVER = "resolver"

#: Types whose records are compared case-sensitively (their data is text, not names).
_TEXT_TYPES = frozenset({"TXT", "SPF"})

#: When several names make one card, the state that needs the admin most wins.
_PRIORITY = {
    PropagationState.INCONSISTENT: 3,
    PropagationState.NOT_PUBLISHED: 2,
    PropagationState.PROPAGATING: 1,
    PropagationState.PUBLISHED: 0,
}

RecordSet = frozenset[str]


def usable(answer: ServerAnswer) -> bool:
    """An answer that says something about the data: NOERROR or NXDOMAIN, not an error."""
    return not answer.error and answer.rcode in ("NOERROR", "NXDOMAIN")


def record_set(answer: ServerAnswer, rdtype: str) -> RecordSet:
    """The answer's data as a set: order does not matter, names compare case-insensitively."""
    if answer.rcode != "NOERROR":
        return frozenset()
    return frozenset(_normal(r, rdtype) for r in answer.records)


def _normal(record: str, rdtype: str) -> str:
    return record if rdtype.upper() in _TEXT_TYPES else record.lower()


def normal_wanted(value: str, rdtype: str) -> str:
    """A fix record's value in the form `record_set` compares.

    TXT fix values are normally the raw text; one given in presentation format
    (`"v=spf1 " "-all"`) is decoded like a served record.
    """
    if rdtype.upper() in _TEXT_TYPES and value.startswith('"'):
        try:
            rdata = dns.rdata.from_text("IN", "TXT", value)
        except (dns.exception.DNSException, ValueError):
            return value
        return decode_txt(rdata.strings)
    return _normal(value, rdtype)


def label(answer: ServerAnswer) -> str:
    """`ns2.example.com. (192.0.2.2:53)`, or just the address when the host is unknown."""
    return f"{answer.host} ({answer.server})" if answer.host else answer.server


def _what(answer: ServerAnswer) -> str:
    if answer.rcode == "NXDOMAIN":
        return "NXDOMAIN"
    if not answer.records:
        return "no record (NODATA)"
    count = len(answer.records)
    return f"{count} record{'s' if count != 1 else ''}"


def _serial(answer: ServerAnswer) -> str:
    return f"SOA serial {answer.serial}" if answer.serial is not None else "SOA serial unknown"


def classify(
    name: str,
    rdtype: str,
    authoritative: Sequence[ServerAnswer],
    resolvers: Sequence[ServerAnswer],
    *,
    now: datetime,
    wanted: str | None = None,
) -> Propagation | None:
    """The propagation state of `name`/`rdtype` from every server's answer.

    `resolvers` lists the configured resolver first. `wanted` is the value of the record
    the check's fix proposes (None: no proposal). Returns None when no authoritative
    server gave a usable answer: nothing can be said then.
    """
    servers = (*authoritative, *resolvers)
    name = name.rstrip(".")  # in sentences: `at example.com.` not `at example.com..`
    answered = [a for a in authoritative if usable(a)]
    if not answered:
        return None
    sets = {record_set(a, rdtype) for a in answered}
    if len(sets) > 1:
        return _inconsistent(answered, rdtype, servers)
    published = sets.pop()
    lagging = [r for r in resolvers if usable(r) and record_set(r, rdtype) != published]
    if not published:
        detail = f"No authoritative server has {_a(rdtype)} record at {name} yet."
        detail += _reach(answered, negative=True)
        if lagging:
            detail += " " + " ".join(
                f"{label(r)} still answers {_what(r)} from its cache." for r in lagging
            )
        return Propagation(PropagationState.NOT_PUBLISHED, None, servers, detail)
    if lagging:
        return _propagating(lagging, servers, now)
    if wanted is not None and normal_wanted(wanted, rdtype) not in published:
        # Said before the admin has changed anything too: what the state means, no blame.
        detail = (
            f"The fix is not in the zone yet: the authoritative servers publish the current "
            f"{rdtype} record at {name}, not the one proposed. If you have just saved it at "
            "your DNS host, check that it went to this zone."
        ) + _reach(answered, negative=False)
        return Propagation(PropagationState.NOT_PUBLISHED, None, servers, detail)
    detail = (
        "The authoritative server and every resolver give the same answer."
        if len(answered) == 1
        else f"All {len(answered)} authoritative servers that answered and every resolver "
        "give the same answer."
    )
    return Propagation(PropagationState.PUBLISHED, None, servers, detail)


def _a(rdtype: str) -> str:
    """`a TXT`, `an MX`: the article as the type's name is read (letter by letter)."""
    return f"an {rdtype}" if rdtype[:1].upper() in "AEFHILMNORSX" else f"a {rdtype}"


def span(seconds: int) -> str:
    """`45 s`, `5 min`, `1 h 30 min`, `2 days`: a TTL as people read it."""
    if seconds < 120:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 120:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    return f"{round(hours / 24)} days"


def _reach(answered: Sequence[ServerAnswer], *, negative: bool) -> str:
    """How long a change will take to reach the resolvers, from the TTLs served: a resolver
    that cached the current answer keeps it that long (not the 24–48 h of folklore)."""
    ttls = [a.ttl for a in answered if a.ttl is not None]
    if not ttls:
        return ""
    what = "that there is no such record (the zone's negative-caching TTL, RFC 2308)"
    if not negative:
        what = "the current record (its TTL)"
    return (
        f" Once published, it reaches every resolver within {span(max(ttls))}: a resolver "
        f"that has cached {what} keeps it that long; one that has not sees it at once."
    )


def _propagating(
    lagging: Sequence[ServerAnswer], servers: tuple[ServerAnswer, ...], now: datetime
) -> Propagation:
    # The answer a resolver holds expires after the TTL it serves it with (for a cached
    # NXDOMAIN/NODATA: the RFC 2308 negative TTL); the last one to expire sets the ETA.
    expiries = [now + timedelta(seconds=r.ttl) for r in lagging if r.ttl is not None]
    eta = max(expiries) if expiries else None
    parts = []
    for r in lagging:
        kind = "cached negative answer" if not r.records else "cached old data"
        ttl = f", for another {r.ttl} s" if r.ttl is not None else ""
        parts.append(f"{label(r)} still answers {_what(r)} ({kind}{ttl}).")
    detail = "The authoritative servers have the new data; " + " ".join(parts)
    return Propagation(
        PropagationState.PROPAGATING, eta, servers, detail, tuple(r.server for r in lagging)
    )


def _inconsistent(
    answered: Sequence[ServerAnswer], rdtype: str, servers: tuple[ServerAnswer, ...]
) -> Propagation:
    current = _current_set(answered, rdtype)
    ahead = [a for a in answered if record_set(a, rdtype) == current]
    behind = [a for a in answered if record_set(a, rdtype) != current]
    lagging = "; ".join(f"{label(a)} answers {_what(a)}, {_serial(a)}" for a in behind)
    leaders = ", ".join(f"{label(a)} ({_serial(a)})" for a in ahead)
    detail = (
        f"The authoritative servers disagree: {lagging} — unlike {leaders}. "
        "A secondary that has not loaded the current zone (check NOTIFY and zone transfers)."
    )
    return Propagation(
        PropagationState.INCONSISTENT, None, servers, detail, tuple(a.server for a in behind)
    )


def _current_set(answered: Sequence[ServerAnswer], rdtype: str) -> RecordSet:
    """The data of the newest zone: the highest SOA serial, else the most servers' answer.

    Serials are compared plainly, not by RFC 1982 arithmetic: the servers of one zone at
    one moment are close to each other, far from the wrap-around.
    """
    serials = [a.serial for a in answered if a.serial is not None]
    if serials and len(set(serials)) > 1:
        top = max(serials)
        candidates = [a for a in answered if a.serial == top]
    else:
        candidates = list(answered)
    votes = Counter(record_set(a, rdtype) for a in candidates)
    # Ties: prefer the answer that has data (a change is more often an addition).
    return max(votes, key=lambda s: (votes[s], len(s) > 0))


def merge(parts: Sequence[Propagation | None]) -> Propagation | None:
    """One card's state from the states of its names: the most pressing state wins.

    Each server appears once, its records concatenated in the order of the names (as
    the card's `records` are), the smallest TTL and the first serial.
    """
    known = [p for p in parts if p is not None]
    if len(known) <= 1:
        return known[0] if known else None
    state = max((p.state for p in known), key=_PRIORITY.__getitem__)
    etas = [p.eta for p in known if p.state is PropagationState.PROPAGATING and p.eta]
    eta = max(etas) if state is PropagationState.PROPAGATING and etas else None
    details = list(dict.fromkeys(p.detail for p in known if p.state is state and p.detail))
    lagging = tuple(dict.fromkeys(s for p in known for s in p.lagging))
    return Propagation(state, eta, _merge_servers(known), " ".join(details), lagging)


def _merge_servers(parts: Sequence[Propagation]) -> tuple[ServerAnswer, ...]:
    grouped: dict[tuple[str, str], list[ServerAnswer]] = {}
    for part in parts:
        for answer in part.servers:
            grouped.setdefault((answer.role, answer.server), []).append(answer)
    merged = [_merge_answers(answers) for answers in grouped.values()]
    # Authoritative servers first, as in every single part.
    return tuple(sorted(merged, key=lambda a: a.role != AUTHORITATIVE))


def _merge_answers(answers: Sequence[ServerAnswer]) -> ServerAnswer:
    first = answers[0]
    if len(answers) == 1:
        return first
    ttls = [a.ttl for a in answers if a.ttl is not None]
    errors = [a for a in answers if a.error]
    with_data = [a for a in answers if a.records]
    if errors:
        rcode, error = errors[0].rcode, errors[0].error
    elif with_data:
        rcode, error = "NOERROR", ""
    else:
        rcode, error = first.rcode, ""
    return ServerAnswer(
        server=first.server,
        role=first.role,
        rcode=rcode,
        records=tuple(r for a in answers for r in a.records),
        ttl=min(ttls) if ttls else None,
        serial=next((a.serial for a in answers if a.serial is not None), None),
        host=next((a.host for a in answers if a.host), ""),
        error=error,
    )
