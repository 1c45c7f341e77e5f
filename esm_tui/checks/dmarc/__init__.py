"""The DMARC check (RFC 9989, which obsoletes RFC 7489): discovery, policy, reporting.

One module per idea, in the order a check uses them:

- `parse`: the record's tag-list, pure (RFC 9989 §4.7, §4.8);
- `discovery`: which record applies, from `_dmarc.DOMAIN` or the §4.10 tree walk, and the
  Organizational Domain of a name;
- `policy`: the policy receivers apply (p/sp/np, t=y, the §4.10.1 fallback);
- `tags`: the findings on the applied record's tags;
- `report_auth`: RFC 9990 §3.2.3 authorization of report addresses at other organizations;
- `fix`: the steps and the corrected record;
- `verdict`: the findings as collected, settled into a status;
- `result`: `check()`, which ties them together into the card.

Here: what the rest of esm-tui uses (the check registry, the BIMI check, the codes table).
"""

from esm_tui.checks.dmarc.discovery import (
    MAX_QUERIES,
    Discovery,
    Lookup,
    discover,
    organizational_domain,
    tree_walk,
)
from esm_tui.checks.dmarc.fix import starter_record
from esm_tui.checks.dmarc.policy import EffectivePolicy, effective_policy
from esm_tui.checks.dmarc.result import CODES, check
from esm_tui.checks.dmarc.verdict import CHECK

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
