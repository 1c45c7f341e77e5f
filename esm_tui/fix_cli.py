"""`esm-tui fix DOMAIN [--only CHECK]... [--json] [--apply] [--yes] [--undo]` (SPEC §6).

Without --apply: the plan, exit 1 when changes are pending, 0 when none. With --apply:
confirmation (replacing MX records asks to type the domain), one signed dynamic update
through `[publish]`, the journal entry, then every authoritative server asked until it
serves the new records. Exit 0 applied and served everywhere; 3 applied, not yet served
everywhere; 2 the server refused or failed (nothing applied: the update is atomic); 64
bad input. --undo puts back what the last applied plan changed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from esm_tui.model import CHECK_NAMES

EX_OK, EX_PENDING, EX_FAILED, EX_NOT_EVERYWHERE, EX_USAGE = 0, 1, 2, 3, 64


class FixUsageError(Exception):
    """Bad input: one line on stderr, exit 64."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EX_USAGE, f"{self.prog}: error: {message}\n")


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="esm-tui fix",
        description="Show the changes that fix a domain's records, and publish them "
        "through [publish] (RFC 2136 dynamic update) with --apply.",
    )
    p.add_argument("domain", help="the domain to fix")
    p.add_argument(
        "--only",
        action="append",
        default=[],
        choices=CHECK_NAMES,
        metavar="CHECK",
        help=f"only this check's fix (repeatable): {', '.join(CHECK_NAMES)}",
    )
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.add_argument("--apply", action="store_true", help="publish the plan through [publish]")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--undo", action="store_true", help="put back what the last --apply changed")
    p.add_argument("--config", help="config file (default: $ESM_TUI_CONFIG, else the user's)")
    p.add_argument(
        "--nameserver", action="append", default=[], help="resolver IP[:PORT] (repeatable)"
    )
    p.add_argument(
        "--wait",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long to wait for every authoritative server to serve the change (60)",
    )
    return p


def run_fix(argv: Sequence[str]) -> int:
    args = parser().parse_args(list(argv))
    try:
        return asyncio.run(_main(args))
    except FixUsageError as exc:
        print(f"esm-tui fix: {exc}", file=sys.stderr)
        return EX_USAGE


async def _main(args: argparse.Namespace) -> int:
    from esm_tui.cli import UsageError, _domains, _load, _nameservers
    from esm_tui.dns import Dns

    try:
        config = _load(args.config, strict=True)
        [domain] = _domains([args.domain])
        nameservers = _nameservers(args.nameserver) or list(config.settings.nameservers)
    except UsageError as exc:
        raise FixUsageError(str(exc)) from None
    settings = config.settings
    resolver = Dns(nameservers, timeout=settings.timeout, retries=settings.retries)
    try:
        if args.undo:
            return await _undo(args, config, domain, resolver)
        return await _plan_and_apply(args, config, domain, resolver)
    finally:
        resolver.close()


async def _plan_and_apply(args: argparse.Namespace, config: Any, domain: str, resolver) -> int:
    from esm_tui.checks import check_domain
    from esm_tui.checks.context import CheckContext
    from esm_tui.publish.render import plan_text
    from esm_tui.publish.service import plan_for
    from esm_tui.publish.zone import ZoneError

    settings = config.settings
    domain_settings = config.domain_settings(domain)
    report = await check_domain(
        domain_settings,
        CheckContext(
            resolver,
            fresh=True,
            trust_anchors=settings.trust_anchors,
            https_port=settings.https_port,
        ),
    )
    target = _target(config, domain)
    try:
        zone, plan = await plan_for(
            resolver, report, domain_settings, target, settings.port, tuple(args.only)
        )
    except ZoneError as exc:
        print(f"esm-tui fix: {exc}", file=sys.stderr)
        return EX_FAILED
    if args.json and not args.apply:
        print(json.dumps(plan.to_json(), indent=2, ensure_ascii=False))
        return EX_PENDING if plan.pending else EX_OK
    print(plan_text(plan), end="")
    if not args.apply:
        return EX_PENDING if plan.pending else EX_OK
    if not plan.automatic:
        rest = " The rest is manual (above)." if plan.manual else ""
        print(f"Nothing esm-tui can publish.{rest}")
        return EX_PENDING if plan.pending else EX_OK
    return await _publish(args, config, domain, resolver, zone, target, plan.automatic)


async def _publish(args, config, domain, resolver, zone, target, changes) -> int:
    from esm_tui.publish.render import served_text
    from esm_tui.publish.service import PublishError, publish
    from esm_tui.publish.verify import servers_of, wait_served

    if target is None:
        raise FixUsageError(
            f"no [publish] configured for {domain}: add a [publish] table (provider = "
            '"rfc2136", server, tsig_key_file) to publish; the plan above is the guide.'
        )
    if not _confirmed(args, domain, changes, zone.name):
        print("Not published.")
        return EX_PENDING
    port = config.settings.port
    try:
        outcome = await publish(
            resolver, domain, zone, target, tuple(changes), port, journal_it=not args.undo
        )
    except PublishError as exc:
        raise FixUsageError(str(exc)) from None
    if not outcome.applied:
        print(f"Not applied: {outcome.message}", file=sys.stderr)
        return EX_FAILED
    print(f"Applied: {outcome.message} ({len(changes)} record sets).")
    servers = await servers_of(resolver, zone, port)
    timeout = config.settings.timeout
    served = await wait_served(servers, changes, deadline=args.wait, timeout=timeout)
    print(served_text(served), end="")
    if served and all(s.serves for s in served):
        print("Every authoritative server serves the change; resolvers follow as TTLs expire.")
        return EX_OK
    print(f"Applied, not yet served by every authoritative server after {args.wait:g} s.")
    return EX_NOT_EVERYWHERE


async def _undo(args, config, domain, resolver) -> int:
    from esm_tui.publish import journal
    from esm_tui.publish.plan import Plan
    from esm_tui.publish.render import plan_text
    from esm_tui.publish.zone import ZoneError, find_zone

    try:
        entry = journal.last(domain)
    except journal.JournalError as exc:
        print(f"esm-tui fix: {exc}", file=sys.stderr)
        return EX_FAILED
    if entry is None:
        print(f"Nothing to undo: no applied plan of {domain} in the journal.")
        return EX_OK
    try:
        zone = await find_zone(resolver, domain)
    except ZoneError as exc:
        print(f"esm-tui fix: {exc}", file=sys.stderr)
        return EX_FAILED
    changes = journal.reverse(entry)
    title = f"Undo the plan applied to {domain} at {entry.applied_at}"
    print(plan_text(Plan(domain, entry.zone, changes), title=title), end="")
    code = await _publish(args, config, domain, resolver, zone, _target(config, domain), changes)
    if code in (EX_OK, EX_NOT_EVERYWHERE):
        journal.mark_undone(entry.id)
    return code


def _target(config: Any, domain: str):
    from esm_tui.publish.service import PublishError, target_for

    try:
        return target_for(config, domain)
    except PublishError as exc:
        raise FixUsageError(str(exc)) from None


def _confirmed(args: argparse.Namespace, domain: str, changes, zone: str) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise FixUsageError("--apply asks for confirmation on a terminal; add --yes to publish")
    mx = [c for c in changes if c.confirm]
    if mx:
        typed = input(f"This replaces the MX records of {domain}. Type {domain} to go on: ")
        if typed.strip().lower().rstrip(".") != domain:
            return False
    answer = input(f"Publish {len(changes)} change(s) to the zone {zone}? [y/N] ")
    return answer.strip().lower() in ("y", "yes")
