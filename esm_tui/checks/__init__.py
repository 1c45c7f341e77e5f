"""The five record checks and `check_domain()`, which runs a domain's checks concurrently.

Each check module has pure `parse_*` functions and `async check(domain, ctx) -> RecordResult`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from esm_tui.checks.context import CheckContext
from esm_tui.model import (
    CHECK_NAMES,
    DomainReport,
    DomainSettings,
    Finding,
    RecordResult,
    Severity,
    Status,
)

Check = Callable[[DomainSettings, CheckContext], Awaitable[RecordResult]]

log = logging.getLogger(__name__)

_QUERY = {
    "mx": ("{d}.", "MX"),
    "spf": ("{d}.", "TXT"),
    "dkim": ("_domainkey.{d}.", "TXT"),
    "dmarc": ("_dmarc.{d}.", "TXT"),
    "bimi": ("default._bimi.{d}.", "TXT"),
}


def registry() -> dict[str, Check]:
    """The checks by name, in display order (imported here to keep import cycles out)."""
    from esm_tui.checks import bimi, dkim, dmarc, mx, spf

    return {
        "mx": mx.check,
        "spf": spf.check,
        "dkim": dkim.check,
        "dmarc": dmarc.check,
        "bimi": bimi.check,
    }


async def check_domain(domain: DomainSettings, ctx: CheckContext) -> DomainReport:
    """Run all five checks of one domain at once; a crashing check becomes `unknown`."""
    checks = registry()
    results = await asyncio.gather(
        *(_guarded(name, checks[name], domain, ctx) for name in CHECK_NAMES)
    )
    return DomainReport(
        domain=domain.name,
        checks=dict(zip(CHECK_NAMES, results, strict=True)),
        checked_at=datetime.now(UTC),
    )


async def _guarded(
    name: str, check: Check, domain: DomainSettings, ctx: CheckContext
) -> RecordResult:
    try:
        return await check(domain, ctx)
    except Exception as exc:
        log.exception("check %s of %s crashed", name, domain.name)
        qname, qtype = _QUERY[name]
        return RecordResult(
            check=name,
            status=Status.UNKNOWN,
            summary="internal error while checking",
            query_name=qname.format(d=domain.name),
            query_type=qtype,
            findings=(
                Finding(
                    Severity.WARN,
                    f"{name}.internal-error",
                    f"esm-tui failed while checking this record ({type(exc).__name__}: {exc}); "
                    "please report it.",
                ),
            ),
        )
