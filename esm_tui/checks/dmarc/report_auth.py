"""Report addresses at another organization: RFC 9990 §3.2.3 authorization.

A rua/ruf address whose host is in another Organizational Domain than the record's
receives reports only if that host publishes `<domain>._report._dmarc.<host>` with a
record starting with v=DMARC1. Both Organizational Domains come from the RFC 9989
§4.10.2 tree walk (`discovery.organizational_domain()`). When such a walk cannot be
completed, the authorization record is asked anyway; only its absence then leaves the
verdict open (`unknown`).
"""

from __future__ import annotations

from esm_tui.checks.context import CheckContext
from esm_tui.checks.dmarc.discovery import Discovery, organizational_domain
from esm_tui.checks.dmarc.parse import starts_with_dmarc1
from esm_tui.checks.dmarc.verdict import REF_EXTERNAL, Verdict
from esm_tui.dns import Answer, Failure, eager
from esm_tui.model import Severity


async def external_reports(verdict: Verdict, discovery: Discovery, ctx: CheckContext) -> None:
    """RFC 9990 §3.2.3: report addresses at another Organizational Domain must be authorized."""
    record = discovery.parsed
    location = discovery.location
    if record is None or location is None:
        return
    hosts = [
        u.host
        for u in (*record.rua, *record.ruf)
        if u.valid and u.scheme == "mailto" and u.host and u.host != location
    ]
    hosts = list(dict.fromkeys(hosts))
    if not hosts:
        return
    own_org = await organizational_domain(location, ctx)
    results = await eager.gather(*(_authorized(ctx, location, own_org, h) for h in hosts))
    for host, (state, failures) in zip(hosts, results, strict=True):
        if state == "unauthorized":
            verdict.add(
                Severity.WARN,
                "dmarc.report-unauthorized",
                f"Reports for {location} go to {host}, another organization, which has not "
                f"published {location}._report._dmarc.{host} (a TXT record starting with "
                "v=DMARC1): receivers will not send reports there.",
                REF_EXTERNAL,
            )
        elif state == "too-long":
            verdict.add(
                Severity.WARN,
                "dmarc.report-unauthorized",
                f"Reports for {location} go to {host}, another organization, but the "
                f"authorization name {location}._report._dmarc.{host} is longer than DNS "
                "allows, so it can never be confirmed.",
                REF_EXTERNAL,
            )
        elif state == "unsure":
            verdict.pending.extend((f, Severity.WARN) for f in failures)


def _share_a_parent(a: str, b: str) -> bool:
    """Whether the two names have a common parent below the root (the same TLD at least)."""
    return a.rstrip(".").lower().rsplit(".", 1)[-1] == b.rstrip(".").lower().rsplit(".", 1)[-1]


async def _authorized(
    ctx: CheckContext, location: str, own_org: tuple[str, tuple[Failure, ...]], host: str
) -> tuple[str, tuple[Failure, ...]]:
    """ "same-org", "authorized", "unauthorized", "too-long" or "unsure" (with the failures)."""
    host_org, host_failures = await organizational_domain(host, ctx)
    walk_failures = (*own_org[1], *host_failures)
    if not _share_a_parent(location, host):
        # An Organizational Domain is the name or one of its parents: names under
        # different top-level domains cannot share one, whatever the walks' missing
        # answers were. Decided, not unknown (issue 18 item 4).
        walk_failures = ()
    if host_org == own_org[0] and not walk_failures:
        return "same-org", ()
    name = f"{location}._report._dmarc.{host}"
    if len(name) > 253 or any(len(label) > 63 for label in name.split(".")):
        # RFC 9990 §3.2.3 step 4: no positive determination can be made.
        return ("unsure", walk_failures) if walk_failures else ("too-long", ())
    outcome = await ctx.query(name + ".", "TXT")
    if isinstance(outcome, Failure):
        return "unsure", (*walk_failures, outcome)
    if isinstance(outcome, Answer) and any(starts_with_dmarc1(t) for t in outcome.texts()):
        return "authorized", ()
    # Not authorized; if a walk failed, the two might share an org domain after all.
    return ("unsure", walk_failures) if walk_failures else ("unauthorized", ())
