"""Which DKIM selectors are asked, and what the common ones say when none is configured.

With no selector configured, a list of common selectors is asked concurrently; what
answers is shown, but a key found there can at most turn the card orange (we do not know
that it signs anything), and TXT data that is no key record (a wildcard's) is ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from esm_tui.checks.dkim.parse import DkimSyntaxError, parse_dkim
from esm_tui.checks.dkim.verdict import SelectorResult, label
from esm_tui.dns import Failure, Outcome, absolute
from esm_tui.model import DomainSettings, Finding, Severity, Status

#: Tried when no selector is configured: the defaults of common mail systems and providers
#: (Microsoft 365, Google Workspace, Mailchimp/Mandrill, Mailgun, Amazon SES-style, cPanel…).
COMMON_SELECTORS: tuple[str, ...] = (
    "default",
    "selector1",
    "selector2",
    "google",
    "k1",
    "k2",
    "k3",
    "s1",
    "s2",
    "dkim",
    "mail",
    "smtp",
    "mx",
    "key1",
    "key2",
    "mandrill",
    "everlytickey1",
    "everlytickey2",
    "mxvault",
)


def selector_names(domain: DomainSettings) -> list[str]:
    """The names `check` asks (TXT): the configured selectors', else the common ones'."""
    asked = unique_selectors(domain.dkim_selectors) or COMMON_SELECTORS
    return [absolute(f"{sel}._domainkey.{domain.name}") for sel in asked]


def unique_selectors(selectors: Sequence[str]) -> list[str]:
    """The configured selectors, trimmed, each once (compared case-insensitively), in order."""
    seen: set[str] = set()
    out: list[str] = []
    for sel in selectors:
        key = sel.strip().lower().rstrip(".")
        if key and key not in seen:
            seen.add(key)
            out.append(sel.strip().rstrip("."))
    return out


class Discovered(NamedTuple):
    """The common selectors shown on the card, and the verdict they add up to."""

    shown: list[SelectorResult]
    status: Status
    findings: list[Finding]
    summary: str


def judge_discovered(
    domain: DomainSettings, results: list[SelectorResult], outcomes: list[Outcome]
) -> Discovered:
    """What the common selectors that answered add up to (at most orange, see above)."""
    found = [r for r in results if r.records and _looks_like_key(r)]
    noise = [r for r in results if r.records and not _looks_like_key(r)]
    failed = [r for r in results if r.status is Status.UNKNOWN]
    usable = [r for r in found if not r.revoked]
    wildcard = _revoked_by_wildcard(domain, results, found)
    if wildcard is not None:
        return wildcard
    findings: list[Finding] = []
    for r in found:
        findings.append(
            Finding(
                Severity.INFO,
                "dkim.discovered",
                f"No selector is configured; found a key at the common selector "
                f"'{r.selector}' ({r.name}).",
                "RFC 6376 §3.1",
            )
        )
        findings.extend(_as_discovered(f, r) for f in r.findings)
    for r in noise:
        findings.append(
            Finding(
                Severity.INFO,
                "dkim.not-a-key",
                f"{r.name} has TXT data that is not a DKIM key record (a wildcard?); ignored.",
                "RFC 6376 §3.6.1",
            )
        )
    if failed:
        findings.append(
            Finding(
                Severity.INFO,
                "dkim.discovery-incomplete",
                f"Could not ask {len(failed)} of {len(results)} common selectors "
                f"({', '.join(r.selector for r in failed)}): {_first_reason(outcomes)}.",
            )
        )
    if usable:
        bad = any(r.status in (Status.WARN, Status.FAIL) and not r.revoked for r in found)
        status = Status.WARN if bad else Status.OK
        summary = "found " + ", ".join(f"{r.selector}: {label(r)}" for r in found)
    elif failed:
        # "None answers" cannot be concluded while some could not be asked (SPEC §4).
        status = Status.UNKNOWN
        summary = f"no key found; {len(failed)} of {len(results)} common selectors unanswered"
    else:
        status = Status.WARN
        revoked = f" ({len(found)} revoked)" if found else ""
        findings.append(
            Finding(
                Severity.WARN,
                "dkim.no-selector",
                f"No DKIM selector is configured for {domain.name}, and none of the "
                f"{len(results)} common selectors ({', '.join(COMMON_SELECTORS)}) has a "
                f"usable key{revoked}. Configure the selector(s) your mail is signed with.",
                "RFC 6376 §3.1",
            )
        )
        summary = f"no selector configured; none of {len(results)} common ones found"
    shown = found + [r for r in failed if r not in found]
    return Discovered(shown, status, findings, summary)


def _revoked_by_wildcard(
    domain: DomainSettings, results: list[SelectorResult], found: list[SelectorResult]
) -> Discovered | None:
    """Every common selector answers the same revoked key: a `*._domainkey` wildcard that
    revokes all keys, as a domain that sends no mail publishes on purpose. Said once (not
    once per selector asked), and not "none found" (issue 18 item 3)."""
    if len(results) < 3 or len(found) != len(results) or not all(r.revoked for r in found):
        return None
    texts = {tuple(r.records) for r in found}
    if len(texts) != 1:
        return None
    [record] = texts
    finding = Finding(
        Severity.INFO,
        "dkim.wildcard-revoked",
        f"Every one of the {len(results)} common selectors asked answers the same revoked "
        f"key ({record[0][:60]}): a wildcard *._domainkey.{domain.name} that revokes every "
        "key, as a domain that sends no mail publishes on purpose. No selector is "
        "configured; configure one if the domain does send mail.",
        "RFC 6376 §3.6.1",
    )
    return Discovered([], Status.OK, [finding], "every key revoked (wildcard): sends no mail")


def _looks_like_key(res: SelectorResult) -> bool:
    """A discovered answer counts only if it is a DKIM key record, not e.g. a wildcard TXT."""
    return any(_keyish(text) for text in res.records)


def _keyish(text: str) -> bool:
    try:
        record = parse_dkim(text)
    except DkimSyntaxError:
        # A broken key record is still a key record someone meant to publish here.
        return text.lstrip().startswith("v=DKIM1") or "p=" in text
    return "p" in record or record.get("v") == "DKIM1"


def _as_discovered(finding: Finding, res: SelectorResult) -> Finding:
    # Nobody said this selector signs mail: its faults are worth a look (warn), not red;
    # a revoked key there is a normal retirement (info).
    if finding.severity is not Severity.FAIL:
        return finding
    severity = Severity.INFO if res.revoked else Severity.WARN
    return Finding(severity, finding.code, finding.message, finding.ref)


def _first_reason(outcomes: list[Outcome]) -> str:
    for outcome in outcomes:
        if isinstance(outcome, Failure):
            return outcome.reason
    return "no answer"
