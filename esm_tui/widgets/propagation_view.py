"""The detail screen's propagation parts: the state in words and the server × answer matrix.

Built from `esm_tui.propagation.text` (plain strings, already display-safe) into Rich
`Text` cells and Textual `Content` — never markup: the answers are DNS data.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.table import Table
from rich.text import Text
from textual.content import Content

from esm_tui.model import Propagation, PropagationState
from esm_tui.propagation.text import MATRIX_COLUMNS, card_line, matrix_rows
from esm_tui.text import display_safe
from esm_tui.widgets.detail_sections import COLUMN_STYLES, bare_table

#: Marks a server that is behind the others (named in the state's sentence too).
LAGGING_MARK = "▲ "
_STATE_STYLE = {
    PropagationState.PUBLISHED: "bold $text-success",
    PropagationState.PROPAGATING: "bold $text-accent",
    PropagationState.NOT_PUBLISHED: "bold $text-warning",
    PropagationState.INCONSISTENT: "bold $text-warning",
}


def propagation_summary(
    propagation: Propagation | None,
    *,
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> Content:
    """`propagating: published on 2/2 servers · cached at your resolver until 14:32`,
    then the sentence that explains it."""
    if propagation is None:
        return Content.styled(card_line(None), "$text-muted")
    line = card_line(propagation, now=now, tz=tz)
    state = str(propagation.state).replace("-", " ")
    style = _STATE_STYLE.get(propagation.state, "bold")
    if line.startswith(state):  # "published on 2/2 servers": the state leads already
        head = Content.assemble((state, style), line.removeprefix(state))
    else:  # "propagating: published on 2/2 servers · cached at your resolver until 14:32"
        head = Content.assemble((f"{state}: ", style), line)
    if not propagation.detail:
        return head
    return head + Content("\n") + Content(display_safe(propagation.detail))


def propagation_matrix(propagation: Propagation) -> Table:
    """One row per server: where, role, its answer (a line per record), TTL, SOA serial;
    a lagging server's row is marked ▲ and bold (Rich cells take no theme colours, and
    the mark and the word "behind" carry the meaning anyway)."""
    table = bare_table()
    rows = matrix_rows(propagation)
    # Wide enough for the longest server line (up to 30 columns): a host name is never
    # folded in the middle at 80 columns; the answers fold instead.
    widest = max((len(line) for row in rows for line in row.server.split("\n")), default=8)
    for index, column in enumerate(MATRIX_COLUMNS):
        style = COLUMN_STYLES[index % 2]
        if column == "answer":
            table.add_column(column, overflow="fold", ratio=3, style=style)
        elif column in ("TTL", "SOA serial"):
            table.add_column(column, justify="right", no_wrap=True, style=style)
        else:
            minimum = min(widest, 30) if column == "server" else None
            table.add_column(column, overflow="fold", style=style, min_width=minimum)
    for row in rows:
        style = "bold" if row.lagging else ""
        server = Text(LAGGING_MARK if row.lagging else "", style="bold")
        server.append(row.server, style=style)
        table.add_row(
            server,
            Text(row.role + (" · behind" if row.lagging else ""), style=style),
            Text("\n".join(row.answer)),
            Text(row.ttl),
            Text(row.serial, style=style),
        )
    return table
