"""The DNS layer: every query esm-tui sends goes through `Dns` (resolver.py).

Outcomes are values, never exceptions (outcomes.py): a check can tell "the record is
absent" from "we could not ask". Below the facade, one module per idea:

- resolver.py   `Dns`: limits, priorities, the per-cycle cache, deduplicated askers
- cache.py      the cache's entries and their waiters
- priority.py   `QUERY_PRIORITY` and the limit that serves the most urgent query first
- question.py   one question: retries, next server, CNAME hops, TCP fallback
- messages.py   a query's bytes, whether a reply answers it, what the reply says
- reply.py      reading a reply (dnspython's parsers, without its Message machinery)
- records.py    records of the common types, read from the reply's bytes
- names.py      domain names: text, wire and the absolute key form, fast
- servers.py    resolver addresses: parsing, formatting, the system's resolvers
- udp.py        shared UDP sockets, replies matched by server, port and ID
- eager.py      `gather`/`start` that run coroutines at once (most answers are cached)

The names below are the layer's interface; anything else is imported from its module.
"""

from esm_tui.dns.names import absolute
from esm_tui.dns.outcomes import Answer, Failure, NoData, NxDomain, Outcome, decode_txt, describe
from esm_tui.dns.priority import QUERY_PRIORITY
from esm_tui.dns.resolver import Dns
from esm_tui.dns.servers import (
    NameserverError,
    Server,
    format_server,
    parse_nameserver,
    system_nameservers,
)

__all__ = [
    "QUERY_PRIORITY",
    "Answer",
    "Dns",
    "Failure",
    "NameserverError",
    "NoData",
    "NxDomain",
    "Outcome",
    "Server",
    "absolute",
    "decode_txt",
    "describe",
    "format_server",
    "parse_nameserver",
    "system_nameservers",
]
