"""The MTA-STS check (RFC 8461): the `_mta-sts.DOMAIN` TXT record, the policy it announces
(fetched over HTTPS as senders fetch it: esm_tui.checks.mta_sts.fetch), the policy's
grammar (…policy), and whether every MX host is one the policy allows.

Optional, like BIMI: grey without a record unless the domain sets `mta_sts = true`. What
matters most to a relay's customers: in `enforce` mode, an MX host that no `mx:` pattern
matches is one that senders refuse to deliver to (red); in `testing` it is only reported
(orange). HTTPS failures that say nothing about the policy (a timeout, a refused
connection, a 5xx) are `unknown`, never red.
"""

from __future__ import annotations

from dataclasses import replace

from esm_tui.checks.context import RETRY_STEP, CheckContext, failure_finding, unknown_result
from esm_tui.checks.mta_sts import fix as fixes
from esm_tui.checks.mta_sts.fetch import Fetched, FetchError, fetch_policy, policy_url
from esm_tui.checks.mta_sts.policy import Policy, parse_policy, uncovered
from esm_tui.checks.mta_sts.record import CODES as CODES
from esm_tui.checks.mta_sts.record import REF_FETCH, REF_MATCH, REF_POLICY, read_txt
from esm_tui.dns import Answer, Failure, eager
from esm_tui.dns.names import name_text
from esm_tui.model import (
    DomainSettings,
    Finding,
    Fix,
    RecordResult,
    Severity,
    Status,
    status_from_findings,
)

CHECK = "mta_sts"


async def check(domain: DomainSettings, ctx: CheckContext) -> RecordResult:
    name = domain.name.lower().rstrip(".")
    qname = f"_mta-sts.{name}."
    outcome = await ctx.query(qname, "TXT")
    if isinstance(outcome, Failure):
        result = unknown_result(CHECK, qname, "TXT", outcome, record=None, policy=None)
        return replace(result, fix=Fix((RETRY_STEP,)))
    texts = tuple(outcome.texts()) if isinstance(outcome, Answer) else ()
    ttl = outcome.ttl if isinstance(outcome, Answer) else None
    txt = read_txt(domain, name, texts)
    base = {
        "check": CHECK,
        "query_name": qname,
        "query_type": "TXT",
        "records": texts,
        "ttl": ttl,
    }
    details: dict[str, object] = {
        "record": txt.record,
        "id": txt.id,
        "policy_url": policy_url(name),
        "policy": None,
        "mode": None,
        "max_age": None,
        "mx": [],
        "mx_hosts": [],
        "uncovered": [],
    }
    if txt.status == Status.NONE:
        return RecordResult(
            status=Status.NONE,
            summary="no MTA-STS record (optional)",
            findings=tuple(txt.findings),
            details=details,
            **base,
        )
    if txt.id is None:  # missing while expected, several records, or invalid
        policy_text = fixes.proposed_policy(None, [], domain.relay_mx)
        return RecordResult(
            status=Status.FAIL,
            summary=txt.summary,
            findings=tuple(txt.findings),
            fix=fixes.fix(
                name,
                policy_text=policy_text if txt.missing else None,
                txt_needed=True,
                lead=txt.lead,
            ),
            details=details,
            **base,
        )
    return await _with_policy(domain, ctx, name, base, details, list(txt.findings))


async def _with_policy(
    domain: DomainSettings,
    ctx: CheckContext,
    name: str,
    base: dict,
    details: dict[str, object],
    findings: list[Finding],
) -> RecordResult:
    host = f"mta-sts.{name}."
    mx_outcome, v4, v6 = await eager.gather(
        ctx.query(f"{name}.", "MX"), ctx.query(host, "A"), ctx.query(host, "AAAA")
    )
    addresses = [a for o in (v4, v6) if isinstance(o, Answer) for a in o.values()]
    failures = [o for o in (v4, v6) if isinstance(o, Failure)]
    if not addresses and failures:
        findings.append(failure_finding(CHECK, failures[0]))
        return _unknown(base, details, findings, "policy host not resolved")
    deadline = max(ctx.dns.timeout * (ctx.dns.retries + 1), 5.0)
    fetched = await fetch_policy(name, addresses, port=ctx.https_port, deadline=deadline)
    mx_hosts, null_mx = _mx_hosts(mx_outcome, name)
    details["mx_hosts"] = mx_hosts
    if isinstance(fetched, FetchError):
        return _fetch_failed(domain, name, base, details, findings, fetched, mx_hosts)
    policy = parse_policy(fetched.body)
    details.update(
        policy=fetched.body, mode=policy.mode, max_age=policy.max_age, mx=list(policy.mx)
    )
    findings.extend(_policy_findings(fetched, policy))
    if not policy.usable:
        return _result(domain, name, base, details, findings, policy, mx_hosts, "invalid policy")
    if isinstance(mx_outcome, Failure):
        findings.append(failure_finding(CHECK, mx_outcome))
        if status_from_findings(findings) != Status.FAIL:
            return _unknown(base, details, findings, "MX hosts not known")
    elif null_mx:
        findings.append(
            Finding(
                Severity.INFO,
                "mta_sts.null-mx",
                f"{name} publishes a null MX (it receives no mail): its MTA-STS policy has "
                "nothing to protect.",
                REF_MATCH,
            )
        )
    else:
        findings.extend(_mx_findings(name, policy, mx_hosts, details))
    return _result(domain, name, base, details, findings, policy, mx_hosts, None)


def _mx_hosts(outcome: object, name: str) -> tuple[list[str], bool]:
    """The MX host names (no trailing dot); the domain itself when it has no MX (RFC 5321
    §5.1's implicit MX); and whether it is a null MX."""
    if not isinstance(outcome, Answer):
        return ([name] if not isinstance(outcome, Failure) else []), False
    hosts = [name_text(r.exchange).rstrip(".").lower() for r in outcome.rdatas]
    null = any(h == "" for h in hosts)
    return [h for h in hosts if h], null


def _policy_findings(fetched: Fetched, policy: Policy) -> list[Finding]:
    findings: list[Finding] = []
    media = fetched.content_type.split(";", 1)[0].strip().lower()
    if media != "text/plain":
        findings.append(
            Finding(
                Severity.WARN,
                "mta_sts.policy-content-type",
                f"The policy is served as {media or 'no Content-Type'!r}, not text/plain; "
                "senders SHOULD check it and may ignore the policy.",
                REF_FETCH,
            )
        )
    for problem in policy.problems:
        findings.append(
            Finding(
                Severity.FAIL if problem.fatal else Severity.WARN,
                f"mta_sts.{problem.slug}",
                f"Policy at {fetched.url}: {problem.message}"
                + ("; senders discard the policy." if problem.fatal else "."),
                REF_POLICY,
            )
        )
    if policy.usable and policy.mode == "none":
        findings.append(
            Finding(
                Severity.WARN,
                "mta_sts.mode-none",
                "The policy's mode is none: senders neither enforce nor report. Use testing, "
                "then enforce (or remove MTA-STS on purpose).",
                REF_POLICY,
            )
        )
    elif policy.usable and policy.mode == "testing":
        findings.append(
            Finding(
                Severity.INFO,
                "mta_sts.mode-testing",
                "The policy is in testing mode: senders report TLS failures (with TLS-RPT) "
                "but still deliver. Move to enforce once the reports are clean.",
                REF_POLICY,
            )
        )
    if policy.usable and policy.max_age is not None and policy.max_age < fixes.MIN_MAX_AGE:
        findings.append(
            Finding(
                Severity.WARN,
                "mta_sts.max-age-short",
                f"max_age is {policy.max_age} s (under a day): senders forget the policy "
                "quickly, which leaves room to strip it; RFC 8461 expects weeks.",
                REF_POLICY,
            )
        )
    return findings


def _mx_findings(
    name: str, policy: Policy, mx_hosts: list[str], details: dict[str, object]
) -> list[Finding]:
    if policy.mode == "none":
        return []
    missed = uncovered(policy.mx, mx_hosts)
    details["uncovered"] = missed
    if not missed:
        return [
            Finding(
                Severity.INFO,
                "mta_sts.mx-covered",
                f"Every MX host of {name} ({', '.join(mx_hosts)}) matches an mx: pattern.",
                REF_MATCH,
            )
        ]
    enforce = policy.mode == "enforce"
    consequence = (
        "senders that apply MTA-STS refuse to deliver to it"
        if enforce
        else "senders report it (testing mode) and will refuse it once the mode is enforce"
    )
    return [
        Finding(
            Severity.FAIL if enforce else Severity.WARN,
            "mta_sts.mx-not-covered",
            f"The MX host {host} matches no mx: pattern of the policy "
            f"({', '.join(policy.mx) or 'none'}): {consequence}.",
            REF_MATCH,
        )
        for host in missed
    ]


def _fetch_failed(
    domain: DomainSettings,
    name: str,
    base: dict,
    details: dict[str, object],
    findings: list[Finding],
    error: FetchError,
    mx_hosts: list[str],
) -> RecordResult:
    code = f"mta_sts.{error.slug}"
    if not error.definite:
        findings.append(
            Finding(
                Severity.WARN,
                code,
                f"Could not fetch {error.url}: {error.reason}. That says nothing about the "
                "policy yet; esm-tui asks again on the next check.",
                REF_FETCH,
            )
        )
        return _unknown(base, details, findings, "policy not fetched")
    findings.append(
        Finding(
            Severity.FAIL,
            code,
            f"{error.url}: {error.reason}. The TXT record announces a policy that senders "
            "cannot fetch, so they apply none.",
            REF_FETCH,
        )
    )
    policy_text = fixes.proposed_policy(None, mx_hosts, domain.relay_mx)
    return RecordResult(
        status=Status.FAIL,
        summary=_FETCH_SUMMARY.get(error.slug, "policy not served"),
        findings=tuple(findings),
        fix=fixes.fix(
            name,
            policy_text=policy_text,
            txt_needed=True,
            lead="Serve the policy file senders look for; the TXT record already announces it.",
        ),
        details=details,
        **base,
    )


_FETCH_SUMMARY = {
    "policy-not-found": "policy file not found (HTTP 404)",
    "policy-redirect": "policy URL redirects",
    "policy-certificate": "policy host's certificate invalid",
    "policy-host-missing": "no mta-sts host",
    "policy-too-large": "policy file too large",
    "policy-http-status": "policy not served (HTTP error)",
}


def _result(
    domain: DomainSettings,
    name: str,
    base: dict,
    details: dict[str, object],
    findings: list[Finding],
    policy: Policy,
    mx_hosts: list[str],
    summary: str | None,
) -> RecordResult:
    status = status_from_findings(findings)
    if summary is None:
        summary = _summary(status, policy, details)
    fix = None
    if status not in (Status.OK, Status.NONE):
        fix = fixes.fix(
            name,
            policy_text=fixes.proposed_policy(policy, mx_hosts, domain.relay_mx),
            txt_needed=True,
            lead=_lead(findings),
        )
    return RecordResult(
        status=status,
        summary=summary,
        findings=tuple(findings),
        fix=fix,
        details=details,
        **base,
    )


def _summary(status: Status, policy: Policy, details: dict[str, object]) -> str:
    missed = details.get("uncovered") or []
    if missed:
        return f"{policy.mode}: {len(missed)} MX host(s) not in the policy"  # type: ignore[arg-type]
    if status == Status.OK:
        return f"{policy.mode}, {len(policy.mx)} mx pattern(s), max_age {policy.max_age}"
    return f"mode {policy.mode}" if policy.mode == "none" else f"{policy.mode}, with warnings"


def _lead(findings: list[Finding]) -> str:
    codes = {f.code for f in findings}
    if "mta_sts.mx-not-covered" in codes:
        return "Add the missing MX hosts to the policy's mx: lines, then change the id."
    if "mta_sts.mode-none" in codes:
        return "Move the policy to testing (then enforce once TLS-RPT reports are clean)."
    return "Correct the policy file, then change the id so senders fetch it again."


def _unknown(
    base: dict, details: dict[str, object], findings: list[Finding], summary: str
) -> RecordResult:
    return RecordResult(
        status=Status.UNKNOWN,
        summary=summary,
        findings=tuple(findings),
        fix=Fix((RETRY_STEP,)),
        details=details,
        **base,
    )
