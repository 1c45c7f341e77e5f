"""Give every fix that publishes a record the DNS host's steps, its zone-file line and strings.

`with_host_steps(report, settings)` returns the report with each RecordResult's `fix`
extended (`Fix.host_steps`, `Fix.zone_line`, `Fix.txt_strings`), for results whose fix has
a `record` and whose status asks for it (SPEC §3: a fix shows when the status is not ok or
none). What the change replaces and keeps comes from the records the check read at that
name: a TXT change replaces the record of its kind only (`v=spf1`, `v=DMARC1`, ...), every
other TXT record there stays; the relay's MX set replaces the MX records that are not in it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from esm_tui.dns import absolute
from esm_tui.hosts.catalogue import host_by_id
from esm_tui.hosts.steps import effective_ttl, host_steps, record_kind, txt_strings, zone_line
from esm_tui.model import DomainReport, DomainSettings, FixRecord, RecordResult, Status


def with_host_steps(report: DomainReport, settings: DomainSettings | None = None) -> DomainReport:
    """`report` with host steps on every fix that publishes something (unchanged if none)."""
    changed: dict[str, RecordResult] = {}
    for name, result in report.checks.items():
        fix = result.fix
        if fix is None or fix.record is None or result.status in (Status.OK, Status.NONE):
            continue
        changed[name] = replace(result, fix=_extended(report, result, settings))
    if not changed:
        return report
    return replace(report, checks={**report.checks, **changed})


def _extended(report: DomainReport, result: RecordResult, settings: DomainSettings | None):
    fix = result.fix
    assert fix is not None and fix.record is not None
    record = fix.record
    rtype = record.type.upper()
    name = absolute(record.name)
    found = report.dns_host
    zone = found.zone if found is not None else absolute(report.domain)
    host = host_by_id(found.id) if found is not None else None
    values = _values(record, settings)
    current = _current(result, name, report.domain)
    replaces, keep = _split(rtype, values, current)
    steps = host_steps(
        host,
        zone=zone,
        name=name,
        rtype=rtype,
        values=values,
        ttl=result.ttl,
        replaces=replaces,
        keep=keep,
        nameservers=found.nameservers if found is not None else (),
    )
    ttl = effective_ttl(host, result.ttl)
    return replace(
        fix,
        host_steps=tuple(steps),
        zone_line=zone_line(name, ttl, rtype, record.value),
        txt_strings=tuple(txt_strings(record.value)) if rtype in ("TXT", "SPF") else (),
    )


def _values(record: FixRecord, settings: DomainSettings | None) -> list[str]:
    """The values of the record set to publish: the relay fix's whole MX set, else the one."""
    if record.type.upper() == "MX" and settings is not None:
        from esm_tui.checks.mx import relay_records

        relay = relay_records(settings)
        if any(r.name == record.name and r.value == record.value for r in relay):
            return [r.value for r in relay]
    return [record.value]


def _current(result: RecordResult, name: str, domain: str) -> list[str] | None:
    """The records of the fix's name and type as the check read them; None when unknown."""
    if absolute(result.query_name) == name:
        return list(result.records)
    details: Mapping[str, Any] = result.details or {}
    selectors = details.get("selectors")
    if isinstance(selectors, Mapping):  # DKIM: each selector's own key record
        for selector, info in selectors.items():
            if isinstance(info, Mapping) and absolute(f"{selector}._domainkey.{domain}") == name:
                record = info.get("record")
                return [record] if isinstance(record, str) else []
    record = details.get("record")
    location = details.get("location")
    found_at_parent = isinstance(record, str) and isinstance(location, str)
    if found_at_parent and absolute(f"_dmarc.{location}") == name:
        return [record]
    return None


def _split(
    rtype: str, values: Sequence[str], current: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    """(replaces, keep): what of `current` the change replaces, and what must stay."""
    if not current:
        return [], []
    if rtype == "MX":
        wanted = {_mx_key(v) for v in values}
        return [c for c in current if _mx_key(c) not in wanted], []
    if rtype in ("TXT", "SPF"):
        from esm_tui.spf.form import looks_like_spf

        kinds = {record_kind(v) for v in values} - {None}
        replaces = [
            c
            for c in current
            if (record_kind(c) in kinds or ("SPF" in kinds and looks_like_spf(c)))
            and c not in values
        ]
        keep = [c for c in current if c not in replaces and c not in values]
        return replaces, keep
    return [c for c in current if c not in values], []


def _mx_key(value: str) -> tuple[str, str]:
    preference, _, target = value.strip().partition(" ")
    return preference, absolute(target) if target else ""
