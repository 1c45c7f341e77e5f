"""At most `PER_CODE` findings of one code in a record's result (issue 19).

A hostile record can make a parser find the same fault thousands of times: a DMARC `rua`
of 30,000 commas gave 61,000 "empty URI" findings, 1.3 s of the check spent building them
and a JSON report of megabytes that nobody reads. The first ones say everything; a last
finding says how many more there were, so nothing is dropped silently. The status is the
same either way: the findings kept of a code have the severity of those left out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from esm_tui.model import Finding, RecordResult, Severity

#: Findings of one code kept in a result.
PER_CODE = 20


def capped(result: RecordResult) -> RecordResult:
    """`result` with at most PER_CODE findings per code, and one that counts the rest."""
    counts = Counter(f.code for f in result.findings)
    if not counts or max(counts.values()) <= PER_CODE:
        return result  # the common case: no copy
    kept: list[Finding] = []
    seen: Counter[str] = Counter()
    for finding in result.findings:
        seen[finding.code] += 1
        if seen[finding.code] <= PER_CODE:
            kept.append(finding)
    over = {code: n - PER_CODE for code, n in counts.items() if n > PER_CODE}
    said = ", ".join(f"{n:,} more {code}" for code, n in over.items())
    kept.append(
        Finding(
            Severity.INFO,
            f"{result.check}.findings-capped",
            f"Only the first {PER_CODE} findings of a kind are listed: {said}.",
        )
    )
    return replace(result, findings=tuple(kept))
