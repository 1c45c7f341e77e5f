"""The data a demo/test DNS server answers from, and the lookup rules of an authority.

Thread-safe: tests and the `--demo` scheduler change records while the server thread
answers queries.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rrset
import dns.zone

#: Behaviours a name can be given to play a broken or hostile server.
BEHAVIOURS = frozenset(
    {
        "drop",
        "servfail",
        "refused",
        "formerr",
        "garbage",
        "wrong-id",
        "wrong-question",
        "truncate-only",
    }
)

DEFAULT_SOA = "ns.invalid. hostmaster.invalid. 1 3600 600 86400 300"


@dataclass
class Resolution:
    """What the authority answers for one question."""

    rcode: int = dns.rcode.NOERROR
    answer: list[dns.rrset.RRset] = field(default_factory=list)
    authority: list[dns.rrset.RRset] = field(default_factory=list)
    behaviour: str | None = None


def _name(text: str | dns.name.Name) -> dns.name.Name:
    if isinstance(text, dns.name.Name):
        return text if text.is_absolute() else text.concatenate(dns.name.root)
    return dns.name.from_text(text)


class Records:
    """Names → rdatasets, the zones they belong to, and injected misbehaviour."""

    def __init__(self, *, catch_all: bool = True) -> None:
        #: catch_all: names outside every zone are answered as if from a root zone
        #: (NXDOMAIN with a default SOA) instead of REFUSED; handy for test data.
        self.catch_all = catch_all
        self._lock = threading.RLock()
        self._nodes: dict[dns.name.Name, dict[int, dns.rdataset.Rdataset]] = {}
        self._soas: dict[dns.name.Name, dns.rdataset.Rdataset] = {}
        self._behaviour: dict[tuple[dns.name.Name, int | None], str] = {}
        self._interior: set[dns.name.Name] | None = None
        #: Bumped on every change, so a server may reuse rendered answers until then.
        self.generation = 0

    # -- building -------------------------------------------------------------------

    def add_zone(self, origin: str, soa: str = DEFAULT_SOA, ttl: int = 300) -> None:
        """Declare a zone apex (its SOA gives negative answers their TTL)."""
        name = _name(origin)
        rds = dns.rdataset.from_text("IN", "SOA", ttl, soa)
        with self._lock:
            self._interior = None
            self.generation += 1
            self._soas[name] = rds
            self._nodes.setdefault(name, {})[dns.rdatatype.SOA] = rds

    def load_zone_file(self, path: str | Path, origin: str | None = None) -> str:
        """Load an RFC 1035 master file; the origin defaults to the file name minus `.zone`."""
        path = Path(path)
        origin = origin or path.name.removesuffix(".zone")
        zone = dns.zone.from_file(str(path), origin=origin, relativize=False, check_origin=False)
        with self._lock:
            self._interior = None
            self.generation += 1
            for name, node in zone.nodes.items():
                for rds in node.rdatasets:
                    self._nodes.setdefault(name, {})[rds.rdtype] = rds
                    if rds.rdtype == dns.rdatatype.SOA:
                        self._soas[name] = rds
            if zone.origin not in self._soas:
                self._soas[zone.origin] = dns.rdataset.from_text("IN", "SOA", 300, DEFAULT_SOA)
        return zone.origin.to_text()

    def add(self, name: str, rdtype: str, *values: str, ttl: int = 300) -> None:
        """Add records given in presentation format (`add("x.", "MX", "10 mx.x.")`)."""
        rds = dns.rdataset.from_text("IN", rdtype, ttl, *values)
        self._merge(_name(name), rds)

    def add_txt(self, name: str, *strings: bytes | str | list[bytes | str], ttl: int = 300) -> None:
        """Add TXT records from raw strings: any bytes, no presentation-format escaping.

        Each argument is one record; a list argument is one record of several strings.
        """
        rds = dns.rdataset.Rdataset(dns.rdataclass.IN, dns.rdatatype.TXT, ttl=ttl)
        for record in strings:
            parts = record if isinstance(record, list) else [record]
            raw = [p.encode("utf-8", "surrogateescape") if isinstance(p, str) else p for p in parts]
            chunks = [c for p in raw for c in _split255(p)] or [b""]
            rds.add(dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, chunks))
        self._merge(_name(name), rds)

    def add_rdtype(self, name: str, rdtype: int, *rdatas: dns.rdata.Rdata, ttl: int = 300) -> None:
        """Add ready-made rdata objects (e.g. type-99 SPF records)."""
        rds = dns.rdataset.Rdataset(dns.rdataclass.IN, rdtype, ttl=ttl)
        for rdata in rdatas:
            rds.add(rdata)
        self._merge(_name(name), rds)

    def remove(self, name: str, rdtype: str | None = None) -> None:
        """Delete all records of a name, or those of one type."""
        owner = _name(name)
        with self._lock:
            self._interior = None
            self.generation += 1
            if rdtype is None:
                self._nodes.pop(owner, None)
            else:
                node = self._nodes.get(owner, {})
                node.pop(dns.rdatatype.from_text(rdtype), None)
                if not node:
                    self._nodes.pop(owner, None)

    def replace(self, name: str, rdtype: str, *values: str, ttl: int = 300) -> None:
        self.remove(name, rdtype)
        if values:
            self.add(name, rdtype, *values, ttl=ttl)

    def set_behaviour(self, name: str, behaviour: str | None, rdtype: str | None = None) -> None:
        """Make questions for `name` (optionally one type) misbehave; None restores it."""
        if behaviour is not None and behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}; one of {sorted(BEHAVIOURS)}")
        key = (_name(name), dns.rdatatype.from_text(rdtype) if rdtype else None)
        with self._lock:
            self.generation += 1
            if behaviour is None:
                self._behaviour.pop(key, None)
            else:
                self._behaviour[key] = behaviour

    def _merge(self, owner: dns.name.Name, rds: dns.rdataset.Rdataset) -> None:
        with self._lock:
            self._interior = None
            self.generation += 1
            node = self._nodes.setdefault(owner, {})
            existing = node.get(rds.rdtype)
            if existing is None:
                node[rds.rdtype] = rds
            else:
                merged = existing.copy()
                merged.update_ttl(rds.ttl)
                for rdata in rds:
                    merged.add(rdata)
                node[rds.rdtype] = merged

    # -- dynamic updates (esm_tui.demo.update) ------------------------------------------

    @property
    def lock(self) -> threading.RLock:
        """Held around a whole UPDATE: its prerequisites and changes are one step."""
        return self._lock  # type: ignore[return-value]

    def holds_zone(self, zone: dns.name.Name) -> bool:
        return zone in self._soas

    def node_exists(self, name: dns.name.Name) -> bool:
        with self._lock:
            return bool(self._nodes.get(name))

    def rdataset(self, name: dns.name.Name, rdtype: int) -> dns.rdataset.Rdataset | None:
        with self._lock:
            return self._nodes.get(name, {}).get(rdtype)

    def drop(self, name: dns.name.Name, rdtype: int | None) -> None:
        self.remove(name.to_text(), None if rdtype is None else dns.rdatatype.to_text(rdtype))

    def discard(self, name: dns.name.Name, rdtype: int, rdatas: list[dns.rdata.Rdata]) -> None:
        """Delete these records of the set (RFC 2136 §2.5.4); an emptied set goes."""
        with self._lock:
            node = self._nodes.get(name, {})
            present = node.get(rdtype)
            if present is None:
                return
            kept = present.copy()
            for rdata in rdatas:
                kept.discard(rdata)
            self._interior = None
            self.generation += 1
            if kept:
                node[rdtype] = kept
            else:
                node.pop(rdtype, None)
                if not node:
                    self._nodes.pop(name, None)

    def merge(self, name: dns.name.Name, rds: dns.rdataset.Rdataset) -> None:
        self._merge(name, rds)

    def bump_serial(self, zone: dns.name.Name) -> None:
        with self._lock:
            soa = self._soas[zone]
            [rdata] = list(soa)
            bumped = dns.rdataset.Rdataset(soa.rdclass, soa.rdtype, ttl=soa.ttl)
            bumped.add(rdata.replace(serial=(rdata.serial + 1) % 2**32))  # type: ignore[attr-defined]
            self._soas[zone] = bumped
            self._nodes.setdefault(zone, {})[dns.rdatatype.SOA] = bumped
            self.generation += 1

    # -- answering -------------------------------------------------------------------

    def names(self) -> Iterable[dns.name.Name]:
        with self._lock:
            return list(self._nodes)

    def resolve(self, qname: dns.name.Name, qtype: int) -> Resolution:
        """Answer as an authoritative server would, chasing CNAMEs through every zone held."""
        with self._lock:
            behaviour = self._behaviour.get((qname, qtype)) or self._behaviour.get((qname, None))
            if behaviour and behaviour != "truncate-only":
                return Resolution(behaviour=behaviour)
            # truncate-only: the UDP reply is cut (server.py); TCP gets the real answer.
            result = Resolution(behaviour=behaviour)
            current, seen = qname, set()
            while True:
                zone = self._zone_of(current)
                if zone is None:
                    if not result.answer:
                        result.rcode = dns.rcode.REFUSED
                    return result
                node = self._node(current)
                if node is None:
                    if not self._has_descendants(current):
                        result.rcode = dns.rcode.NXDOMAIN
                    result.authority.append(self._soa_rrset(zone))
                    return result
                rds = node.get(qtype)
                if rds is not None:
                    result.answer.append(_rrset(current, rds))
                    return result
                cname = node.get(dns.rdatatype.CNAME)
                if cname is None or qtype in (dns.rdatatype.CNAME, dns.rdatatype.ANY):
                    result.authority.append(self._soa_rrset(zone))
                    return result
                result.answer.append(_rrset(current, cname))
                seen.add(current)
                current = cname[0].target
                if current in seen:
                    # A CNAME loop: return the chain so far, as real servers do.
                    return result

    def _node(self, name: dns.name.Name) -> dict[int, dns.rdataset.Rdataset] | None:
        node = self._nodes.get(name)
        if node:
            return node
        if self._has_descendants(name):
            return None
        # RFC 4592: the closest encloser's wildcard, if the name itself is absent.
        parent = name
        while len(parent) > 1:
            parent = parent.parent()
            if parent in self._nodes or self._has_descendants(parent):
                return self._nodes.get(dns.name.Name((b"*",)).concatenate(parent)) or None
        return None

    def _has_descendants(self, name: dns.name.Name) -> bool:
        if self._interior is None:
            # Every proper ancestor of an owner name: "empty non-terminals" answer NODATA.
            interior: set[dns.name.Name] = set()
            for owner in self._nodes:
                while len(owner) > 1:
                    owner = owner.parent()
                    if owner in interior:
                        break
                    interior.add(owner)
            self._interior = interior
        return name in self._interior

    def _zone_of(self, name: dns.name.Name) -> dns.name.Name | None:
        candidate = name
        while True:
            if candidate in self._soas:
                return candidate
            if len(candidate) <= 1:
                break
            candidate = candidate.parent()
        return dns.name.root if self.catch_all else None

    def _soa_rrset(self, zone: dns.name.Name) -> dns.rrset.RRset:
        rds = self._soas.get(zone) or dns.rdataset.from_text("IN", "SOA", 300, DEFAULT_SOA)
        return _rrset(zone, rds)


def _rrset(owner: dns.name.Name, rds: dns.rdataset.Rdataset) -> dns.rrset.RRset:
    rrset = dns.rrset.RRset(owner, rds.rdclass, rds.rdtype)
    rrset.update(rds)
    return rrset


def _split255(data: bytes) -> list[bytes]:
    return [data[i : i + 255] for i in range(0, len(data), 255)]
