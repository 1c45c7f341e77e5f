"""Queries with the DO bit (RFC 3225) and CD bit (RFC 4035 §3.2.2), for DNSSEC validation.

The rest of the layer reads only the records the checks need, from the reply's bytes;
validation needs whole messages with their RRSIGs, so these questions go through
dnspython's `dns.asyncquery` (UDP, TCP when truncated) to the same resolvers, with the
same timeout and retries. CD asks a validating resolver for the data even when it finds
them bogus: esm-tui validates itself and names the failing link, instead of a SERVFAIL.

Each (name, type) is asked once per `Dns` cache lifetime (one `check` run, or `max_age`
in the dashboard): a zone's DNSKEY and DS are shared by every domain beneath it.
"""

from __future__ import annotations

import asyncio
import time
import weakref

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from esm_tui.dns.names import absolute
from esm_tui.dns.outcomes import Failure
from esm_tui.dns.resolver import Dns
from esm_tui.dns.servers import format_server

SecureOutcome = dns.message.Message | Failure

_CACHES: weakref.WeakKeyDictionary[Dns, dict[tuple[str, str], tuple[float, asyncio.Future]]] = (
    weakref.WeakKeyDictionary()
)


async def query_signed(
    resolver: Dns, name: str, rdtype: str, *, fresh: bool = False
) -> SecureOutcome:
    """The whole reply to (name, type) asked with DO and CD, or a Failure (timeout,
    SERVFAIL, REFUSED, network error). NXDOMAIN/NODATA are replies, not failures.
    `fresh` (a user's recheck) asks again whatever is cached, as `Dns.query` does."""
    key = (absolute(name), rdtype.upper())
    cache = _CACHES.setdefault(resolver, {})
    hit = None if fresh else cache.get(key)
    loop = asyncio.get_running_loop()
    if hit is not None:
        created, future = hit
        fresh = resolver.max_age is None or time.monotonic() - created <= resolver.max_age
        if fresh and future.done() and not future.cancelled():
            # Also in a forked child or a later loop (check_jobs warms the cache first).
            return future.result()
        if fresh and future.get_loop() is loop:
            return await asyncio.shield(future)
    future = loop.create_task(_ask(resolver, *key))
    cache[key] = (time.monotonic(), future)
    return await asyncio.shield(future)


async def _ask(resolver: Dns, name: str, rdtype: str) -> SecureOutcome:
    query = dns.message.make_query(name, rdtype, want_dnssec=True, use_edns=0, payload=1232)
    query.flags |= dns.flags.CD | dns.flags.RD
    reason, where = "no resolver configured", ""
    for _attempt in range(resolver.retries + 1):
        for host, port in resolver.nameservers:
            where = format_server((host, port))
            resolver.queries_sent += 1
            try:
                reply = await dns.asyncquery.udp(query, host, port=port, timeout=resolver.timeout)
                if reply.flags & dns.flags.TC:
                    reply = await dns.asyncquery.tcp(
                        query, host, port=port, timeout=resolver.timeout
                    )
            except dns.exception.Timeout:
                reason = "timeout"
                continue
            except ConnectionRefusedError:
                reason = f"connection refused by {where}"
                continue
            except dns.query.BadResponse:
                # dnspython's check of the ID and the question: worded as the rest of the
                # layer words a reply to another question (esm_tui.dns.question).
                reason = f"reply from {where} to another question (or with another ID)"
                continue
            except dns.exception.DNSException as exc:
                reason = f"bad reply from {where}: {type(exc).__name__}"
                continue
            except OSError as exc:
                reason = f"network error ({type(exc).__name__})"
                continue
            rcode = reply.rcode()
            if rcode in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                return reply
            reason = dns.rcode.to_text(rcode)
    return Failure(name, rdtype, reason, where)
