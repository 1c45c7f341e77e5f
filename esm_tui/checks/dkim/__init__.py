"""The DKIM check (RFC 6376, RFC 8301, RFC 8463): key records at `SEL._domainkey.DOMAIN`.

One module per idea:

- `parse`: the key record's tag-list, pure (RFC 6376 §3.2);
- `keys`: the public key in p=, decoded (pure) and judged (revoked, invalid, RSA size);
- `selector`: SPEC §4's rules for one selector's answer and record;
- `discovery`: which selectors are asked, and what the common ones say when none is
  configured;
- `verdict`: `SelectorResult`, what the rules build for one selector;
- `result`: `check()`, which asks every selector and folds their verdicts into the card.

Here: what the rest of esm-tui uses (the check registry, the codes table).
"""

from esm_tui.checks.dkim.discovery import COMMON_SELECTORS, selector_names
from esm_tui.checks.dkim.parse import DkimRecord, DkimSyntaxError, parse_dkim
from esm_tui.checks.dkim.result import CODES, check
from esm_tui.checks.dkim.selector import judge_selector

__all__ = [
    "CODES",
    "COMMON_SELECTORS",
    "DkimRecord",
    "DkimSyntaxError",
    "check",
    "judge_selector",
    "parse_dkim",
    "selector_names",
]
