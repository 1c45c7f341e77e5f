"""Words for the screen: the card line and the server × answer matrix of a Propagation.

Plain strings, already passed through `display_safe` (DNS data in them): the widgets wrap
them in `Content`/`Text`, never in markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from esm_tui.model import Propagation, PropagationState, ServerAnswer
from esm_tui.propagation.classify import AUTHORITATIVE, RESOLVER, usable
from esm_tui.text import display_safe


@dataclass(frozen=True)
class MatrixRow:
    """One server's line in the detail screen's matrix."""

    server: str  # "ns1.example.com. 192.0.2.1:53" or "192.0.2.53:53 (your resolver)"
    role: str  # "authoritative" | "resolver"
    answer: tuple[str, ...]  # one line per record, or ("NXDOMAIN",) / ("NODATA",) / (error,)
    ttl: str  # "3600" or "" (negative answers show their RFC 2308 TTL)
    serial: str  # "2026112701" or ""
    lagging: bool  # this server is behind (named in the state's detail)


MATRIX_COLUMNS = ("server", "role", "answer", "TTL", "SOA serial")


def clock(moment: datetime, *, now: datetime | None = None, tz: tzinfo | None = None) -> str:
    """`14:32` today, `Tue 27 Nov 14:32` another day (local time unless `tz`)."""
    now = now or datetime.now(UTC)
    local, today = moment.astimezone(tz), now.astimezone(tz)
    if local.date() == today.date():
        return local.strftime("%H:%M")
    return local.strftime("%a %d %b %H:%M")


def authoritative_count(propagation: Propagation) -> tuple[int, int]:
    """(authoritative servers with the current data, authoritative servers asked): "2/2"."""
    auth = [a for a in propagation.servers if a.role == AUTHORITATIVE]
    if propagation.state is PropagationState.NOT_PUBLISHED:
        return 0, len(auth)
    behind = set(propagation.lagging)
    return sum(1 for a in auth if usable(a) and a.server not in behind), len(auth)


def card_line(
    propagation: Propagation | None,
    *,
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> str:
    """The card's propagation line, e.g.
    `published on 2/2 servers · cached at your resolver until 14:32`."""
    if propagation is None:
        return "propagation unknown: no authoritative server answered"
    having, total = authoritative_count(propagation)
    match propagation.state:
        case PropagationState.PUBLISHED:
            return f"published on {having}/{total} servers"
        case PropagationState.PROPAGATING:
            where = _lagging_resolvers(propagation)
            until = f" until {clock(propagation.eta, now=now, tz=tz)}" if propagation.eta else ""
            return f"published on {having}/{total} servers · cached at {where}{until}"
        case PropagationState.NOT_PUBLISHED:
            return f"not in the zone yet ({total} authoritative server{_s(total)} asked)"
        case PropagationState.INCONSISTENT:
            names = [_short(a) for a in propagation.servers if a.server in propagation.lagging]
            behind = ", ".join(names) or "a server"
            return f"inconsistent: {having}/{total} servers current · {behind} behind"
    raise ValueError(propagation.state)


def _lagging_resolvers(propagation: Propagation) -> str:
    resolvers = [a for a in propagation.servers if a.role == RESOLVER]
    lagging = [a for a in resolvers if a.server in propagation.lagging]
    # The configured resolver is always the first resolver listed.
    words = [
        "your resolver" if resolvers and a is resolvers[0] else display_safe(a.server)
        for a in lagging
    ]
    return ", ".join(words) or "a resolver"


def _short(answer: ServerAnswer) -> str:
    name = answer.host or answer.server
    serial = f" (serial {answer.serial})" if answer.serial is not None else ""
    return display_safe(name) + serial


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def matrix_rows(propagation: Propagation) -> list[MatrixRow]:
    """The detail screen's server × answer matrix, authoritative servers first."""
    resolvers = [a for a in propagation.servers if a.role == RESOLVER]
    rows = []
    #: The first server that gave each set of records: a later one with the same records
    #: says "same as …" rather than printing them again (a 2048-bit DKIM key, four times).
    first: dict[tuple[str, ...], str] = {}
    for answer in propagation.servers:
        if answer.role == AUTHORITATIVE:
            # The name and the address on lines of their own: a narrow column then breaks
            # between them, never inside a host name (issue 17 item 7).
            where = f"{answer.host}\n{answer.server}" if answer.host else answer.server
        elif resolvers and answer is resolvers[0]:
            where = f"{answer.server} (your resolver)"
        else:
            where = answer.server
        lines = _answer_lines(answer)
        key = tuple(sorted(answer.records))
        if answer.records and not answer.error and key in first:
            lines = (f"same as {first[key]}",)
        elif answer.records and not answer.error:
            first[key] = display_safe(answer.host or answer.server)
        rows.append(
            MatrixRow(
                server="\n".join(display_safe(part) for part in where.split("\n")),
                role=answer.role,
                answer=lines,
                ttl="" if answer.ttl is None else str(answer.ttl),
                serial="" if answer.serial is None else str(answer.serial),
                lagging=answer.server in propagation.lagging,
            )
        )
    return rows


def _answer_lines(answer: ServerAnswer) -> tuple[str, ...]:
    if answer.error:
        return (display_safe(f"{answer.rcode}: {answer.error}"),)
    if answer.rcode == "NXDOMAIN":
        return ("NXDOMAIN",)
    if not answer.records:
        return ("NODATA",) if answer.rcode == "NOERROR" else (answer.rcode,)
    return tuple(display_safe(r) for r in answer.records)
