"""A record being corrected: its terms as slots that fixes replace, insert or remove."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from esm_tui.spf.parse import Mechanism, Term, parse_term
from esm_tui.spf.tree_model import Network


@dataclass
class Slot:
    """One term of the draft: its text, and what it parsed to (None once rewritten)."""

    text: str
    term: Term | None
    flattened: bool = False


@dataclass
class Draft:
    """The terms of the proposed record and the steps explaining each change."""

    domain: str
    slots: list[Slot] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)

    def value(self) -> str:
        return " ".join(["v=spf1", *(s.text for s in self.slots)])

    def all_index(self) -> int | None:
        return next((i for i, s in enumerate(self.slots) if is_mechanism(s.term, "all")), None)

    def insert_before_all(self, texts: Sequence[str]) -> None:
        at = self.all_index()
        if at is None:
            mechanisms = [i for i, s in enumerate(self.slots) if isinstance(s.term, Mechanism)]
            at = mechanisms[-1] + 1 if mechanisms else 0
        for offset, text in enumerate(texts):
            self.slots.insert(at + offset, Slot(text, parse_term(text)))


def is_mechanism(term: Term | None, name: str) -> bool:
    return isinstance(term, Mechanism) and term.name == name


def format_range(network: Network) -> str:
    """`ip4:192.0.2.1` for a single address, `ip4:192.0.2.0/24` for a network."""
    kind = "ip4" if network.version == 4 else "ip6"
    if network.prefixlen == network.max_prefixlen:
        return f"{kind}:{network.network_address}"
    return f"{kind}:{network}"
