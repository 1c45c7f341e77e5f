"""The `dnssec` check: is the domain's zone signed, and does the chain of trust validate
from the trust anchor down to the answers the other checks used (esm_tui.dnssec.chain)?

secure → ok; no DS for the zone (unsigned) → none, with a note; a broken link → fail,
naming it; a resolver that strips signatures, or a query that failed → unknown.
"""

from __future__ import annotations

from esm_tui.checks.context import RETRY_STEP, CheckContext
from esm_tui.dnssec.anchors import root_anchors
from esm_tui.dnssec.chain import BOGUS, INSECURE, SECURE, ChainWalk
from esm_tui.model import DomainSettings, Finding, Fix, RecordResult, Severity, Status

REF = "RFC 4035 §5"

CODES: dict[str, str] = {
    "dnssec.validated": "The chain of trust validates from the trust anchor to the answers "
    "esm-tui used.",
    "dnssec.unsigned": "The zone is not signed (no DS record at its parent): its answers "
    "cannot be authenticated. Optional, shown grey.",
    "dnssec.expired": "An RRSIG of the chain has expired (the zone was not re-signed): "
    "validating resolvers answer SERVFAIL.",
    "dnssec.not-yet-valid": "An RRSIG of the chain is not valid yet (signer's clock ahead).",
    "dnssec.ds-mismatch": "No DNSKEY of the zone matches the DS records in its parent "
    "(a key rollover gone wrong): the zone is bogus.",
    "dnssec.missing-rrsig": "A record set of a signed zone has no RRSIG: bogus.",
    "dnssec.bad-signature": "No RRSIG of a record set verifies with the zone's keys: bogus.",
    "dnssec.no-dnskey": "The parent has DS records, yet the zone publishes no DNSKEY: bogus.",
    "dnssec.resolver-strips": "The resolver ignores the DO bit or strips RRSIGs, so the "
    "chain cannot be checked through it: unknown, not red.",
    "dnssec.not-signed": "dnssec = true, but the zone is not signed: red.",
    "dnssec.nothing-validated": "None of the answers could be validated (all absent).",
}

_FIX_STEPS = {
    "dnssec.expired": "Re-sign the zone (or restart the DNS host's automatic signing): "
    "validating resolvers refuse its answers until then.",
    "dnssec.not-yet-valid": "Fix the signer's clock and re-sign the zone.",
    "dnssec.ds-mismatch": "Publish at the registrar a DS record for the zone's current KSK "
    "(or remove the DS to go unsigned): the DS and the DNSKEY must match.",
    "dnssec.no-dnskey": "Publish the zone's DNSKEY set again, or remove the DS record at "
    "the registrar.",
}
_DEFAULT_FIX = "Re-sign the zone so that every record set carries a valid RRSIG."


def answers_used(domain: DomainSettings) -> list[tuple[str, str]]:
    """The answers the other checks read and this one validates: the apex SOA, MX and TXT
    (SPF) and the DMARC TXT."""
    name = domain.name.lower().rstrip(".")
    return [
        (f"{name}.", "SOA"),
        (f"{name}.", "MX"),
        (f"{name}.", "TXT"),
        (f"_dmarc.{name}.", "TXT"),
    ]


async def check(domain: DomainSettings, ctx: CheckContext) -> RecordResult:
    name = domain.name.lower().rstrip(".")
    anchors = ctx.trust_anchors or root_anchors()
    chain = await ChainWalk(ctx.dns, anchors, fresh=ctx.fresh).run(f"{name}.", answers_used(domain))
    details = {
        "state": chain.state,
        "anchor": anchors.zone.to_text(),
        "zones": list(chain.zones),
        "validated": list(chain.validated),
        "absent": list(chain.absent),
    }
    base = {"check": "dnssec", "query_name": f"{name}.", "query_type": "DNSKEY", "details": details}
    if chain.state == SECURE:
        return RecordResult(
            status=Status.OK,
            summary=f"signed, chain valid ({len(chain.validated)} answers)",
            findings=(
                Finding(
                    Severity.INFO,
                    "dnssec.validated",
                    f"Validated from {anchors.zone} through {', '.join(chain.zones)}: "
                    f"{', '.join(chain.validated)}.",
                    REF,
                ),
            ),
            **base,
        )
    if chain.state == INSECURE and domain.dnssec_expected:
        return RecordResult(
            status=Status.FAIL,
            summary="not signed (expected)",
            findings=(
                Finding(
                    Severity.FAIL,
                    "dnssec.not-signed",
                    f"DNSSEC is expected for {name} (dnssec = true), but: {chain.message}",
                    "RFC 4035 §4.3",
                ),
            ),
            fix=Fix(
                steps=(
                    "Turn on DNSSEC signing at the DNS host, then publish the DS record it "
                    "gives at the registrar (the parent zone).",
                )
            ),
            **base,
        )
    if chain.state == INSECURE:
        return RecordResult(
            status=Status.NONE,
            summary="not signed",
            findings=(Finding(Severity.INFO, chain.code, chain.message, "RFC 4035 §4.3"),),
            **base,
        )
    if chain.state == BOGUS:
        return RecordResult(
            status=Status.FAIL,
            summary=f"bogus: {chain.code.removeprefix('dnssec.')}",
            findings=(Finding(Severity.FAIL, chain.code, chain.message, REF),),
            fix=Fix(steps=(_FIX_STEPS.get(chain.code, _DEFAULT_FIX),)),
            **base,
        )
    return RecordResult(
        status=Status.UNKNOWN,
        summary="chain not checked",
        findings=(Finding(Severity.WARN, chain.code, chain.message, REF),),
        fix=Fix(steps=(RETRY_STEP,)),
        **base,
    )
