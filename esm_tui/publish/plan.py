"""The plan of `esm-tui fix` (SPEC §6): from a domain's report and the record sets its zone
publishes now, the changes that would fix it, one per (name, type).

A change holds the whole record set before and after. A TXT change replaces only the
record of its kind (`v=spf1`, `v=DMARC1`, `v=DKIM1`, `v=BIMI1`, `v=STSv1`, `v=TLSRPTv1`):
every other TXT record at that name is in `after` as it was. A change esm-tui cannot
compute or carry out is `manual` (a key only the relay's console knows, an MTA-STS policy
file to serve, a record beside a CNAME) with the steps, and is never applied.

Values are kept twice: as the admin reads them (`before`, `after`: TXT strings joined,
SPEC §3) and as the zone holds them (`before_rdata`, `after_rdata`: presentation format,
TXT split into its strings exactly as published), because a dynamic update deletes a
record by its exact data (RFC 2136 §2.5.4), string boundaries included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT

from esm_tui.dns import absolute
from esm_tui.hosts.steps import record_kind, txt_strings
from esm_tui.model import CHECK_NAMES, DomainReport, DomainSettings, RecordResult, Status

#: TTL of a record set that does not exist yet (an hour: long enough to cache, short
#: enough to correct a mistake the same day).
NEW_TTL = 3600

#: (name, type) → the record set as the zone serves it: presentation-format rdata texts
#: (an empty list: no such records; None: could not be read).
Current = Mapping[tuple[str, str], list[str] | None]


@dataclass(frozen=True)
class Change:
    """One record set to change (or, `manual`, to change by hand)."""

    check: str
    name: str
    type: str
    ttl: int
    before: tuple[str, ...]
    after: tuple[str, ...]
    manual: bool
    why: str
    steps: tuple[str, ...] = ()
    before_rdata: tuple[str, ...] = ()
    after_rdata: tuple[str, ...] = ()
    #: What the admin must type to confirm (MX replacement: the domain's name).
    confirm: str | None = None

    @property
    def pending(self) -> bool:
        return self.manual or set(self.before_rdata) != set(self.after_rdata)

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "name": self.name,
            "type": self.type,
            "ttl": self.ttl,
            "before": list(self.before),
            "after": list(self.after),
            "manual": self.manual,
            "why": self.why,
            "steps": list(self.steps),
        }


@dataclass(frozen=True)
class Plan:
    domain: str
    zone: str
    changes: tuple[Change, ...] = ()
    #: Queries whose answer was needed and could not be had: no plan for their records.
    unreadable: tuple[str, ...] = field(default=())

    @property
    def automatic(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.pending and not c.manual)

    @property
    def manual(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.manual)

    @property
    def pending(self) -> bool:
        return any(c.pending for c in self.changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "zone": self.zone,
            "changes": [c.to_json() for c in self.changes],
            "unreadable": list(self.unreadable),
        }


def wanted_sets(report: DomainReport, only: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The (name, type) record sets the plan must read from the zone (and their CNAMEs)."""
    out: list[tuple[str, str]] = []
    for _check, result in _fixable(report, only):
        assert result.fix is not None
        record = result.fix.record
        if record is None:
            continue
        name = absolute(record.name).lower()
        # A CNAME replaces the TXT records at its name (none may sit beside it).
        for key in ((name, record.type.upper()), (name, "CNAME"), (name, "TXT")):
            if key not in out:
                out.append(key)
    return out


def build_plan(
    report: DomainReport,
    settings: DomainSettings,
    current: Current,
    *,
    zone: str,
    only: Sequence[str] = (),
) -> Plan:
    """The changes that fix `report`'s records, given the zone's record sets now."""
    changes: list[Change] = []
    unreadable: list[str] = []
    zone_name = absolute(zone).lower()
    for check, result in _fixable(report, only):
        change = _change(check, result, settings, current, report.domain)
        if change is None:
            unreadable.append(f"{result.fix.record.type} {result.fix.record.name}")  # type: ignore[union-attr]
            continue
        if not change.manual and not _within(change.name, zone_name):
            change = _outside(change, zone_name)
        if change.type == "CNAME" and not change.manual:
            changes.extend(_cleared_for_cname(change, current))
        changes.append(change)
    return Plan(report.domain, absolute(zone).lower(), tuple(_merged(changes)), tuple(unreadable))


def _within(name: str, zone: str) -> bool:
    return name == zone or name.endswith("." + zone)


def _outside(change: Change, zone: str) -> Change:
    """A record outside the zone (a CNAME target's): its operator's to change."""
    labels = change.name.rstrip(".").split(".")
    operator = ".".join(labels[-2:])
    why = (
        f"{change.name} is outside the zone {zone} (a CNAME's target): its operator "
        f"({operator}) publishes it. Ask them, or replace the CNAME with your own record."
    )
    return replace(change, manual=True, why=why)


def _cleared_for_cname(change: Change, current: Current) -> list[Change]:
    """The TXT records at a name that becomes a CNAME go (RFC 1034 §3.6.2)."""
    present = current.get((change.name, "TXT")) or []
    if not present:
        return []
    return [
        Change(
            check=change.check,
            name=change.name,
            type="TXT",
            ttl=change.ttl,
            before=tuple(_shown("TXT", r) for r in present),
            after=(),
            manual=False,
            why=f"the TXT record(s) at {change.name} make way for the CNAME",
            before_rdata=tuple(present),
            after_rdata=(),
        )
    ]


def _fixable(report: DomainReport, only: Sequence[str]) -> list[tuple[str, RecordResult]]:
    out = []
    for check in CHECK_NAMES:
        result = report.checks.get(check)
        if result is None or (only and check not in only):
            continue
        # unknown: nothing to change yet (the answer was not had); ok/none: nothing to fix.
        if result.status not in (Status.WARN, Status.FAIL) or result.fix is None:
            continue
        out.append((check, result))
    return out


def _change(
    check: str,
    result: RecordResult,
    settings: DomainSettings,
    current: Current,
    domain: str,
) -> Change | None:
    fix = result.fix
    assert fix is not None
    steps = tuple(fix.steps)
    record = fix.record
    if record is None:
        return Change(
            check, absolute(result.query_name).lower(), result.query_type, result.ttl or NEW_TTL,
            tuple(result.records), (), True, steps[0] if steps else "see the steps", steps,
        )  # fmt: skip
    name, rtype = absolute(record.name).lower(), record.type.upper()
    present = current.get((name, rtype))
    cname = current.get((name, "CNAME")) if rtype != "CNAME" else []
    if present is None or cname is None:
        return None
    values = _values(record, settings)
    before_values = tuple(_shown(rtype, r) for r in present)
    if cname:
        target = cname[0]
        why = (
            f"{name} is a CNAME to {target}: no other record can sit beside it (RFC 1034 "
            f"§3.6.2). Ask the operator of {target} to change the record there, or replace "
            "the CNAME with your own record."
        )
        return Change(check, name, rtype, result.ttl or NEW_TTL, before_values, tuple(values),
                      True, why, steps)  # fmt: skip
    if check == "mta_sts":
        # The TXT's new id must follow the policy file, which esm-tui does not serve.
        why = "serve the policy file first, then publish the TXT record (steps below)"
        return Change(check, name, rtype, result.ttl or NEW_TTL, before_values, tuple(values),
                      True, why, steps)  # fmt: skip
    after_rdata = _after(rtype, present, values)
    ttl = result.ttl if present and result.ttl else NEW_TTL
    return Change(
        check=check,
        name=name,
        type=rtype,
        ttl=ttl,
        before=before_values,
        after=tuple(_shown(rtype, r) for r in after_rdata),
        manual=False,
        why=_why(result, steps, rtype),
        steps=steps,
        before_rdata=tuple(present),
        after_rdata=tuple(after_rdata),
        confirm=domain if rtype == "MX" and present else None,
    )


def _why(result: RecordResult, steps: tuple[str, ...], rtype: str) -> str:
    """The first failing (else warning) finding: what the change repairs."""
    for severity in ("fail", "warn"):
        for finding in result.findings:
            if str(finding.severity) == severity:
                return finding.message
    return steps[0] if steps else f"fix the {rtype} record"


def _values(record: Any, settings: DomainSettings) -> list[str]:
    """The values to publish: the relay's whole MX set for the MX fix, else the one."""
    if record.type.upper() == "MX":
        from esm_tui.checks.mx import relay_records

        relay = relay_records(settings)
        if any(r.value == record.value for r in relay):
            return [r.value for r in relay]
    return [record.value]


def _after(rtype: str, present: list[str], values: list[str]) -> list[str]:
    """The record set after the change, as rdata texts; a kept record keeps its exact data."""
    wanted = [to_rdata_text(rtype, v) for v in values]
    if rtype in ("TXT", "SPF"):
        kinds = {record_kind(v) for v in values} - {None}
        kept = [r for r in present if _kind(_shown(rtype, r)) not in kinds]
        same = [r for r in present if _shown(rtype, r) in values]
        # A record already published as wanted stays byte for byte (no delete + add).
        wanted = [w for w in wanted if _shown(rtype, w) not in {_shown(rtype, s) for s in same}]
        return _unique([*kept, *same, *wanted])
    keep = [r for r in present if _canonical(rtype, r) in {_canonical(rtype, w) for w in wanted}]
    new = [w for w in wanted if _canonical(rtype, w) not in {_canonical(rtype, k) for k in keep}]
    return _unique([*keep, *new])


def _kind(value: str) -> str | None:
    """A TXT record's kind; a record meant as SPF but broken in its form (quotes, a
    misspelt version: esm_tui.spf.form) is the SPF record its fix replaces."""
    from esm_tui.spf.form import looks_like_spf

    kind = record_kind(value)
    return "SPF" if kind is None and looks_like_spf(value) else kind


def to_rdata_text(rtype: str, value: str) -> str:
    """A value in presentation format; a TXT value cut into ≤ 255-byte strings."""
    if rtype in ("TXT", "SPF"):
        strings = [s.encode() for s in txt_strings(value)] or [b""]
        rdata = dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, strings)
        return rdata.to_text()
    return dns.rdata.from_text("IN", rtype, value).to_text()


def _shown(rtype: str, rdata_text: str) -> str:
    """A record as the admin reads it: TXT strings joined (SPEC §3), else as written."""
    if rtype in ("TXT", "SPF"):
        rdata = dns.rdata.from_text("IN", "TXT", rdata_text)
        return b"".join(rdata.strings).decode("utf-8", "backslashreplace")  # type: ignore[attr-defined]
    return rdata_text


def _canonical(rtype: str, rdata_text: str) -> str:
    return dns.rdata.from_text("IN", rtype, rdata_text).to_text().lower()


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _merged(changes: list[Change]) -> list[Change]:
    """Two fixes of one record set (rare) become one change, the second applied after the
    first: its `before` is the first's `after`."""
    out: dict[tuple[str, str], Change] = {}
    for change in changes:
        key = (change.name, change.type)
        first = out.get(key)
        if first is None:
            out[key] = change
            continue
        if first.manual or change.manual:
            # One of them needs a hand: the set is the admin's to change; both say why.
            out[key] = replace(
                first,
                manual=True,
                why=f"{first.why}; {change.why}",
                steps=first.steps + change.steps,
            )
            continue
        values = [_shown(change.type, r) for r in change.after_rdata]
        after = _after(change.type, list(first.after_rdata), values)
        out[key] = replace(
            first,
            after_rdata=tuple(after),
            after=tuple(_shown(change.type, r) for r in after),
            why=f"{first.why}; {change.why}",
            steps=first.steps + change.steps,
        )
    return list(out.values())
