"""The include/redirect tree of an SPF record as values: what tree.py's walk builds.

A `TreeNode` per record reached, with its DNS-querying terms (`TermCost`), the problems found
in it (`TreeError`) and the address ranges its terms authorize; its counts, and the JSON
`esm-tui check --json` shows.

Counting convention: a node's `lookups` include the include/redirect term that leads to
it (1) plus its own a/mx/ptr/exists/include... terms are counted in the child they lead
to; so a child's `total_lookups` is the whole cost of that branch, and the root's total
is the record's count. The per-host address lookups of `mx` are not terms (§4.6.4 caps
them at 10 per mx instead), nor are the TXT lookups of exp=.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from esm_tui.model import Severity
from esm_tui.spf.parse import SpfRecord

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class TreeError:
    """A problem found in one record of the tree, as the finding it becomes."""

    code: str
    severity: Severity
    message: str
    ref: str
    #: False when it only means "we could not ask" (a DNS failure): the tree is incomplete.
    definite: bool = True

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "severity": str(self.severity), "message": self.message}


@dataclass
class TermCost:
    """One DNS-querying term of a record; `ranges` what it authorizes, resolved now."""

    term: str
    void: bool = False
    note: str = ""
    ranges: list[Network] = field(default_factory=list)
    #: False when a lookup failed, so `ranges` may be short.
    resolved: bool = True

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"term": self.term, "lookups": 1, "void": self.void}
        if self.note:
            data["note"] = self.note
        return data


@dataclass
class TreeNode:
    domain: str
    via: str | None = None
    via_qualifier: str = "+"
    record: str | None = None
    parsed: SpfRecord | None = None
    lookups: int = 0
    void_lookups: int = 0
    #: The include/redirect's own TXT lookup was void (the target has no records).
    target_void: bool = False
    all: str | None = None
    terms: list[TermCost] = field(default_factory=list)
    errors: list[TreeError] = field(default_factory=list)
    children: list[TreeNode] = field(default_factory=list)
    #: Addresses its own "+" terms authorize, resolved now (ip4/ip6, a, mx).
    ranges: list[Network] = field(default_factory=list)
    #: False when its own terms cannot be written as fixed ranges (ptr, exists, macros,
    #: negative qualifiers, a failed lookup, +all).
    flattenable: bool = True

    @property
    def total_lookups(self) -> int:
        return self.lookups + sum(c.total_lookups for c in self.children)

    @property
    def total_void_lookups(self) -> int:
        return self.void_lookups + sum(c.total_void_lookups for c in self.children)

    def nodes(self) -> list[TreeNode]:
        """This node and every node below it, depth first, parents before children.

        A list built with a stack, not a recursive generator: the checks read every
        tree several times, and each level of `yield from` re-yields every node below
        it (at 1,000 domains, 140,000 generator steps; profiled)."""
        found: list[TreeNode] = []
        stack = [self]
        while stack:
            node = stack.pop()
            found.append(node)
            stack.extend(reversed(node.children))
        return found

    @property
    def incomplete(self) -> bool:
        return any(not e.definite for n in self.nodes() for e in n.errors)

    def subtree_flattenable(self) -> bool:
        return all(n.flattenable and not n.errors for n in self.nodes())

    def subtree_ranges(self) -> list[Network]:
        """Every range the branch authorizes, merged (for replacing an include)."""
        v4 = [r for n in self.nodes() for r in n.ranges if r.version == 4]
        v6 = [r for n in self.nodes() for r in n.ranges if r.version == 6]
        return [*ipaddress.collapse_addresses(v4), *ipaddress.collapse_addresses(v6)]

    def to_json(self) -> dict[str, Any]:
        # The totals from the children's documents: `total_lookups` on every node
        # would walk each branch again once per level above it.
        children = [c.to_json() for c in self.children]
        return {
            "domain": self.domain,
            "via": self.via,
            "record": self.record,
            "all": self.all,
            "lookups": self.lookups,
            "void_lookups": self.void_lookups,
            "total_lookups": self.lookups + sum(c["total_lookups"] for c in children),
            "total_void_lookups": self.void_lookups
            + sum(c["total_void_lookups"] for c in children),
            "terms": [t.to_json() for t in self.terms],
            "errors": [e.to_json() for e in self.errors],
            "children": children,
        }
