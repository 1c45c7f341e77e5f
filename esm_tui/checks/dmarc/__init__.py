"""The DMARC check (RFC 9989, which obsoletes RFC 7489): what the rest of esm-tui uses of it."""

from esm_tui.checks.dmarc.result import (
    CHECK,
    CODES,
    MAX_QUERIES,
    Discovery,
    EffectivePolicy,
    Lookup,
    check,
    discover,
    effective_policy,
    organizational_domain,
    starter_record,
    tree_walk,
)

__all__ = [
    "CHECK",
    "CODES",
    "MAX_QUERIES",
    "Discovery",
    "EffectivePolicy",
    "Lookup",
    "check",
    "discover",
    "effective_policy",
    "organizational_domain",
    "starter_record",
    "tree_walk",
]
