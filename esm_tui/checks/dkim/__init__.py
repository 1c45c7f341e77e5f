"""The DKIM check (RFC 6376, RFC 8301, RFC 8463): what the rest of esm-tui uses of it."""

from esm_tui.checks.dkim.result import (
    CODES,
    COMMON_SELECTORS,
    DkimRecord,
    DkimSyntaxError,
    check,
    judge_selector,
    parse_dkim,
    selector_names,
)

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
