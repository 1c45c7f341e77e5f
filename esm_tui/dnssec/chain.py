"""The chain of trust, walked and validated with dnspython's `dns.dnssec`.

From the trust anchor's zone (the root, or `[settings] trust_anchors`) down to the
domain: the anchor zone's DNSKEY set, then at each label the DS set (signed by the
zone above), the child's DNSKEY set (one key must match a DS, and sign the set), and at
last the answers the other checks used, each RRSIG checked against the keys of the zone
that holds it. The first broken link ends the walk and is named.

What is not the zone's fault is told apart: a resolver that ignores the DO bit or
strips the RRSIGs (no signature even on the anchor zone's keys, which is always signed)
leaves the chain `unknown`, as does a query that could not be answered.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import dns.dnssec
import dns.message
import dns.name
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rrset

from esm_tui.dns import Dns, Failure
from esm_tui.dns.secure import query_signed
from esm_tui.dnssec.anchors import Anchors

SECURE, INSECURE, BOGUS, UNKNOWN = "secure", "insecure", "bogus", "unknown"


class Verdict(Exception):
    """The walk's end before the last answer: a state, a finding code and the sentence."""

    def __init__(self, state: str, code: str, message: str) -> None:
        super().__init__(message)
        self.state, self.code, self.message = state, code, message


@dataclass
class ChainResult:
    """How far the walk went and how it ended."""

    state: str
    code: str = ""
    message: str = ""
    zones: list[str] = field(default_factory=list)  # secure zones, from the anchor down
    validated: list[str] = field(default_factory=list)  # "MX example.com." answers checked
    absent: list[str] = field(default_factory=list)  # answers that were NXDOMAIN/NODATA


def _when(stamp: int) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class ChainWalk:
    """One domain's walk; the queries are cached per run (dns.secure), so zones shared
    by many domains have their DS and DNSKEY asked once."""

    def __init__(
        self, resolver: Dns, anchors: Anchors, now: float | None = None, *, fresh: bool = False
    ) -> None:
        self.resolver = resolver
        #: A user's recheck: the first ask of each question in this walk is a new query.
        self.fresh = fresh
        self._asked: set[tuple[str, str]] = set()
        self.anchors = anchors
        self.now = time.time() if now is None else now
        self.result = ChainResult(SECURE)

    async def run(self, domain: str, answers: list[tuple[str, str]]) -> ChainResult:
        """Validate `domain`'s chain and the given (name, type) answers."""
        try:
            await self._run(dns.name.from_text(domain), answers)
        except Verdict as end:
            self.result.state, self.result.code = end.state, end.code
            self.result.message = end.message
        return self.result

    async def _run(self, domain: dns.name.Name, answers: list[tuple[str, str]]) -> None:
        zone = self.anchors.zone
        if not domain.is_subdomain(zone):
            raise Verdict(
                INSECURE, "dnssec.unsigned", f"{domain} is outside the trust anchor's zone {zone}"
            )
        keys = await self._zone_keys(zone, self.anchors.ds, self.anchors.dnskey, anchor=True)
        zone, keys = await self._descend(zone, keys, domain)
        for qname, qtype in answers:
            await self._answer(zone, keys, dns.name.from_text(qname), qtype)
        if not self.result.validated:
            raise Verdict(UNKNOWN, "dnssec.nothing-validated", "no answer could be validated")

    async def _ask(self, name: dns.name.Name, rdtype: str) -> dns.message.Message:
        key = (name.to_text().lower(), rdtype)
        fresh = self.fresh and key not in self._asked
        self._asked.add(key)
        reply = await query_signed(self.resolver, name.to_text(), rdtype, fresh=fresh)
        if isinstance(reply, Failure):
            raise Verdict(
                UNKNOWN,
                "dnssec.dns-failure",
                f"Could not get {rdtype} {name} with signatures: {reply.reason}"
                + (f" from {reply.server}" if reply.server else "")
                + "; the chain cannot be checked yet, esm-tui will ask again.",
            )
        return reply

    async def _zone_keys(
        self,
        zone: dns.name.Name,
        ds_set: tuple,
        anchor_keys: tuple = (),
        *,
        anchor: bool = False,
    ) -> dns.rdataset.Rdataset:
        """The zone's DNSKEY set once one key matches a DS (or is an anchor) and signs it."""
        reply = await self._ask(zone, "DNSKEY")
        keyset = _find(reply, zone, dns.rdatatype.DNSKEY)
        source = "the trust anchor" if anchor else f"the DS records of {zone} in its parent"
        if keyset is None and anchor:
            # No signed world behind this resolver at all (a private root such as the
            # demo's, or a DNS view without DNSSEC): nothing can be authenticated, and
            # nothing is bogus either.
            raise Verdict(
                INSECURE,
                "dnssec.unsigned",
                f"The resolver's {zone} zone publishes no DNSKEY, so no answer under it can "
                "be authenticated (a private DNS view, or one without DNSSEC).",
            )
        if keyset is None:
            raise Verdict(
                BOGUS,
                "dnssec.no-dnskey",
                f"{zone} publishes no DNSKEY, yet {source} says it is signed.",
            )
        sigs = _find(reply, zone, dns.rdatatype.RRSIG, dns.rdatatype.DNSKEY)
        if sigs is None:
            if anchor:
                raise Verdict(
                    UNKNOWN,
                    "dnssec.resolver-strips",
                    f"The DNSKEY set of the anchor zone {zone} came without its RRSIG: the "
                    "resolver strips signatures, so the chain cannot be checked through it. "
                    "Use a resolver that passes DNSSEC records (--nameserver).",
                )
            raise Verdict(BOGUS, "dnssec.missing-rrsig", f"The DNSKEY set of {zone} has no RRSIG.")
        trusted = [k for k in keyset if k in anchor_keys or _matches(zone, k, ds_set)]
        if not trusted:
            ds_tags = ", ".join(str(ds.key_tag) for ds in ds_set) or "none"
            key_tags = ", ".join(str(dns.dnssec.key_id(k)) for k in keyset)
            raise Verdict(
                BOGUS,
                "dnssec.ds-mismatch",
                f"No DNSKEY of {zone} (key tags {key_tags}) matches {source} (key tags "
                f"{ds_tags}): the chain of trust is broken at {zone}.",
            )
        trusted_set = dns.rdataset.Rdataset(dns.rdataclass.IN, dns.rdatatype.DNSKEY)
        for key in trusted:
            trusted_set.add(key)
        self._validate(keyset, sigs, zone, trusted_set, f"the DNSKEY set of {zone}")
        self.result.zones.append(zone.to_text())
        return keyset

    async def _descend(
        self, zone: dns.name.Name, keys: dns.rdataset.Rdataset, target: dns.name.Name
    ) -> tuple[dns.name.Name, dns.rdataset.Rdataset]:
        """Walk the labels from `zone` down to `target`, following every signed delegation."""
        depth = len(zone)
        while depth < len(target):
            depth += 1
            name = target.split(depth)[1]
            reply = await self._ask(name, "DS")
            ds = _find(reply, name, dns.rdatatype.DS)
            if ds is None:
                if await self._is_apex(name):
                    raise Verdict(
                        INSECURE,
                        "dnssec.unsigned",
                        f"{name} is not signed: its parent {zone} publishes no DS record for "
                        "it, so its answers cannot be authenticated.",
                    )
                continue
            sigs = _find(reply, name, dns.rdatatype.RRSIG, dns.rdatatype.DS)
            if sigs is None:
                raise Verdict(
                    BOGUS, "dnssec.missing-rrsig", f"The DS set of {name} in {zone} has no RRSIG."
                )
            self._validate(ds, sigs, zone, keys, f"the DS set of {name} in {zone}")
            keys = await self._zone_keys(name, tuple(ds))
            zone = name
        return zone, keys

    async def _is_apex(self, name: dns.name.Name) -> bool:
        reply = await self._ask(name, "SOA")
        return _find(reply, name, dns.rdatatype.SOA) is not None

    async def _answer(
        self,
        zone: dns.name.Name,
        keys: dns.rdataset.Rdataset,
        qname: dns.name.Name,
        qtype: str,
    ) -> None:
        rdtype = dns.rdatatype.from_text(qtype)
        reply = await self._ask(qname, qtype)
        rrset = _find(reply, qname, rdtype)
        if rrset is None:
            cname = _find(reply, qname, dns.rdatatype.CNAME)
            if cname is None:
                self.result.absent.append(f"{qtype} {qname}")
                return
            rrset, rdtype, qtype = cname, dns.rdatatype.CNAME, "CNAME"
        what = f"the {qtype} set of {qname}"
        sigs = _find(reply, qname, dns.rdatatype.RRSIG, rdtype)
        if sigs is None:
            raise Verdict(
                BOGUS, "dnssec.missing-rrsig", f"{what[0].upper()}{what[1:]} has no RRSIG."
            )
        signer = sigs[0].signer
        if signer != zone:
            if not signer.is_subdomain(zone) or not qname.is_subdomain(signer):
                raise Verdict(
                    BOGUS,
                    "dnssec.bad-signature",
                    f"{what[0].upper()}{what[1:]} is signed by {signer}, not by its zone {zone}.",
                )
            zone, keys = await self._descend(zone, keys, signer)
        self._validate(rrset, sigs, zone, keys, what)
        self.result.validated.append(f"{qtype} {qname}")

    def _validate(
        self,
        rrset: dns.rdataset.Rdataset,
        sigs: dns.rdataset.Rdataset,
        zone: dns.name.Name,
        keys: dns.rdataset.Rdataset,
        what: str,
    ) -> None:
        """`dns.dnssec.validate`, its failure named: expired, not yet valid, or wrong."""
        usable = [s for s in sigs if s.inception <= self.now <= s.expiration]
        if not usable:
            newest = max(sigs, key=lambda s: s.expiration)
            if newest.expiration < self.now:
                raise Verdict(
                    BOGUS,
                    "dnssec.expired",
                    f"The RRSIG over {what} (key tag {newest.key_tag}) expired at "
                    f"{_when(newest.expiration)}: re-sign the zone {zone}.",
                )
            raise Verdict(
                BOGUS,
                "dnssec.not-yet-valid",
                f"The RRSIG over {what} (key tag {newest.key_tag}) is not valid before "
                f"{_when(newest.inception)}: check the signer's clock.",
            )
        owner = rrset.name if isinstance(rrset, dns.rrset.RRset) else zone
        target = dns.rrset.RRset(owner, rrset.rdclass, rrset.rdtype)
        target.update(rrset)
        signatures = dns.rrset.RRset(owner, sigs.rdclass, dns.rdatatype.RRSIG, rrset.rdtype)
        signatures.update(sigs)
        try:
            dns.dnssec.validate(target, signatures, {zone: keys}, now=self.now)
        except dns.dnssec.ValidationFailure as exc:
            tags = ", ".join(str(s.key_tag) for s in sigs)
            raise Verdict(
                BOGUS,
                "dnssec.bad-signature",
                f"No RRSIG over {what} (key tags {tags}) verifies with the DNSKEYs of {zone} "
                f"({exc}).",
            ) from None


def _find(
    reply: dns.message.Message,
    name: dns.name.Name,
    rdtype: int,
    covers: int = dns.rdatatype.NONE,
) -> dns.rrset.RRset | None:
    try:
        return reply.find_rrset(reply.answer, name, dns.rdataclass.IN, rdtype, covers)
    except KeyError:
        return None


def _matches(zone: dns.name.Name, key: object, ds_set: tuple) -> bool:
    for ds in ds_set:
        try:
            if dns.dnssec.make_ds(zone, key, ds.digest_type) == ds:
                return True
        except (dns.dnssec.UnsupportedAlgorithm, ValueError):
            continue
    return False
