"""Publishing a plan by DNS dynamic update (RFC 2136), signed with TSIG (RFC 8945).

One UPDATE message carries the whole plan, so the server applies all of it or none
(RFC 2136 §3.4: prerequisites first, then every change, atomically). Each changed record
set carries a prerequisite that it is still exactly what the plan read (§2.4.2; §2.4.3
"does not exist" for a new one): if anyone changed it since, the server answers NXRRSET
and nothing is touched. Only the records that differ are deleted (§2.5.4, by their exact
data) and added (§2.5.1): every other record at the name stays where it is.

Sent over UDP, again over TCP when the reply is truncated or lost (a long DKIM key makes
a large message). dnspython signs the message and verifies the server's signed reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataset
import dns.tsig
import dns.tsigkeyring
import dns.update

from esm_tui.publish.plan import Change

Server = tuple[str, int]


@dataclass(frozen=True)
class TsigKey:
    """A TSIG key: its name, algorithm and secret (base64). The secret is never shown."""

    name: str
    algorithm: str
    secret: str

    def __repr__(self) -> str:
        return f"TsigKey(name={self.name!r}, algorithm={self.algorithm!r}, secret=<hidden>)"

    __str__ = __repr__


@dataclass(frozen=True)
class Outcome:
    """What the server said: `applied`, or why not (`message`: nothing was applied)."""

    applied: bool
    message: str


def build_update(zone: str, changes: Sequence[Change], key: TsigKey | None) -> dns.update.Update:
    """The UPDATE for `changes` (automatic ones that are pending), with prerequisites."""
    if key is not None:
        keyring = dns.tsigkeyring.from_text({key.name: (key.algorithm, key.secret)})
        update = dns.update.Update(zone, keyring=keyring, keyname=dns.name.from_text(key.name))
    else:
        update = dns.update.Update(zone)
    for change in changes:
        if change.manual or not change.pending:
            continue
        name = dns.name.from_text(change.name)
        if change.before_rdata:
            # TTL 0: a prerequisite's TTL must be zero (RFC 2136 §2.4; Knot says FORMERR).
            update.present(name, _rdataset(change.type, 0, change.before_rdata))
        else:
            update.absent(name, change.type)
        for text in change.before_rdata:
            if text not in change.after_rdata:
                update.delete(name, dns.rdata.from_text("IN", change.type, text))
        for text in change.after_rdata:
            if text not in change.before_rdata:
                update.add(name, change.ttl, dns.rdata.from_text("IN", change.type, text))
    return update


def _rdataset(rtype: str, ttl: int, texts: Sequence[str]) -> dns.rdataset.Rdataset:
    return dns.rdataset.from_text_list("IN", rtype, ttl, list(texts))


def send(update: dns.update.Update, server: Server, timeout: float) -> Outcome:
    """Send the update; the Outcome says whether the server applied it, in its words."""
    where = f"{server[0]}:{server[1]}"
    try:
        try:
            reply = dns.query.udp(update, server[0], port=server[1], timeout=timeout)
            if reply.flags & dns.flags.TC:
                reply = dns.query.tcp(update, server[0], port=server[1], timeout=timeout)
        except dns.exception.Timeout:
            reply = dns.query.tcp(update, server[0], port=server[1], timeout=timeout)
    except dns.tsig.PeerError as exc:
        why = f"{where} rejected the TSIG signature ({exc}): check the key name, algorithm "
        return Outcome(False, why + "and secret in tsig_key_file. Nothing was applied.")
    except dns.exception.Timeout:
        why = f"{where} did not answer within {timeout:g} s over UDP or TCP. Nothing is "
        return Outcome(False, why + "known to be applied: run `esm-tui fix` again to see.")
    except (OSError, dns.exception.DNSException) as exc:
        why = f"could not send the update to {where}: {exc or type(exc).__name__}."
        return Outcome(False, why + " Nothing was applied.")
    rcode = reply.rcode()
    if rcode == dns.rcode.NOERROR:
        return Outcome(True, f"{where} applied the update")
    why = _RCODES.get(rcode, "it refused the update")
    return Outcome(
        False, f"{where} answered {dns.rcode.to_text(rcode)}: {why}. Nothing was applied."
    )


_RCODES = {
    dns.rcode.NOTAUTH: "the key is not accepted for this zone (or the server is not "
    "authoritative for it)",
    dns.rcode.REFUSED: "the server does not allow updates of this zone from this key or address",
    dns.rcode.NXRRSET: "a record set changed since the plan was read (someone edited the "
    "zone): run `esm-tui fix` again for a new plan",
    dns.rcode.YXRRSET: "a record set exists that the plan read as absent: run `esm-tui fix` "
    "again for a new plan",
    dns.rcode.NOTZONE: "a name of the plan is outside the zone",
    dns.rcode.SERVFAIL: "the server failed while applying it",
}
