"""DNSSEC for the loopback server: `SignedRecords` serves each answer's RRSIGs beside it,
and `sign_zone_sets` signs record sets with dnspython (`dns.dnssec.sign`), so tests can
build a private signed hierarchy (root → TLD → child) with its own trust anchor.

The demo's own zones stay unsigned: this is used only by those who build one. Like an
authoritative server that always sends signatures, it does not look at the DO bit;
`strip` plays a resolver that removes them.
"""

from __future__ import annotations

import dns.dnssec
import dns.name
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rrset

from esm_tui.demo.records import Records, Resolution


class SignedRecords(Records):
    """Records whose answers carry the RRSIGs set with `add_signatures`."""

    def __init__(self, *, catch_all: bool = True, strip: bool = False) -> None:
        super().__init__(catch_all=catch_all)
        self.strip = strip
        self._sigs: dict[tuple[dns.name.Name, int], dns.rrset.RRset] = {}

    def add_signatures(self, rrsig: dns.rrset.RRset) -> None:
        """Serve `rrsig` (an RRSIG set covering one type) with answers of that set."""
        with self._lock:
            self._sigs[(rrsig.name, rrsig.covers)] = rrsig
            self.generation += 1

    def remove_signatures(self, name: str, rdtype: str) -> None:
        with self._lock:
            self._sigs.pop((dns.name.from_text(name), dns.rdatatype.from_text(rdtype)), None)
            self.generation += 1

    def rdataset(self, name: str, rdtype: str) -> dns.rrset.RRset | None:
        """The record set held at (name, type), as an RRset, for signing."""
        owner = dns.name.from_text(name)
        with self._lock:
            rds = self._nodes.get(owner, {}).get(dns.rdatatype.from_text(rdtype))
        if rds is None:
            return None
        rrset = dns.rrset.RRset(owner, rds.rdclass, rds.rdtype)
        rrset.update(rds)
        rrset.ttl = rds.ttl
        return rrset

    def resolve(self, qname: dns.name.Name, qtype: int) -> Resolution:
        result = super().resolve(qname, qtype)
        if self.strip:
            return result
        with self._lock:
            for section in (result.answer, result.authority):
                for rrset in list(section):
                    sig = self._sigs.get((rrset.name, rrset.rdtype))
                    if sig is not None:
                        section.append(sig)
        return result


def sign_zone_sets(
    records: SignedRecords,
    zone: str,
    names: list[tuple[str, str]],
    keys: list[tuple[object, dns.rdataset.Rdataset]],
    *,
    inception: float,
    expiration: float,
) -> None:
    """Sign each (name, type) set held in `records` with every (private key, DNSKEY)."""
    signer = dns.name.from_text(zone)
    for name, rdtype in names:
        rrset = records.rdataset(name, rdtype)
        if rrset is None:
            raise KeyError(f"no {rdtype} {name} to sign")
        sigs = dns.rrset.RRset(rrset.name, dns.rdataclass.IN, dns.rdatatype.RRSIG, rrset.rdtype)
        for private, dnskey in keys:
            sigs.add(
                dns.dnssec.sign(
                    rrset,
                    private,
                    signer,
                    dnskey,
                    inception=inception,
                    expiration=expiration,
                    origin=None,
                ),
                rrset.ttl,
            )
        records.add_signatures(sigs)
