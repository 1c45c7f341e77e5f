"""The steps `esm-tui fix` and the dashboard's `p` share: where to publish (from
`[publish]`), the plan of a domain from a report, and publishing it (update, journal).
No printing and no Textual here: each caller says things its own way.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from esm_tui.dns import Dns
from esm_tui.model import DomainReport, DomainSettings
from esm_tui.publish import journal
from esm_tui.publish.plan import Change, Plan, build_plan, wanted_sets
from esm_tui.publish.rfc2136 import Outcome, TsigKey, build_update, send
from esm_tui.publish.zone import Zone, addresses, find_zone, read_set, read_sets

Server = tuple[str, int]


class PublishError(Exception):
    """Publishing is not possible as configured; the message says what to change."""


@dataclass(frozen=True)
class Target:
    """Where and how to publish: RFC 2136 to the server (None: the zone's primary) with
    the key, or a dns-lexicon `provider` with its options (never shown: secrets)."""

    server: Server | None
    key: TsigKey | None
    provider: str = "rfc2136"
    options: dict = field(default_factory=dict, repr=False)


def target_for(config: Any, domain: str) -> Target | None:
    """The domain's `[publish]` (its own table, else the top-level one); None when
    publishing is not configured. PublishError for a provider esm-tui cannot drive."""
    publish_for = getattr(config, "publish_for", None)
    settings = publish_for(domain) if publish_for is not None else None
    if settings is None:
        return None
    if settings.provider != "rfc2136":
        from esm_tui.publish.lexicon_provider import credentials

        try:
            options = credentials(settings.credentials_file)
        except (OSError, ValueError) as exc:
            raise PublishError(f"credentials_file {settings.credentials_file}: {exc}") from None
        return Target(None, None, settings.provider, options)
    key = getattr(settings, "tsig_key", None)
    tsig = TsigKey(key.name, key.algorithm, key.secret) if key is not None else None
    return Target(settings.server, tsig)


async def primary_address(resolver: Dns, zone: Zone, port: int) -> Server:
    found = await addresses(resolver, zone.primary)
    if not found:
        raise PublishError(
            f"the zone's primary {zone.primary} (SOA MNAME) has no address: set [publish] "
            "server to the server that accepts updates"
        )
    return found[0], port


async def reader_for(resolver: Dns, zone: Zone, target: Target | None, port: int) -> Server:
    """Where the plan reads the zone: the [publish] server, else the primary, else (a
    hidden primary that does not answer) the resolver; the update's prerequisites hold
    the plan to what the server that applies it has, whatever was read."""
    if target is not None and target.server is not None:
        return target.server
    try:
        primary = await primary_address(resolver, zone, port)
    except PublishError:
        return resolver.nameservers[0]
    answers = await read_set(primary, zone.name, "SOA", resolver.timeout)
    return primary if answers else resolver.nameservers[0]


async def plan_for(
    resolver: Dns,
    report: DomainReport,
    settings: DomainSettings,
    target: Target | None,
    port: int,
    only: tuple[str, ...] = (),
) -> tuple[Zone, Plan]:
    """The zone and the plan that fixes `report`'s records (ZoneError: no zone found)."""
    zone = await find_zone(resolver, report.domain)
    reader = await reader_for(resolver, zone, target, port)
    current = await read_sets(reader, wanted_sets(report, only), resolver.timeout)
    plan = build_plan(report, settings, current, zone=zone.name, only=only)
    return zone, await recounted(resolver, plan)


async def recounted(resolver: Dns, plan: Plan) -> Plan:
    """The plan with each SPF record it would publish walked again (SPEC §6: "re-count
    the lookups before publishing"): over 10 DNS lookups or 2 void ones, the change is
    manual, with the counts, and is not published."""
    from dataclasses import replace

    from esm_tui.spf.evaluate import MAX_LOOKUPS, MAX_VOID_LOOKUPS
    from esm_tui.spf.parse import is_spf_record, parse_lenient
    from esm_tui.spf.tree import walk_tree

    changes = []
    for change in plan.changes:
        spf = [v for v in change.after if is_spf_record(v)]
        if change.manual or change.type != "TXT" or len(spf) != 1 or spf[0] in change.before:
            changes.append(change)
            continue
        tree = await walk_tree(resolver, change.name, spf[0], parse_lenient(spf[0])[0])
        lookups, voids = tree.total_lookups, tree.total_void_lookups
        if lookups > MAX_LOOKUPS or voids > MAX_VOID_LOOKUPS:
            why = (
                f"the proposed SPF record needs {lookups} DNS lookups ({voids} void) when "
                f"walked again, over RFC 7208 §4.6.4's {MAX_LOOKUPS} ({MAX_VOID_LOOKUPS}): "
                "not published; remove an include first (the steps say which)"
            )
            change = replace(change, manual=True, why=why)
        changes.append(change)
    return replace(plan, changes=tuple(changes))


async def publish(
    resolver: Dns,
    domain: str,
    zone: Zone,
    target: Target,
    changes: tuple[Change, ...],
    port: int,
    *,
    journal_it: bool = True,
) -> Outcome:
    """Send the changes (one RFC 2136 update, or through the lexicon provider); journal
    them when applied (for --undo)."""
    if target.provider != "rfc2136":
        from esm_tui.publish.lexicon_provider import publish_lexicon

        outcome = await asyncio.to_thread(
            publish_lexicon, target.provider, zone.name, changes, target.options
        )
    else:
        server = target.server or await primary_address(resolver, zone, port)
        update = build_update(zone.name, changes, target.key)
        outcome = await asyncio.to_thread(send, update, server, resolver.timeout * 2)
    if outcome.applied and journal_it:
        try:
            journal.record(domain, zone.name, changes)
        except journal.JournalError as exc:
            note = f" (not journalled: {exc}; --undo will not know this change)"
            return Outcome(True, outcome.message + note)
    return outcome
