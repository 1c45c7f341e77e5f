"""The size of a published SPF record against RFC 7208 §3.4's recommendation.

A record over 450 bytes may not fit, with the rest of the answer, in a 512-byte UDP
reply: resolvers then retry over TCP, and some receivers never do. It is a note (INFO),
not a fault: the record still works wherever TCP does. The record is never cut: a
64 KB one is parsed whole (linearly) and judged on what it says.
"""

from __future__ import annotations

from esm_tui.model import Severity
from esm_tui.spf.judge import Verdict

#: RFC 7208 §3.4: "it is RECOMMENDED that the total size of the SPF record stays below 450".
RECOMMENDED = 450


def judge_size(verdict: Verdict, text: str) -> None:
    """Note a record over RECOMMENDED bytes (counted as published, undecodable bytes too)."""
    size = len(text.encode("utf-8", "surrogateescape"))
    if size > RECOMMENDED:
        verdict.add(
            Severity.INFO,
            "spf.record-size",
            f"The record is {size:,} bytes, over the {RECOMMENDED} RFC 7208 recommends: with "
            "the rest of the answer it may not fit in a 512-byte UDP reply, so resolvers must "
            "retry over TCP and a receiver that does not may see no SPF record.",
            "RFC 7208 §3.4",
        )
