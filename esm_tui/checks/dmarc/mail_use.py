"""Advice that fits how the domain uses mail (issue 18 item 5): a domain that sends no mail
gets `p=reject` and no report address; a report address whose domain accepts no mail is
named, since its reports cannot arrive.

"Sends no mail" is what the domain says of itself: a null MX (RFC 7505, `MX 0 .`) or an
SPF record that authorizes nobody (`v=spf1 -all`). The queries are the MX and SPF checks'
own, answered from the cache.
"""

from __future__ import annotations

from esm_tui.checks.context import CheckContext
from esm_tui.checks.dmarc.discovery import Discovery
from esm_tui.checks.dmarc.verdict import Verdict
from esm_tui.dns import Answer, NxDomain, eager
from esm_tui.model import Severity

REF_NULL_MX = "RFC 7505 §3"


async def sends_no_mail(domain: str, ctx: CheckContext) -> str | None:
    """Why the domain sends no mail, by its own records; None when it may send."""
    mx, txt = await eager.gather(ctx.query(f"{domain}.", "MX"), ctx.query(f"{domain}.", "TXT"))
    if _null_mx(mx):
        return "it publishes a null MX"
    if isinstance(txt, Answer):
        spf = [t for t in txt.texts() if t.lower().startswith("v=spf1")]
        if len(spf) == 1 and spf[0].lower().split() == ["v=spf1", "-all"]:
            return "its SPF record is v=spf1 -all"
    return None


def _null_mx(outcome: object) -> bool:
    if not isinstance(outcome, Answer):
        return False
    hosts = [r.exchange for r in outcome.rdatas]  # type: ignore[attr-defined]
    return len(hosts) == 1 and hosts[0].labels == (b"",)


async def report_delivery(verdict: Verdict, discovery: Discovery, ctx: CheckContext) -> None:
    """A rua address at a domain that accepts no mail (null MX, or no such domain)."""
    record = discovery.parsed
    if record is None:
        return
    hosts = list(dict.fromkeys(u.host for u in record.rua if u.valid and u.scheme == "mailto"
                               and u.host))  # fmt: skip
    outcomes = await eager.gather(*(ctx.query(f"{h}.", "MX") for h in hosts))
    for host, outcome in zip(hosts, outcomes, strict=True):
        if _null_mx(outcome):
            why = f"{host} publishes a null MX: it accepts no mail"
        elif isinstance(outcome, NxDomain):
            why = f"{host} does not exist"
        else:
            continue  # an answer, no MX (the A record serves), or a failure: no claim
        verdict.add(
            Severity.WARN,
            "dmarc.rua-undeliverable",
            f"Aggregate reports to an address at {host} cannot arrive: {why}. Send them to a "
            "mailbox that receives mail (or your report service's address).",
            REF_NULL_MX,
        )
