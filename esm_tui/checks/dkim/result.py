"""The DKIM check itself: `check()` asks every selector at once and folds their verdicts
into the card (RFC 6376, RFC 8301, RFC 8463).

Configured selectors are judged by SPEC §4's rules (selector.py, keys.py); with none
configured, the common selectors are (discovery.py). The card's status, summary, records,
TTL and fix come from the selectors' verdicts here.
"""

from __future__ import annotations

from typing import Any

from esm_tui.checks.context import CheckContext
from esm_tui.checks.dkim.discovery import (
    COMMON_SELECTORS,
    judge_discovered,
    selector_names,
    unique_selectors,
)
from esm_tui.checks.dkim.selector import judge_selector
from esm_tui.checks.dkim.verdict import SelectorResult, label
from esm_tui.dns import eager
from esm_tui.model import (
    DomainSettings,
    Finding,
    Fix,
    FixRecord,
    RecordResult,
    Status,
    worst,
)

CODES: dict[str, str] = {
    "dkim.missing": "No key record at SEL._domainkey.DOMAIN (NXDOMAIN or NODATA).",
    "dkim.multiple-records": "More than one TXT record at a selector's name.",
    "dkim.syntax": "The key record is not a valid tag=value list.",
    "dkim.p-missing": "The key record has no p= tag.",
    "dkim.revoked": "p= is empty: the key is revoked.",
    "dkim.key-invalid": "p= does not decode to a public key of the declared type.",
    "dkim.rsa-too-short": "RSA key under 1024 bits: verifiers reject it.",
    "dkim.rsa-short": "RSA key of 1024 to 2047 bits: replace it with a 2048-bit key.",
    "dkim.version": "v= is present and not DKIM1.",
    "dkim.key-type-unknown": "k= names a key type other than rsa or ed25519.",
    "dkim.sha1-only": "h= allows only sha1, which verifiers reject.",
    "dkim.hash-unusable": "h= lists no hash algorithm a verifier accepts.",
    "dkim.service-excludes-email": "s= does not include email (or *).",
    "dkim.testing": "t=y: the domain is testing DKIM.",
    "dkim.no-selector": "No selector configured and none of the common selectors has a key.",
    "dkim.dns-failure": "A selector's query could not be answered (timeout, SERVFAIL, ...).",
    "dkim.discovery-incomplete": "Some common selectors could not be asked.",
    "dkim.discovered": "A key found at a common selector (none configured).",
    "dkim.not-a-key": "A common selector's name has TXT data that is not a DKIM key.",
    "dkim.cname": "The key record is reached through a CNAME.",
    "dkim.wildcard-revoked": "No selector configured and every common selector answers the "
    "same revoked key: a wildcard revoking all keys (a domain that sends no mail). Said once.",
    "dkim.host-name-as-text": "The selector's TXT record holds a host name (a provider's "
    "CNAME target pasted as text): no key; the fix is the CNAME.",
    "dkim.v-not-first": "v= is not the first tag.",
    "dkim.unknown-tag": "A tag RFC 6376 does not define (ignored by verifiers).",
    "dkim.rsa-pkcs1": "RSA key published as a bare RSAPublicKey instead of SubjectPublicKeyInfo.",
    "dkim.rsa-large": "RSA key over 4096 bits: not every verifier handles it.",
}


async def check(domain: DomainSettings, ctx: CheckContext) -> RecordResult:
    """Judge every configured selector, or discover common ones when none is configured."""
    selectors = unique_selectors(domain.dkim_selectors)
    discovering = not selectors
    asked = list(COMMON_SELECTORS) if discovering else selectors
    names = selector_names(domain)
    outcomes = await eager.gather(*(ctx.query(name, "TXT") for name in names))
    results = [
        judge_selector(sel, name, outcome, discovered=discovering)
        for sel, name, outcome in zip(asked, names, outcomes, strict=True)
    ]
    if discovering:
        shown, status, findings, summary = judge_discovered(domain, results, outcomes)
        query_name = f"_domainkey.{domain.name}."
        return _result(domain, shown, status, findings, summary, query_name, discovering=True)
    return _configured_result(domain, results, names[0])


def _configured_result(
    domain: DomainSettings, results: list[SelectorResult], query_name: str
) -> RecordResult:
    # worst() ranks fail > unknown > warn > ok: a failing selector stands whatever an
    # unanswered one would have said; otherwise an unanswered one makes the card unknown.
    status = worst(r.status for r in results)
    findings = [f for r in results for f in r.findings]
    summary = ", ".join(f"{r.selector}: {label(r)}" for r in results)
    return _result(domain, results, status, findings, summary, query_name, discovering=False)


def _result(
    domain: DomainSettings,
    results: list[SelectorResult],
    status: Status,
    findings: list[Finding],
    summary: str,
    query_name: str,
    *,
    discovering: bool,
) -> RecordResult:
    # `records`: the raw TXT records of every selector that answered, selector by selector
    # in the order the selectors were configured (or the order of COMMON_SELECTORS when
    # discovering), each selector's records in the order the server sent them.
    records = [text for r in results for text in r.records]
    ttls = [r.ttl for r in results if r.ttl is not None]
    details: dict[str, Any] = {
        "selectors": {r.selector: r.details for r in results},
        "discovered": discovering,
    }
    if discovering:
        details["tried"] = list(COMMON_SELECTORS)
    return RecordResult(
        check="dkim",
        status=status,
        summary=summary,
        query_name=query_name,
        query_type="TXT",
        records=tuple(records),
        # The soonest any of the keys shown can change.
        ttl=min(ttls) if ttls else None,
        findings=tuple(findings),
        fix=_fix(domain, results, status, discovering),
        details=details,
    )


def _fix(
    domain: DomainSettings, results: list[SelectorResult], status: Status, discovering: bool
) -> Fix | None:
    if status in (Status.OK, Status.NONE):
        return None
    steps: list[str] = []
    record: FixRecord | None = None
    for r in results:
        if discovering and r.revoked:
            continue
        steps.extend(s for s in r.steps if s not in steps)
        record = record or r.fix_record
    if discovering and not any(r.records for r in results if not r.revoked):
        steps.append(
            f"Find the selector your mail is signed with (the s= tag of the DKIM-Signature "
            f"header of a message sent from {domain.name}) and add it to dkim_selectors for "
            "this domain in the esm-tui configuration; the e-securemail relay's selector is "
            "in its activation guide / panel."
        )
    return Fix(tuple(steps), record) if steps else None
