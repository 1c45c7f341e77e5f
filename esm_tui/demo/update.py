"""RFC 2136 dynamic updates for the demo server, signed with TSIG (SPEC §6 "Demo").

Enough of RFC 2136 for `esm-tui fix --apply` and the dashboard's Publish on the demo:
the zone must be one the server holds (else NOTAUTH), the message must be signed with a
key of the server's keyring (unsigned: REFUSED; unknown key or bad signature: NOTAUTH),
the prerequisites of §2.4 are checked (§3.2: NXRRSET, YXRRSET, NXDOMAIN, YXDOMAIN), then
the changes of §2.5 are applied together, under the store's lock, and the zone's SOA
serial goes up. Real servers (Knot DNS in the tests) are what users run; this is a demo.
"""

from __future__ import annotations

import base64
import secrets

import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring

from esm_tui.demo.records import Records

#: The demo's TSIG key: a fixed name, a secret made per run (nothing to leak).
DEMO_KEY_NAME = "esm-demo-key."
DEMO_KEY_ALGORITHM = "hmac-sha256"


def new_demo_secret() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def keyring(name: str, secret: str) -> dict[dns.name.Name, dns.tsig.Key]:
    return dns.tsigkeyring.from_text({name: (DEMO_KEY_ALGORITHM, secret)})


def handle_update(records: Records, wire: bytes, ring: dict | None) -> bytes | None:
    """The reply to an UPDATE message in `wire` (None: no reply, unparseable)."""
    try:
        message = dns.message.from_wire(wire, keyring=ring or {})
    except (dns.message.UnknownTSIGKey, dns.tsig.BadSignature, dns.tsig.BadTime):
        return _error(wire, dns.rcode.NOTAUTH)
    except dns.exception.DNSException:
        return None
    response = dns.message.make_response(message)
    if ring is None or not message.had_tsig:
        response.set_rcode(dns.rcode.REFUSED)
        return response.to_wire()
    zone = message.question[0].name if message.question else None
    if zone is None or not records.holds_zone(zone):
        response.set_rcode(dns.rcode.NOTAUTH)
        return response.to_wire()
    with records.lock:
        rcode = _prerequisites(records, zone, message.answer)  # §2.4 travel in "answer"
        if rcode == dns.rcode.NOERROR:
            rcode = _check_updates(zone, message.authority)
        if rcode == dns.rcode.NOERROR:
            _apply(records, message.authority)
            records.bump_serial(zone)
    response.set_rcode(rcode)
    return response.to_wire()


def _error(wire: bytes, rcode: int) -> bytes | None:
    try:
        message = dns.message.from_wire(wire, keyring=False)  # type: ignore[arg-type]
    except dns.exception.DNSException:
        return None
    response = dns.message.make_response(message)
    response.set_rcode(rcode)
    return response.to_wire()


def _prerequisites(records: Records, zone: dns.name.Name, section: list) -> int:
    wanted: dict[tuple[dns.name.Name, int], set] = {}
    for rrset in section:
        # dnspython keeps the zone's class and says ANY/NONE in `deleting` (RFC 2136 §2.4).
        name, rdtype, rdclass = rrset.name, rrset.rdtype, rrset.deleting
        if not name.is_subdomain(zone):
            return dns.rcode.NOTZONE
        if rdclass == dns.rdataclass.ANY:
            if rdtype == dns.rdatatype.ANY:
                if not records.node_exists(name):
                    return dns.rcode.NXDOMAIN
            elif records.rdataset(name, rdtype) is None:
                return dns.rcode.NXRRSET
        elif rdclass == dns.rdataclass.NONE:
            if rdtype == dns.rdatatype.ANY:
                if records.node_exists(name):
                    return dns.rcode.YXDOMAIN
            elif records.rdataset(name, rdtype) is not None:
                return dns.rcode.YXRRSET
        else:  # value-dependent: the whole set must be exactly these records
            wanted.setdefault((name, rdtype), set()).update(rrset)
    for (name, rdtype), rdatas in wanted.items():
        present = records.rdataset(name, rdtype)
        if present is None or set(present) != rdatas:
            return dns.rcode.NXRRSET
    return dns.rcode.NOERROR


def _check_updates(zone: dns.name.Name, section: list) -> int:
    for rrset in section:
        if not rrset.name.is_subdomain(zone):
            return dns.rcode.NOTZONE
        if rrset.deleting not in (None, dns.rdataclass.ANY, dns.rdataclass.NONE):
            return dns.rcode.FORMERR
    return dns.rcode.NOERROR


def _apply(records: Records, section: list) -> None:
    for rrset in section:
        name, rdtype = rrset.name, rrset.rdtype
        if rrset.deleting == dns.rdataclass.ANY:
            records.drop(name, None if rdtype == dns.rdatatype.ANY else rdtype)
        elif rrset.deleting == dns.rdataclass.NONE:
            records.discard(name, rdtype, list(rrset))
        else:
            rds = dns.rdataset.Rdataset(dns.rdataclass.IN, rdtype, ttl=rrset.ttl)
            for rdata in rrset:
                rds.add(rdata)
            records.merge(name, rds)
