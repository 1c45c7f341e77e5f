"""Trust anchors: the root's (built in, package data `root.ds`) or a file of DS/DNSKEY
records named by `[settings] trust_anchors` (for private roots, e.g. tests)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import dns.exception
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.zonefile


class AnchorError(ValueError):
    """A trust anchor file that cannot be read or holds no DS/DNSKEY record."""


@dataclass(frozen=True)
class Anchors:
    """DS and DNSKEY anchors of one zone (the point the chain starts from)."""

    zone: dns.name.Name
    ds: tuple  # of dns.rdtypes.ANY.DS.DS
    dnskey: tuple  # of dns.rdtypes.ANY.DNSKEY.DNSKEY


def parse_anchors(text: str, source: str = "trust anchors") -> Anchors:
    """DS/DNSKEY records in zone-file syntax (absolute owner names), all at one owner."""
    try:
        rrsets = dns.zonefile.read_rrsets(
            text, origin=dns.name.root, relativize=False, rdclass=None
        )
    except (dns.exception.DNSException, ValueError) as exc:
        raise AnchorError(f"{source}: not DS/DNSKEY records in zone-file syntax: {exc}") from None
    ds, keys, owners = [], [], set()
    for rrset in rrsets:
        if rrset.rdtype == dns.rdatatype.DS:
            ds.extend(rrset)
        elif rrset.rdtype == dns.rdatatype.DNSKEY:
            keys.extend(rrset)
        else:
            raise AnchorError(
                f"{source}: {rrset.name} {dns.rdatatype.to_text(rrset.rdtype)}: only DS and "
                "DNSKEY records can be trust anchors"
            )
        owners.add(rrset.name)
    if not owners:
        raise AnchorError(f"{source}: no DS or DNSKEY record")
    if len(owners) > 1:
        raise AnchorError(
            f"{source}: anchors for several zones ({', '.join(sorted(map(str, owners)))}); "
            "give the anchors of one zone, the top of the chain"
        )
    return Anchors(owners.pop(), tuple(ds), tuple(keys))


def load_anchors(path: str | Path) -> Anchors:
    """The anchors in the file at `path` (AnchorError saying what is wrong)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AnchorError(f"cannot read {path}: {exc}") from None
    return parse_anchors(text, str(path))


def root_anchors() -> Anchors:
    """The root zone's KSK-2017 and KSK-2024, as IANA publishes them."""
    text = resources.files("esm_tui.dnssec").joinpath("root.ds").read_text(encoding="utf-8")
    return parse_anchors(text, "built-in root anchors")
