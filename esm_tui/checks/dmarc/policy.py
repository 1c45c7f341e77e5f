"""The DMARC policy receivers apply to a domain (RFC 9989 §4.7, §4.10.1).

From the record that discovery found: p for the domain's own record, sp/np for an inherited
one (np when the domain does not exist), the §4.10.1 fallback when p/sp/np is invalid, and
one level less under t=y. `effective_policy()` is public: the BIMI check uses it too.
"""

from __future__ import annotations

from dataclasses import dataclass

from esm_tui.checks.dmarc.discovery import Discovery
from esm_tui.checks.dmarc.parse import DmarcRecord

_ONE_LEVEL_LESS = {"reject": "quarantine", "quarantine": "none", "none": "none"}


@dataclass(frozen=True)
class EffectivePolicy:
    """The policy receivers apply to the domain, and where it comes from."""

    requested: str | None  # none / quarantine / reject; None: the record gives no policy
    tag: str  # "p", "sp" or "np"
    testing: bool = False  # t=y
    pct: int | None = None
    #: The domain's existence is unknown and sp and np would give different policies.
    uncertain: bool = False
    #: The policy tag was absent (p), or invalid so that RFC 9989 falls back to none.
    defaulted: bool = False

    @property
    def applied(self) -> str | None:
        """With t=y receivers apply one level less (RFC 9989 §4.7 "t")."""
        if self.requested is None:
            return None
        return _ONE_LEVEL_LESS[self.requested] if self.testing else self.requested

    @property
    def enforced(self) -> bool:
        """RFC 9989 §3.2.9: the applied policy is not none."""
        return self.applied in ("quarantine", "reject")


def effective_policy(discovery: Discovery) -> EffectivePolicy | None:
    """The policy for the discovered domain; None when no readable record applies."""
    record = discovery.parsed
    if record is None:
        return None
    testing = record.t == "y"
    if any(record.problem(tag) for tag in ("p", "sp", "np")):
        # RFC 9989 §4.10.1: an invalid p/sp/np means p=none if a rua is usable, else no DMARC.
        fallback = "none" if any(u.valid for u in record.rua) else None
        return EffectivePolicy(fallback, "p", testing, record.pct, defaulted=True)
    if not discovery.inherited:
        return EffectivePolicy(record.p or "none", "p", testing, record.pct, defaulted=not record.p)
    as_existing = _inherited(record, exists=True)
    as_missing = _inherited(record, exists=False)
    if discovery.domain_exists is None:
        tag, policy = as_existing
        uncertain = as_missing[1] != policy
    else:
        tag, policy = as_existing if discovery.domain_exists else as_missing
        uncertain = False
    return EffectivePolicy(policy, tag, testing, record.pct, uncertain, defaulted=not record.p)


def _inherited(record: DmarcRecord, *, exists: bool) -> tuple[str, str]:
    if not exists and record.np:
        return "np", record.np
    if record.sp:
        return "sp", record.sp
    return "p", record.p or "none"
