"""What to publish for MTA-STS: the `_mta-sts` TXT with a new `id`, and the policy file.

The proposed policy lists every current MX host (by name, so nothing that receives mail
today is refused) and the relay's patterns from `[relay] mx` (the preset's too), keeps a
mode and max_age that were valid, and starts a new policy in `testing`: RFC 8461 §5 (and
every provider's guide) has senders report before they enforce. The order matters and is
said: the file first, then the TXT's id, which tells senders to fetch it again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from esm_tui.checks.mta_sts.policy import MAX_AGE_LIMIT, Policy, matches, valid_pattern
from esm_tui.model import Fix, FixRecord

#: One week: long enough to protect, short enough to change course (§3.2: "weeks").
DEFAULT_MAX_AGE = 604_800
MIN_MAX_AGE = 86_400


def new_id(now: datetime | None = None) -> str:
    """A fresh policy id: the time, which only ever grows (1–32 letters and digits)."""
    return (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")


def proposed_policy(policy: Policy | None, mx_hosts: list[str], relay_mx: tuple[str, ...]) -> str:
    """The policy file to serve, one `key: value` per line, CRLF as §3.2 writes it."""
    mode = policy.mode if policy and policy.mode in ("enforce", "testing") else "testing"
    patterns: list[str] = []
    if policy:
        patterns.extend(p for p in policy.mx if valid_pattern(p))
    for host in mx_hosts:
        if not any(matches(p, host) for p in patterns):
            patterns.append(host.rstrip(".").lower())
    for pattern in relay_mx:
        pattern = pattern.lower().rstrip(".")
        if pattern not in patterns and valid_pattern(pattern):
            patterns.append(pattern)
    age = policy.max_age if policy and policy.max_age is not None else None
    if age is None or not MIN_MAX_AGE <= age <= MAX_AGE_LIMIT:
        age = DEFAULT_MAX_AGE
    lines = ["version: STSv1", f"mode: {mode}", *(f"mx: {p}" for p in patterns), f"max_age: {age}"]
    return "\r\n".join(lines) + "\r\n"


def txt_value(record_id: str) -> str:
    return f"v=STSv1; id={record_id};"


def fix(
    domain: str,
    *,
    policy_text: str | None,
    txt_needed: bool,
    lead: str,
    extra: tuple[str, ...] = (),
) -> Fix:
    """The steps: serve `policy_text` (when the file must change), then publish the TXT
    with a new id (always, when the file changes: senders refetch only on a new id)."""
    url = f"https://mta-sts.{domain}/.well-known/mta-sts.txt"
    steps = [lead, *extra]
    if policy_text is not None:
        steps.append(
            f"Serve this file at {url} (HTTPS, a certificate valid for mta-sts.{domain}, "
            "Content-Type: text/plain, no redirect):"
        )
        steps.append(policy_text.replace("\r\n", "\n").rstrip("\n"))
    record = None
    if policy_text is not None or txt_needed:
        value = txt_value(new_id())
        steps.append(
            f"Then publish this TXT record at _mta-sts.{domain} (a new id tells senders to "
            f"fetch the policy again; replace the old v=STSv1 record): {value}"
        )
        record = FixRecord(f"_mta-sts.{domain}.", "TXT", value)
    return Fix(steps=tuple(steps), record=record)
