"""Result values: what a check found, as frozen data that renders to JSON (SPEC §3).

Everything downstream of the checks (the report, the history, the TUI) reads these
values and never reaches back into DNS.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

CHECK_NAMES: tuple[str, ...] = (
    "mx", "spf", "dkim", "dmarc", "bimi", "mta_sts", "tls_rpt", "dnssec",
)  # fmt: skip

#: How each check is named on screen and in text output.
CHECK_LABELS: dict[str, str] = {
    "mx": "MX",
    "spf": "SPF",
    "dkim": "DKIM",
    "dmarc": "DMARC",
    "bimi": "BIMI",
    "mta_sts": "MTA-STS",
    "tls_rpt": "TLS-RPT",
    "dnssec": "DNSSEC",
}


class Status(StrEnum):
    """A record's (or a domain's) verdict. Ranked by `rank` for "worst of"."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    UNKNOWN = "unknown"
    NONE = "none"

    @property
    def rank(self) -> int:
        """Severity order of SPEC §4: fail > unknown > warn > ok > none."""
        return _RANK[self]

    @property
    def word(self) -> str:
        """The word shown beside the glyph, so status reads without colour."""
        return _WORD[self]


_RANK = {Status.NONE: 0, Status.OK: 1, Status.WARN: 2, Status.UNKNOWN: 3, Status.FAIL: 4}
_WORD = {
    Status.OK: "OK",
    Status.WARN: "WARN",
    Status.FAIL: "FAIL",
    Status.UNKNOWN: "?",
    Status.NONE: "—",
}


def worst(statuses: Iterable[Status]) -> Status:
    """The most severe status of several (NONE when there are none)."""
    result = Status.NONE
    for status in statuses:
        if status.rank > result.rank:
            result = status
    return result


class Severity(StrEnum):
    FAIL = "fail"
    WARN = "warn"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One rule that held or broke: a stable `code` (`<check>.<slug>`), a sentence, an RFC ref."""

    severity: Severity
    code: str
    message: str
    ref: str = ""

    def to_json(self) -> dict[str, str]:
        return {
            "severity": str(self.severity),
            "code": self.code,
            "message": self.message,
            "ref": self.ref,
        }


@dataclass(frozen=True)
class FixRecord:
    """A record to publish: owner name (absolute, trailing dot), type and presentation value."""

    name: str
    type: str
    value: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "type": self.type, "value": self.value}


@dataclass(frozen=True)
class Fix:
    """What to do about a record. `host_steps`, `zone_line` and `txt_strings` are added by
    esm_tui.hosts for a fix that publishes something: the steps in the DNS host's words,
    the record as a zone-file line, and a TXT value as its ≤ 255-byte strings."""

    steps: tuple[str, ...]
    record: FixRecord | None = None
    host_steps: tuple[str, ...] = ()
    zone_line: str | None = None
    txt_strings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "steps": list(self.steps),
            "record": self.record.to_json() if self.record else None,
            "host_steps": list(self.host_steps),
            "zone_line": self.zone_line,
            "txt_strings": list(self.txt_strings),
        }


def status_from_findings(findings: Iterable[Finding]) -> Status:
    """FAIL if any finding fails, WARN if any warns, else OK (info findings do not count)."""
    severities = {f.severity for f in findings}
    if Severity.FAIL in severities:
        return Status.FAIL
    if Severity.WARN in severities:
        return Status.WARN
    return Status.OK


class PropagationState(StrEnum):
    """Where a record stands between its authoritative servers and the resolvers (issue 5)."""

    PUBLISHED = "published"
    PROPAGATING = "propagating"
    NOT_PUBLISHED = "not-published"
    INCONSISTENT = "inconsistent"


@dataclass(frozen=True)
class ServerAnswer:
    """What one server said for a record: an authoritative server (asked with recursion
    off) or a resolver. `records` are raw as in SPEC §3; `ttl` is the remaining TTL as
    served (for NXDOMAIN/NODATA the RFC 2308 negative TTL); `serial` the zone's SOA serial.

    `host` (the NS host name) and `error` (why the answer is unusable: a timeout, a lame
    server) are for the screen and stay out of the JSON.
    """

    server: str
    role: str  # "authoritative" | "resolver"
    rcode: str
    records: tuple[str, ...] = ()
    ttl: int | None = None
    serial: int | None = None
    host: str = ""
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "role": self.role,
            "rcode": self.rcode,
            "records": list(self.records),
            "ttl": self.ttl,
            "serial": self.serial,
        }


@dataclass(frozen=True)
class Propagation:
    """A record's propagation state, with the answers it was derived from.

    `eta`: when the last lagging resolver's cached answer expires (propagating only).
    `detail` (a sentence) and `lagging` (the servers behind) are for the screen.
    """

    state: PropagationState
    eta: datetime | None
    servers: tuple[ServerAnswer, ...]
    detail: str = ""
    lagging: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "state": str(self.state),
            "eta": self.eta.isoformat(timespec="seconds") if self.eta else None,
            "servers": [s.to_json() for s in self.servers],
        }


@dataclass(frozen=True)
class RecordResult:
    """The verdict on one record type of one domain (SPEC §3 "RecordResult")."""

    check: str
    status: Status
    summary: str
    query_name: str
    query_type: str
    records: tuple[str, ...] = ()
    ttl: int | None = None
    findings: tuple[Finding, ...] = ()
    fix: Fix | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    propagation: Propagation | None = None

    def to_json(self, *, copy: bool = True) -> dict[str, Any]:
        """SPEC §3's RecordResult. `copy=False` leaves `details` as they are (tuples,
        StrEnums, read-only mappings) for a caller that hands the document straight to
        `json.dumps(default=json_default)`, which writes them alike (report.dumps)."""
        data = {
            "status": str(self.status),
            "summary": self.summary,
            "query": {"name": self.query_name, "type": self.query_type},
            "records": list(self.records),
            "ttl": self.ttl,
            "findings": [f.to_json() for f in self.findings],
            # SPEC §3: fix is null when the status is ok or none.
            "fix": self.fix.to_json()
            if self.fix and self.status not in (Status.OK, Status.NONE)
            else None,
            "details": _jsonable(self.details) if copy else self.details,
        }
        if self.propagation is not None:
            data["propagation"] = self.propagation.to_json()
        return data


@dataclass(frozen=True)
class ZoneHost:
    """Where the domain's zone is hosted, named from the zone's NS records (SPEC §6).

    `id` is a catalogue id (esm_tui/hosts/catalogue.toml) or "other" (then `name` is None);
    `nameservers` are the NS host names (absolute, lower-case, sorted), `zone` the zone.
    """

    id: str
    name: str | None
    nameservers: tuple[str, ...]
    zone: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "nameservers": list(self.nameservers),
            "zone": self.zone,
        }


@dataclass(frozen=True)
class DomainReport:
    """All five results of one domain, from one check.

    `dns_host`: the zone's DNS host; None when the NS records could not be read.
    """

    domain: str
    checks: Mapping[str, RecordResult]
    checked_at: datetime
    dns_host: ZoneHost | None = None

    @property
    def status(self) -> Status:
        return worst(r.status for r in self.checks.values())

    def to_json(self, *, copy: bool = True) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "status": str(self.status),
            "dns_host": self.dns_host.to_json() if self.dns_host else None,
            "checks": {name: self.checks[name].to_json(copy=copy) for name in self.checks},
        }


def _jsonable(value: Any) -> Any:
    """Deep-copy details into plain JSON types (tuples become lists, enums strings)."""
    # Exact-type fast paths first: a report of 1,000 domains has ~170,000 values here, and
    # isinstance() against the Mapping ABC is the slow part of the general case below.
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    if kind is dict:
        return {k if type(k) is str else str(k): _jsonable(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, StrEnum):
        return str(value)
    return value


def json_default(value: Any) -> Any:
    """`json.dumps`'s `default` for details left uncopied (`to_json(copy=False)`): what
    _jsonable would have made of a value the encoder does not know (tuples, lists, dicts
    and str subclasses it writes itself, as _jsonable copies them)."""
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


@dataclass(frozen=True)
class DomainSettings:
    """What is expected of one domain: its name plus the [relay] values that apply to it.

    Built by config/model.py (per-domain lists replace the [relay] ones, SPEC §2/§4); read by
    the checks. `name` is ASCII (IDNA), lower-case, without a trailing dot.
    """

    name: str
    relay_mx: tuple[str, ...] = ()
    spf_include: tuple[str, ...] = ()
    spf_ips: tuple[str, ...] = ()
    dkim_selectors: tuple[str, ...] = ()
    bimi_expected: bool = False
    #: `mta_sts` / `tls_rpt` / `dnssec = true`: absence is red, not grey (SPEC §8).
    mta_sts_expected: bool = False
    tls_rpt_expected: bool = False
    dnssec_expected: bool = False
