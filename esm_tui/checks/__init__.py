"""The record checks (SPEC §4, §8) and `check_domain()`, which runs a domain's checks at once.

Each check, a module (mx, spf, bimi) or a package (dkim, dmarc), offers
`async check(domain, ctx) -> RecordResult` and the `CODES` of the findings it emits. The
record parsers are pure modules of their own: `bimi_parse`, `dkim.parse`, `dmarc.parse`, and
SPF's in `esm_tui.spf`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from types import ModuleType

from esm_tui.checks.context import CheckContext
from esm_tui.checks.limits import capped
from esm_tui.checks.watchdog import TookTooLong, bounded, wall_bound
from esm_tui.dns import eager
from esm_tui.hosts.attach import with_host_steps
from esm_tui.hosts.detect import detect_host, domain_query
from esm_tui.model import (
    CHECK_NAMES,
    DomainReport,
    DomainSettings,
    Finding,
    RecordResult,
    Severity,
    Status,
    ZoneHost,
)

Check = Callable[[DomainSettings, CheckContext], Awaitable[RecordResult]]

log = logging.getLogger(__name__)

_QUERY = {
    "mx": ("{d}.", "MX"),
    "spf": ("{d}.", "TXT"),
    "dkim": ("_domainkey.{d}.", "TXT"),
    "dmarc": ("_dmarc.{d}.", "TXT"),
    "bimi": ("default._bimi.{d}.", "TXT"),
    "mta_sts": ("_mta-sts.{d}.", "TXT"),
    "tls_rpt": ("_smtp._tls.{d}.", "TXT"),
    "dnssec": ("{d}.", "DNSKEY"),
}


def _modules() -> tuple[ModuleType, ...]:
    """The check modules, imported on first use (to keep import cycles out) and kept:
    `from package import submodule` runs importlib's Python code on every execution
    (≈ 0.2 ms per domain for the five, profiled)."""
    global _MODULES
    if _MODULES is None:
        from esm_tui.checks import bimi, dkim, dmarc, dnssec, mta_sts, mx, spf, tls_rpt

        _MODULES = (mx, spf, dkim, dmarc, bimi, mta_sts, tls_rpt, dnssec)
    return _MODULES


_MODULES: tuple[ModuleType, ...] | None = None


def registry() -> dict[str, Check]:
    """The checks by name, in display order."""
    mx, spf, dkim, dmarc, bimi, mta_sts, tls_rpt, dnssec = _modules()
    return {
        "mx": mx.check,
        "spf": spf.check,
        "dkim": dkim.check,
        "dmarc": dmarc.check,
        "bimi": bimi.check,
        "mta_sts": mta_sts.check,
        "tls_rpt": tls_rpt.check,
        "dnssec": dnssec.check,
    }


def first_queries(domain: DomainSettings) -> list[tuple[str, str]]:
    """The queries the five checks start with, whatever the answers: asked together by
    check_domain before the checks run (tests/test_perf_caches.py holds each of them to
    being asked by the checks themselves)."""
    _mx, _spf, dkim, _dmarc, bimi, *_ = _modules()
    name = domain.name.lower().rstrip(".")
    return [
        (f"{name}.", "MX"),
        (f"{name}.", "TXT"),
        *((selector, "TXT") for selector in dkim.selector_names(domain)),
        (f"_dmarc.{name}.", "TXT"),
        (f"{bimi.SELECTOR}._bimi.{name}.", "TXT"),
        (f"_mta-sts.{name}.", "TXT"),
        (f"_smtp._tls.{name}.", "TXT"),
    ]


async def check_domain(domain: DomainSettings, ctx: CheckContext) -> DomainReport:
    """Run all five checks of one domain at once; a crashing check becomes `unknown`.

    Their first queries are asked together beforehand, and awaited as one: the checks
    then mostly run to the end without waiting (their later queries, the SPF includes
    and MX hosts, are shared by many domains and cached), so `eager.gather` makes no
    task for them. At 1,000 domains that halved the tasks and loop callbacks (profiled).
    It adds no wait: the report is complete only when the slowest check is.
    """
    # The DNS host's NS question goes with the first ones: no wait of its own.
    pending = ctx.prefetch([*first_queries(domain), domain_query(domain.name)])
    if pending is not None:
        await pending
    checks = registry()
    host, *results = await eager.gather(
        _host(domain, ctx), *(_guarded(name, checks[name], domain, ctx) for name in CHECK_NAMES)
    )
    report = DomainReport(
        domain=domain.name,
        checks=dict(zip(CHECK_NAMES, results, strict=True)),
        checked_at=datetime.now(UTC),
        dns_host=host,
    )
    return with_host_steps(report, domain)


async def _host(domain: DomainSettings, ctx: CheckContext) -> ZoneHost | None:
    """The zone's DNS host (esm_tui.hosts.detect); a bug there costs the name, not the check."""
    try:
        return await detect_host(domain.name, ctx)
    except Exception:
        log.exception("naming the DNS host of %s crashed", domain.name)
        return None


async def _guarded(
    name: str, check: Check, domain: DomainSettings, ctx: CheckContext
) -> RecordResult:
    try:
        result = await bounded(check(domain, ctx), wall_bound(ctx.dns.timeout, ctx.dns.retries))
        return capped(result)
    except TookTooLong as exc:
        log.warning("check %s of %s stopped: %s", name, domain.name, exc.what)
        qname, qtype = _QUERY[name]
        return RecordResult(
            check=name,
            status=Status.UNKNOWN,
            summary="the check took too long",
            query_name=qname.format(d=domain.name),
            query_type=qtype,
            findings=(
                Finding(
                    Severity.WARN,
                    f"{name}.took-too-long",
                    f"esm-tui stopped checking this record: {exc.what}. The other records "
                    "and domains were checked; esm-tui will try again on the next check. "
                    "If it keeps happening, please report it with the record.",
                ),
            ),
        )
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
