"""The parts of a record's detail, built from a RecordResult: pure functions, no I/O.

Every string that came from DNS goes through `display_safe()` into a `Content` or a
Rich `Text` built from a plain string; nothing is ever formatted into markup. `details`
comes from the checks and is read defensively (`.get()`, type checks): a check that
adds, renames or omits a key must not take the screen down.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.table import Table
from rich.text import Text
from rich.tree import Tree
from textual.content import Content

from esm_tui.model import Finding, RecordResult, Status
from esm_tui.text import display_safe
from esm_tui.widgets.status import badge, severity_badge

#: Keys of `details` with a section of their own (or that repeat the raw record).
STRUCTURED_KEYS = frozenset(
    {"tree", "selectors", "hosts", "record", "records", "tags", "tried", "policy"}
)
_QUALIFIERS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}
_MAX_TREE_DEPTH = 24
_MAX_TREE_NODES = 500


def safe(value: object) -> str:
    """Any value as one visible line of text (control characters escaped)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "—"
    if isinstance(value, (list, tuple)):
        return ", ".join(safe(v) for v in value) or "—"
    return display_safe(str(value))


def plain(value: object, style: str = "") -> Text:
    """A Rich Text cell from untrusted data: plain string, never markup."""
    return Text(safe(value), style=style)


#: Column styles that look alike but differ, taken in turn: with the gap after each cell
#: (never before), a cell's text then starts a span of its own, whatever the cells before
#: it hold. SVG renderers such as librsvg drop a span's leading spaces (see `badge`), which
#: pulled a value onto its key ("adkims") or a wrapped answer to the left edge.
COLUMN_STYLES = ("", "not bold")
CELL_PADDING = (0, 2, 0, 0)


def bare_table() -> Table:
    """A full-width table without borders: the detail screen's one table style."""
    return Table(
        box=None,
        show_edge=False,
        pad_edge=False,
        expand=True,
        header_style="bold",
        padding=CELL_PADDING,
    )


def new_table(*columns: str) -> Table:
    table = bare_table()
    for index, column in enumerate(columns):
        last = index == len(columns) - 1
        table.add_column(
            column,
            overflow="fold",
            no_wrap=not last,
            ratio=3 if last else None,
            style=COLUMN_STYLES[index % 2],
        )
    return table


# -- the record, parsed -----------------------------------------------------------------


def tag_list(record: str) -> list[tuple[str, str]]:
    """`v=DMARC1; p=reject` -> [("v", "DMARC1"), ("p", "reject")], for display only."""
    tags = []
    for part in record.split(";"):
        part = part.strip()
        if part:
            name, sep, value = part.partition("=")
            tags.append((name.strip(), value.strip()) if sep else (part, ""))
    return tags


_TERM = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]*)(?:([:=])(.*)|(/.*))?$", re.DOTALL)


def spf_terms(record: str) -> list[tuple[str, str, str]]:
    """An SPF record's terms as (qualifier, name, value) for display only; not a parser
    of record (the check has that); an unreadable term is shown whole."""
    terms = []
    for term in record.split():
        qualifier = term[0] if term[0] in _QUALIFIERS else ""
        body = term[len(qualifier) :]
        match = _TERM.match(body)
        if match is None:
            terms.append((qualifier, body, ""))
            continue
        name, sep, value, cidr = match.groups()
        if sep == "=":  # a modifier (or v=spf1): no qualifier applies
            terms.append((qualifier, f"{name}=", value or ""))
        else:
            meaning = _QUALIFIERS[qualifier or "+"]
            terms.append((meaning, name, value if value is not None else (cidr or "")))
    return terms


def record_of(result: RecordResult) -> str | None:
    """The record the check judged: details["record"], else the only raw record."""
    record = result.details.get("record")
    if isinstance(record, str):
        return record
    return result.records[0] if len(result.records) == 1 else None


def tags_table(result: RecordResult) -> Table | None:
    """The parsed tags (or SPF terms) of the record this result is about."""
    record = record_of(result)
    if result.check == "spf":
        if record is None:
            return None
        table = new_table("qualifier", "term", "value")
        for qualifier, name, value in spf_terms(record):
            table.add_row(plain(qualifier), plain(name, "bold"), plain(value))
        return table
    if result.check == "mx":
        return mx_table(result.details.get("hosts"))
    tags = result.details.get("tags")
    pairs = list(tags.items()) if isinstance(tags, Mapping) else None
    if pairs is None and record is not None:
        pairs = tag_list(record)
    if not pairs:
        return None
    return pairs_table(pairs, "tag")


def pairs_table(pairs: Iterable[tuple[object, object]], first: str = "key") -> Table:
    table = new_table(first, "value")
    for name, value in pairs:
        table.add_row(plain(name, "bold"), plain(value))
    return table


def mx_table(hosts: object) -> Table | None:
    if not isinstance(hosts, list) or not hosts:
        return None
    table = new_table("pref", "host", "addresses")
    for host in hosts:
        if isinstance(host, Mapping):
            addresses = host.get("addresses")
            shown = addresses if isinstance(addresses, list) and addresses else "(none)"
            table.add_row(plain(host.get("preference")), plain(host.get("host")), plain(shown))
    return table


def details_table(details: Mapping[str, Any]) -> Table | None:
    """The simple values of `details` (counts, flags, policy) as a key/value table."""
    pairs = [
        (key, value)
        for key, value in details.items()
        if key not in STRUCTURED_KEYS and _simple(value)
    ]
    return pairs_table(pairs) if pairs else None


def _simple(value: object) -> bool:
    if isinstance(value, (list, tuple)):
        return all(isinstance(v, (str, int, float, bool)) or v is None for v in value)
    return isinstance(value, (str, int, float, bool)) or value is None


# -- SPF include tree -------------------------------------------------------------------


def spf_tree(result: RecordResult) -> Tree | None:
    """The include/redirect tree of details["tree"], with lookup counts, if the check gave one.

    Nodes as the SPF check writes them: domain, via (the include/redirect term), record,
    lookups / total_lookups, void_lookups / total_void_lookups, terms, errors, children.
    """
    root = result.details.get("tree")
    if not isinstance(root, Mapping):
        return None
    budget = [_MAX_TREE_NODES]
    tree = Tree(_node_label(root), guide_style="dim")
    _add_branches(tree, root, 1, budget)
    return tree


def _count(node: Mapping[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = node.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _node_label(node: Mapping[str, Any]) -> Text:
    via = node.get("via") or node.get("term")
    domain = node.get("domain")
    label = Text()
    if via and domain and str(domain) not in str(via):
        label.append(safe(via), "bold")
        label.append(" → ")
        label.append(safe(domain))
    else:
        label.append(safe(via or domain or "?"), "bold")
    counts = []
    lookups = _count(node, "total_lookups", "lookups", "dns_lookups")
    if lookups is not None:
        counts.append(_plural(lookups, "lookup"))
    void = _count(node, "total_void_lookups", "void_lookups")
    if void:
        counts.append(f"{void} void")
    if counts:
        label.append("  (" + ", ".join(counts) + ")", "dim")
    record = node.get("record")
    if isinstance(record, str):
        label.append("\n")
        label.append(safe(record), "italic")
    elif "record" in node:
        label.append("\n(no SPF record)", "italic")
    return label


def _add_branches(tree: Tree, node: Mapping[str, Any], depth: int, budget: list[int]) -> None:
    for error in _items(node.get("errors")):
        message = error.get("message") if isinstance(error, Mapping) else error
        tree.add(Text("✗ " + safe(message), style="bold"))
    for term in _items(node.get("terms")):
        if isinstance(term, Mapping) and term.get("term"):
            leaf = Text(safe(term.get("term")))
            facts = [_plural(_count(term, "lookups") or 0, "lookup")]
            if term.get("void"):
                facts.append("void")
            if term.get("note"):
                facts.append(safe(term.get("note")))
            leaf.append("  (" + ", ".join(facts) + ")", "dim")
            tree.add(leaf)
    for child in _items(node.get("children")):
        if not isinstance(child, Mapping):
            continue
        if budget[0] <= 0 or depth > _MAX_TREE_DEPTH:
            tree.add(Text("…", style="dim"))
            return
        budget[0] -= 1
        branch = tree.add(_node_label(child))
        _add_branches(branch, child, depth + 1, budget)


def _items(value: object) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


# -- DKIM selectors ---------------------------------------------------------------------


def dkim_selectors(result: RecordResult) -> list[tuple[Content, Table | None, str | None]]:
    """Per selector: a heading line, its tags, its raw record."""
    selectors = result.details.get("selectors")
    if not isinstance(selectors, Mapping):
        return []
    sections = []
    for name, info in selectors.items():
        if not isinstance(info, Mapping):
            continue
        status = _status(info.get("status"))
        facts = []
        if info.get("key_type"):
            facts.append(safe(info.get("key_type")))
        if isinstance(info.get("key_bits"), int):
            facts.append(f"{info['key_bits']} bits")
        if info.get("testing"):
            facts.append("testing (t=y)")
        if info.get("record") is None:
            facts.append("no record")
        heading = Content.assemble(
            badge(status),
            "  selector ",
            (safe(name), "bold"),
            ("  " + " · ".join(facts)) if facts else "",
        )
        qname = info.get("name")
        if qname:
            heading = heading + Content.styled(f"\n{safe(qname)} TXT", "$text-muted")
        tags = info.get("tags")
        record = info.get("record")
        table = None
        if isinstance(tags, Mapping) and tags:
            table = pairs_table(tags.items(), "tag")
        elif isinstance(record, str):
            table = pairs_table(tag_list(record), "tag")
        sections.append((heading, table, record if isinstance(record, str) else None))
    return sections


def _status(value: object) -> Status | None:
    try:
        return Status(str(value))
    except ValueError:
        return None


# -- findings and fix -------------------------------------------------------------------


def finding_content(finding: Finding) -> Content:
    """`✗ fail  spf.plus-all  RFC 7208 §5.1` and the message below."""
    head = Content.assemble(
        severity_badge(finding.severity),
        "  ",
        # The gap ends the code's span: a span's leading spaces vanish in SVG renderers.
        (safe(finding.code) + ("  " if finding.ref else ""), "bold"),
        safe(finding.ref) if finding.ref else "",
    )
    return head + Content("\n") + Content(safe(finding.message))


def fix_steps(steps: Sequence[str]) -> Table:
    """Numbered steps; a wrapped step stays indented under its number."""
    table = Table(
        box=None,
        show_header=False,
        show_edge=False,
        pad_edge=False,
        expand=True,
        padding=(0, 1, 0, 0),
    )
    table.add_column(justify="right", no_wrap=True)
    table.add_column(ratio=1, overflow="fold")
    for index, step in enumerate(steps, 1):
        table.add_row(Text(f"{index}."), plain(step))
    return table


def txt_strings_table(strings: Sequence[str]) -> Table:
    """The strings of a long TXT value, one per row: number, size in bytes, the string."""
    table = Table(
        box=None,
        show_header=False,
        show_edge=False,
        pad_edge=False,
        expand=True,
        padding=(0, 1, 0, 0),
    )
    table.add_column(justify="right", no_wrap=True)
    table.add_column(justify="right", no_wrap=True, style="dim")
    table.add_column(ratio=1, overflow="fold")
    for index, text in enumerate(strings, 1):
        size = len(text.encode("utf-8", "surrogateescape"))
        table.add_row(Text(f"{index}."), Text(f"{size} B"), plain(text))
    return table
