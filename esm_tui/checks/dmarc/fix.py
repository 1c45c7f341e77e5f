"""The fix of a DMARC card: the steps, and the corrected record to publish.

The corrected record keeps every tag as published and repairs only what a finding names;
a domain that inherits a p=none (through sp/np) is given a record of its own instead.
"""

from __future__ import annotations

from esm_tui.checks.context import RETRY_STEP
from esm_tui.checks.dmarc.discovery import Discovery
from esm_tui.checks.dmarc.parse import DmarcSyntaxError, format_record, parse_dmarc
from esm_tui.checks.dmarc.policy import EffectivePolicy
from esm_tui.dns import absolute
from esm_tui.model import Finding, Fix, FixRecord, Severity, Status


def starter_record(domain: str) -> str:
    """The first record to publish for a domain without DMARC (monitoring, with reports)."""
    return f"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}"


_PATH_STEPS = (
    "Read the aggregate reports for a few weeks and make every legitimate sender pass SPF or "
    "DKIM aligned with the domain.",
    "Then raise the policy to p=quarantine; once the reports show only unwanted mail failing, "
    "raise it to p=reject.",
)


def propose_fix(
    discovery: Discovery,
    policy: EffectivePolicy | None,
    findings: list[Finding],
    status: Status,
    *,
    no_mail: str | None = None,
) -> Fix | None:
    """The steps, and the record to publish, for what the findings name; None for ok and none."""
    if status in (Status.OK, Status.NONE):
        return None
    codes = {f.code for f in findings if f.severity != Severity.INFO}
    domain = discovery.domain
    own_name = absolute(f"_dmarc.{domain}")
    steps: list[str] = []
    record: FixRecord | None = None
    if "dmarc.missing" in codes and no_mail is not None:
        # A domain that sends no mail: reject everything in its name at once; no reports
        # to read, and none could arrive at a domain with a null MX.
        value = "v=DMARC1; p=reject"
        steps.append(
            f'{domain} sends no mail ({no_mail}): publish _dmarc.{domain} TXT "{value}", '
            "so receivers reject mail forged in its name. No report address is needed."
        )
        record = FixRecord(own_name, "TXT", value)
    elif "dmarc.missing" in codes:
        value = starter_record(domain)
        steps.append(
            f'Publish _dmarc.{domain} TXT "{value}" — replace dmarc-reports@{domain} with a '
            "mailbox you actually read (or your report service's address)."
        )
        steps.extend(_PATH_STEPS)
        record = FixRecord(own_name, "TXT", value)
    if "dmarc.multiple-records" in codes:
        steps.append(
            f"Delete all but one DMARC record at _dmarc.{domain}: merge their tags into one."
        )
    if "dmarc.not-dmarc1" in codes:
        repaired = _repair_version(discovery.own.texts[0])
        steps.append(
            f"Start the record at _dmarc.{domain} with v=DMARC1 (exactly that spelling), "
            "followed by '; ' and the other tags."
        )
        if repaired is not None:
            steps.append(f"Publish at _dmarc.{domain}: {repaired}")
            record = FixRecord(own_name, "TXT", repaired)
    if "dmarc.record-at-apex" in codes:
        steps.append(f"Remove the v=DMARC1 TXT record at {domain} itself.")
    if discovery.record is not None:
        steps.extend(_record_steps(discovery, codes))
        proposed = _corrected(discovery, policy, codes)
        if proposed is not None:
            where = f"_dmarc.{discovery.location}"
            if discovery.inherited and _fix_own(codes):
                where = f"_dmarc.{domain}"
            steps.append(f"Publish at {where}: {proposed}")
            record = record or FixRecord(absolute(where), "TXT", proposed)
        if "dmarc.report-unauthorized" in codes:
            steps.extend(_authorization_steps(discovery))
    if not steps:
        steps.append(RETRY_STEP)
    target = delegation_target(discovery)
    if target is not None and not _within(target, domain):
        # _dmarc.DOMAIN is a CNAME: a TXT record cannot sit beside it (RFC 1034 §3.6.2),
        # and the record that applies is the target's, its operator's to change.
        steps = _delegated_steps(domain, target, steps, record)
        record = None
    return Fix(tuple(dict.fromkeys(steps)), record)


def _within(target: str, domain: str) -> bool:
    target = target.rstrip(".").lower()
    return target == domain or target.endswith("." + domain)


def delegation_target(discovery: Discovery) -> str | None:
    """Where `_dmarc.DOMAIN` points when it is a CNAME (the last target), else None."""
    cnames = getattr(discovery.own.outcome, "cnames", ())
    return cnames[-1] if cnames else None


def operator_of(target: str) -> str:
    """Who runs a CNAME target, as an admin would name them: its last two labels."""
    labels = target.rstrip(".").split(".")
    return ".".join(labels[-2:]) if len(labels) >= 2 else target.rstrip(".")


def _delegated_steps(
    domain: str, target: str, steps: list[str], record: FixRecord | None
) -> list[str]:
    operator = operator_of(target)
    value = f" ({record.value})" if record is not None else ""
    return [
        f"_dmarc.{domain} is a CNAME to {target.rstrip('.')}: the DMARC record that applies is "
        f"published there, by the operator of {operator}. Ask {operator} to make the change "
        f"below{value}, or replace the CNAME with your own TXT record at _dmarc.{domain} "
        "(remove the CNAME first: no other record may sit beside it).",
        *(s for s in steps if not s.startswith(("Publish at _dmarc.", "Publish _dmarc."))),
    ]


def _repair_version(text: str) -> str | None:
    """The record with its version tag put first, when the rest then parses."""
    terms = [t.strip(" \t") for t in text.split(";") if t.strip(" \t")]
    rest = [t for t in terms if t.split("=", 1)[0].strip(" \t").lower() != "v"]
    candidate = "; ".join(["v=DMARC1", *rest])
    try:
        parse_dmarc(candidate)
    except DmarcSyntaxError:
        return None
    return candidate


def _fix_own(codes: set[str]) -> bool:
    # An inherited sp/np=none is best fixed by giving the domain its own record.
    return "dmarc.policy-none" in codes


def _record_steps(discovery: Discovery, codes: set[str]) -> list[str]:
    steps = []
    if "dmarc.syntax-error" in codes:
        error = discovery.error
        detail = f" ({error.reason} at character {error.position + 1})" if error else ""
        steps.append(
            f"Rewrite the record at _dmarc.{discovery.location} as 'tag=value' pairs "
            f"separated by '; ', each tag once{detail}."
        )
    if "dmarc.invalid-policy" in codes:
        steps.append("Give p (and sp/np, if used) one of: none, quarantine, reject.")
    if "dmarc.policy-none" in codes and "dmarc.no-rua" in codes:
        # Without reports nobody can tell what quarantine would catch: reports first.
        steps.append(
            "First add a report address (rua, below) and keep p=none while you read the "
            "aggregate reports for a few weeks; raise the policy only once every legitimate "
            "sender passes."
        )
    elif "dmarc.policy-none" in codes:
        steps.append(_PATH_STEPS[0])
        if discovery.inherited:
            steps.append(
                f"Either give {discovery.domain} a record of its own (below), or raise the "
                f"subdomain policy (sp/np) in the record at _dmarc.{discovery.location}."
            )
    if "dmarc.no-rua" in codes:
        steps.append(
            f"The proposed rua=mailto:dmarc-reports@{discovery.domain} is an example: use a "
            "mailbox you actually read (or your report service's address)."
        )
    record = discovery.parsed
    raised = "dmarc.policy-none" in codes and "dmarc.no-rua" not in codes
    if record is not None and record.sp == "none" and ("dmarc.sp-none" in codes or raised):
        applied = "quarantine" if "dmarc.policy-none" in codes else (record.p or "none")
        steps.append(
            f"Removing sp=none makes subdomains follow p={applied}: mail from a subdomain "
            "that fails DMARC is then handled like the domain's own. Check in the reports "
            "that no subdomain sends unauthenticated mail first."
        )
    return steps


def _authorization_steps(discovery: Discovery) -> list[str]:
    record = discovery.parsed
    location = discovery.location
    if record is None or location is None:
        return []
    hosts = {u.host for u in (*record.rua, *record.ruf) if u.valid and u.host}
    return [
        f"Ask the operator of {host} to publish {location}._report._dmarc.{host} TXT "
        '"v=DMARC1", or send the reports to an address in your own domain.'
        for host in sorted(h for h in hosts if h != location)
    ]


def _corrected(discovery: Discovery, policy: EffectivePolicy | None, codes: set[str]) -> str | None:
    """The record with every tag-level problem fixed, all other tags kept as published."""
    record = discovery.parsed
    if record is None:
        return None
    tags = [(t.name, t.value) for t in record.tags if t.name != "v"]
    change = False

    def drop(name: str) -> None:
        nonlocal tags, change
        before = len(tags)
        tags = [(n, v) for n, v in tags if n != name]
        change = change or len(tags) != before

    def put(name: str, value: str) -> None:
        nonlocal tags, change
        if any(n == name for n, _ in tags):
            tags = [(n, value if n == name else v) for n, v in tags]
        else:
            tags.insert(0 if name == "p" else len(tags), (name, value))
        change = True

    own_record = discovery.inherited and _fix_own(codes)
    if own_record:
        # A record of the domain's own: its p is what the parent gave, raised to quarantine.
        tags = [(n, v) for n, v in tags if n not in ("p", "sp", "np", "psd")]
        put("p", "quarantine")
    if record.problem("p") is not None:
        put("p", "none")  # the safe start; the steps lead on to quarantine and reject
    for tag in ("sp", "np"):
        if record.problem(tag) is not None:
            drop(tag)  # absent, they follow p
    reports_first = "dmarc.no-rua" in codes
    if "dmarc.policy-none" in codes and not own_record and not reports_first:
        put(policy.tag if policy else "p", "quarantine")
        if record.sp == "none" and (policy is None or policy.tag == "p"):
            drop("sp")  # else subdomains would stay at none under the raised p
    if "dmarc.testing" in codes:
        drop("t")
    if "dmarc.pct-partial" in codes:
        drop("pct")
    if "dmarc.sp-none" in codes:
        drop("sp")
    for problem in record.problems:
        if problem.tag not in ("p", "sp", "np"):
            drop(problem.tag)
    if "dmarc.invalid-uri" in codes:
        for tag in ("rua", "ruf"):
            valid = [u.text for u in getattr(record, tag) if u.valid]
            if tag in record:
                drop(tag)
                if valid:
                    tags.append((tag, ",".join(valid)))
    if "dmarc.no-rua" in codes:
        put("rua", f"mailto:dmarc-reports@{discovery.domain}")
    if not change:
        return None
    for removed in record.removed_tags:
        drop(removed.name)  # flagged as removed by RFC 9989: not carried into the fix
    # p right after v suits receivers of both RFCs.
    tags.sort(key=lambda item: 0 if item[0] == "p" else 1)
    return format_record(tags)
