"""RFC 7208 SPF: the record parser, macros, check_host(), the include tree and fixes.

The SPF card (`esm_tui.checks.spf`) and `esm-tui spf-eval` are built from these parts.
"""

from esm_tui.spf.errors import SpfSyntaxError
from esm_tui.spf.evaluate import SpfResult, check_host, client_address, spf_identity
from esm_tui.spf.parse import Mechanism, Modifier, SpfRecord, is_spf_record, parse_spf

__all__ = [
    "Mechanism",
    "Modifier",
    "SpfRecord",
    "SpfResult",
    "SpfSyntaxError",
    "check_host",
    "client_address",
    "is_spf_record",
    "parse_spf",
    "spf_identity",
]
