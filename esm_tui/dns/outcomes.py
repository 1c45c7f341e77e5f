"""What a query comes to: `Answer`, `NxDomain`, `NoData` or `Failure` — values, never exceptions.

A check can then tell "the record is absent" (an answer) from "we could not ask" (a
failure that must never paint a card red).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dns.rdata

from esm_tui.once import once


def decode_txt(strings: Sequence[bytes]) -> str:
    """TXT character-strings joined without separators; invalid UTF-8 kept as `\\xNN` (SPEC §3)."""
    return b"".join(strings).decode("utf-8", errors="backslashreplace")


@dataclass(frozen=True)
class Answer:
    """Records of the asked type, after following any CNAMEs."""

    name: str
    rdtype: str
    ttl: int
    rdatas: tuple[dns.rdata.Rdata, ...]
    server: str = ""
    cnames: tuple[str, ...] = ()

    @property
    def canonical(self) -> str:
        """The owner of the records: the last CNAME target, or the asked name."""
        return self.cnames[-1] if self.cnames else self.name

    def texts(self) -> list[str]:
        """For TXT answers: each record as one decoded string (SPEC §3 `records`)."""
        return [decode_txt(r.strings) for r in self.rdatas if hasattr(r, "strings")]

    @once
    def raw_texts(self) -> tuple[str, ...]:
        """For TXT answers: each record's strings joined, undecodable bytes kept as
        surrogates (so that parsers reject them as non-ASCII). Decoded once per answer:
        a bulk check reads the same cached answers (shared SPF includes) thousands of
        times."""
        return tuple(b"".join(r.strings).decode("utf-8", "surrogateescape") for r in self.rdatas)

    def values(self) -> list[str]:
        """Each record in presentation format (for non-TXT types)."""
        return [r.to_text() for r in self.rdatas]


@dataclass(frozen=True)
class NxDomain:
    """The name does not exist. `negative_ttl` is the RFC 2308 TTL from the SOA, if sent.

    `zone` and `serial`: owner and serial of that SOA (the zone that said no), if sent.
    """

    name: str
    rdtype: str
    negative_ttl: int | None = None
    server: str = ""
    cnames: tuple[str, ...] = ()
    zone: str | None = None
    serial: int | None = None


@dataclass(frozen=True)
class NoData:
    """The name exists but has no records of this type (`zone`, `serial`: as for NxDomain)."""

    name: str
    rdtype: str
    negative_ttl: int | None = None
    server: str = ""
    cnames: tuple[str, ...] = ()
    zone: str | None = None
    serial: int | None = None


@dataclass(frozen=True)
class Failure:
    """No usable answer: timeout, SERVFAIL, REFUSED, garbage, network error."""

    name: str
    rdtype: str
    reason: str
    server: str = ""


Outcome = Answer | NxDomain | NoData | Failure


def describe(outcome: Outcome) -> str:
    """A short phrase for messages: `NXDOMAIN`, `no TXT record`, `timeout from 1.2.3.4:53`."""
    match outcome:
        case Answer():
            return f"{len(outcome.rdatas)} {outcome.rdtype} record(s)"
        case NxDomain():
            return "NXDOMAIN (the name does not exist)"
        case NoData():
            return f"no {outcome.rdtype} record (NODATA)"
        case Failure():
            return outcome.reason
    raise TypeError(outcome)
