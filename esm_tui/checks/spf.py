"""The SPF check (RFC 7208): the apex TXT records, the include/redirect tree, relay authorization.

SPEC §4 "SPF": the record is parsed strictly, its tree walked as an evaluation that matches
nothing (lookup and void-lookup counts, loops, missing targets, reachability of the relay's
includes), and every configured relay address evaluated with check_host() as a receiver
would. A query that could not be answered makes the card `unknown` unless a failure that
holds whatever the answer would have been (like `+all`) already makes it `fail`.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from esm_tui.checks.context import CheckContext, unknown_result
from esm_tui.dns import Answer, Failure, NxDomain, eager
from esm_tui.model import DomainSettings, Fix, FixRecord, RecordResult, Severity, Status
from esm_tui.spf.errors import quote
from esm_tui.spf.evaluate import MAX_LOOKUPS, SpfResult, check_host
from esm_tui.spf.fix import (
    RelayFailure,
    RelayNeeds,
    fix_missing,
    fix_no_mail,
    fix_record,
    merge_records,
)
from esm_tui.spf.form import looks_like_spf, repair_form
from esm_tui.spf.judge import (
    CODES,
    Verdict,
    effective_all,
    judge_syntax,
    judge_tree,
    reached,
    reached_domains,
)
from esm_tui.spf.mechanisms import IpAddress
from esm_tui.spf.parse import is_spf_record, parse_lenient
from esm_tui.spf.record_size import judge_size
from esm_tui.spf.redundant import draft_of, find_redundant
from esm_tui.spf.tree import walk_target, walk_tree
from esm_tui.spf.tree_model import TreeNode

#: Every finding code this check can emit (the README's table is built from it).
__all__ = ["CODES", "check"]


@dataclass
class _Relay:
    """check_host() of every spf_ips address."""

    checks: list[tuple[str, SpfResult]] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)

    @property
    def authorized(self) -> bool | None:
        if not self.checks:
            return None
        results = {r.result for _, r in self.checks}
        if results - {"pass", "temperror"}:
            return False
        return None if "temperror" in results else True

    def failures(self) -> tuple[RelayFailure, ...]:
        return tuple(
            RelayFailure(entry, r.ip, r.result, r.chain)
            for entry, r in self.checks
            if r.result != "pass"
        )

    def to_json(self) -> list[dict[str, Any]]:
        return [{"entry": entry, **r.to_json()} for entry, r in self.checks]


async def check(domain: DomainSettings, ctx: CheckContext) -> RecordResult:
    # check_host() of the relay addresses runs while the record is fetched and walked.
    relay_task = eager.start(_relay(domain, ctx))
    try:
        return await _check(domain, ctx, relay_task)
    finally:
        relay_task.cancel()  # a no-op once done; stops it if this check is cancelled


async def _check(
    domain: DomainSettings, ctx: CheckContext, relay_task: asyncio.Future[_Relay]
) -> RecordResult:
    name = domain.name
    qname = f"{name}."
    outcome = await ctx.query(name, "TXT")
    if isinstance(outcome, Failure):
        details = {**_details(None, None, None), "relay": []}
        return unknown_result("spf", qname, "TXT", outcome, **details)
    records = tuple(outcome.texts()) if isinstance(outcome, Answer) else ()
    # Parsing works on the raw bytes (undecodable ones kept as surrogates, so they are
    # rejected as non-ASCII); `records` keep SPEC §3's \xNN form for display.
    raw = outcome.raw_texts if isinstance(outcome, Answer) else ()
    spf = [(shown, text) for shown, text in zip(records, raw, strict=True) if is_spf_record(text)]
    verdict = Verdict()
    tree: TreeNode | None = None  # the published record's tree (one record only)
    draft_tree: TreeNode | None = None  # the tree of the record the fix starts from
    record_text: str | None = None
    draft_text: str | None = None
    merge_steps: list[str] = []
    broken = [text for text in raw if looks_like_spf(text)] if not spf else []
    if broken:
        # Meant as SPF, broken only in its form (quotes, spaces, misspellings): receivers
        # see no SPF record, but the fix corrects the form and keeps every sender.
        _broken_form(verdict, name, broken[0])
        draft_text = broken[0]
        repaired = repair_form(draft_text)
        assert repaired is not None  # looks_like_spf said so
        draft_tree = await walk_tree(ctx, name, repaired.text, parse_lenient(repaired.text)[0])
    elif not spf:
        _missing(verdict, name, outcome, records)
    elif len(spf) > 1:
        verdict.add(
            Severity.FAIL,
            "spf.multiple-records",
            f"{name} has {len(spf)} SPF records; receivers treat more than one as a permerror, "
            "so SPF fails for all mail.",
            "RFC 7208 §4.5",
        )
        draft_text, merge_steps = merge_records([text for _, text in spf])
        merge_steps.insert(
            0,
            f"Delete the {len(spf)} SPF records of {name} and publish one record holding the "
            "senders of all of them (below).",
        )
        draft_tree = await walk_tree(ctx, name, draft_text, parse_lenient(draft_text)[0])
    else:
        record_text, draft_text = spf[0]
        parsed = judge_syntax(verdict, draft_text)
        judge_size(verdict, draft_text)
        tree = draft_tree = await walk_tree(ctx, name, record_text, parsed)
        judge_tree(verdict, tree, parsed)
        for item in find_redundant(draft_of(name, draft_text), tree):
            verdict.add(
                Severity.INFO,
                item.code,
                f"{item.why}: it authorizes nobody the rest of the record does not already "
                "authorize. Removing it is the smallest edit when the record needs one.",
                "RFC 7208 §4.6.4",
            )
    relay = await relay_task
    needs = _judge_relay(verdict, domain, relay, tree, draft_tree)
    status = verdict.status()
    if status == Status.UNKNOWN:
        # A proposal built on a partial tree could add an include that is already there.
        fix: Fix | None = Fix(
            (
                "Nothing to change yet: some DNS answers could not be had (see the findings). "
                "esm-tui asks again on the next check.",
            )
        )
    else:
        fix = await _fix(ctx, name, draft_text, merge_steps, draft_tree, needs)
    return RecordResult(
        check="spf",
        status=status,
        summary=_summary(status, len(spf), tree, relay, {f.code for f in verdict.findings}),
        query_name=qname,
        query_type="TXT",
        records=records,
        ttl=outcome.ttl if isinstance(outcome, Answer) else None,
        findings=tuple(verdict.findings),
        fix=fix,
        details={**_details(record_text, tree, relay.authorized), "relay": relay.to_json()},
    )


def _details(record: str | None, tree: TreeNode | None, authorized: bool | None) -> dict[str, Any]:
    return {
        "record": record,
        "dns_lookups": tree.total_lookups if tree else 0,
        "void_lookups": tree.total_void_lookups if tree else 0,
        "all": effective_all(tree) if tree else None,
        "includes": reached_domains(tree) if tree else [],
        "relay_authorized": authorized,
        "tree": tree.to_json() if tree else None,
    }


def _broken_form(verdict: Verdict, name: str, text: str) -> None:
    repaired = repair_form(text)
    what = repaired.steps[0] if repaired and repaired.steps else "its form is broken"
    verdict.add(
        Severity.FAIL,
        "spf.broken-form",
        f"No valid SPF record: the TXT record {quote(text)} was meant as one, but receivers "
        f"do not read it as SPF ({what}). The fix writes the same senders in the valid form.",
        "RFC 7208 §4.5",
    )


def _missing(verdict: Verdict, name: str, outcome: object, records: tuple[str, ...]) -> None:
    if isinstance(outcome, NxDomain):
        why = f"{name} does not exist (NXDOMAIN)"
    elif records:
        why = f"none of the {len(records)} TXT records at {name} starts with 'v=spf1'"
    else:
        why = f"{name} has no TXT records"
    verdict.add(
        Severity.FAIL,
        "spf.missing",
        f"No SPF record: {why}. Receivers get SPF 'none' and cannot tell your mail from forgeries.",
        "RFC 7208 §4.5",
    )


@functools.lru_cache(maxsize=64)
def _relay_jobs(
    spf_ips: tuple[str, ...],
) -> tuple[tuple[tuple[str, IpAddress], ...], tuple[str, ...]]:
    """(entry, address) to evaluate for each spf_ips entry (a network's first and last
    address), and the entries that are no address: the same for every domain sharing the
    [relay] list, so worked out once (addresses included: check_host takes them parsed)."""
    jobs: list[tuple[str, IpAddress]] = []
    invalid: list[str] = []
    for entry in spf_ips:
        try:
            network = ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            invalid.append(entry)
            continue
        for address in dict.fromkeys((network[0], network[-1])):
            jobs.append((entry, address))
    return tuple(jobs), tuple(invalid)


async def _relay(domain: DomainSettings, ctx: CheckContext) -> _Relay:
    jobs, invalid = _relay_jobs(tuple(domain.spf_ips))
    relay = _Relay(invalid=list(invalid))
    sender = f"postmaster@{domain.name}"
    results = await eager.gather(
        *(check_host(address, domain.name, sender, domain.name, ctx) for _, address in jobs)
    )
    relay.checks = [(entry, result) for (entry, _), result in zip(jobs, results, strict=True)]
    return relay


def _judge_relay(
    verdict: Verdict,
    domain: DomainSettings,
    relay: _Relay,
    tree: TreeNode | None,
    draft_tree: TreeNode | None,
) -> RelayNeeds:
    """Relay findings; `tree` is the published record's (None when there is not exactly
    one record: that failure already says it all), `draft_tree` the fix's starting point."""
    for entry in relay.invalid:
        verdict.add(
            Severity.WARN,
            "spf.invalid-relay-address",
            f"spf_ips entry {quote(entry)} is not an IP address or network; it was skipped.",
            "RFC 7208 §5.6",
        )
    for entry, result in relay.checks:
        _judge_relay_result(verdict, entry, result)
    wanted = tuple(dict.fromkeys(n.lower().rstrip(".") for n in domain.spf_include))
    if tree is not None:
        found = reached(tree)
        for name in wanted:
            if name in found:
                continue
            verdict.add(
                Severity.FAIL,
                "spf.relay-include-missing",
                f"include:{name} (the relay's, [relay] spf_include) is not reached through "
                "the record's include/redirect tree, so receivers do not know the relay may "
                "send for this domain.",
                "RFC 7208 §5.2",
                definite=not tree.incomplete,
            )
    reached_by_draft = reached(draft_tree) if draft_tree is not None else set()
    return RelayNeeds(
        includes=wanted,
        missing_includes=tuple(n for n in wanted if n not in reached_by_draft),
        # Only the entries that are addresses: the fix writes them as ip4:/ip6: terms.
        ips=tuple(e.strip() for e in domain.spf_ips if e not in relay.invalid),
        failing=relay.failures(),
    )


def _judge_relay_result(verdict: Verdict, entry: str, result: SpfResult) -> None:
    if result.result == "pass":
        return
    if result.result == "temperror":
        verdict.incomplete = True
        verdict.add(
            Severity.WARN,
            "spf.relay-unverified",
            f"Relay address {result.ip} ({entry}) could not be evaluated: temperror "
            f"({result.reason}).",
            "RFC 7208 §2.6.6",
            definite=False,
        )
        return
    decided = " → ".join(result.chain) or "no term matched"
    verdict.add(
        Severity.FAIL,
        "spf.relay-not-authorized",
        f"Relay address {result.ip} ({entry}) gets {result.result} from check_host, not "
        f"pass: decided by {decided} ({result.reason}). Mail through the relay fails SPF.",
        "RFC 7208 §4",
    )


async def _fix(
    ctx: CheckContext,
    name: str,
    text: str | None,
    merge_steps: list[str],
    tree: TreeNode | None,
    needs: RelayNeeds,
) -> Fix | None:
    if text is None:
        if await _null_mx(ctx, name):
            return fix_no_mail(name, fix_missing(name, needs))
        return fix_missing(name, needs)
    # The cost of each include the fix adds, so the lookup budget accounts for it.
    relay_trees = {n: await walk_target(ctx, name, n) for n in needs.missing_includes}
    proposed = fix_record(name, text, tree, needs, relay_trees)
    if not merge_steps:
        return proposed
    if proposed is None or proposed.record is None:
        return Fix(tuple(merge_steps), FixRecord(f"{name}.", "TXT", text))
    return Fix((*merge_steps, *proposed.steps[1:]), proposed.record)


async def _null_mx(ctx: CheckContext, name: str) -> bool:
    """RFC 7505: `MX 0 .`, the domain receives no mail (the MX check's answer, cached)."""
    outcome = await ctx.query(name, "MX")
    if not isinstance(outcome, Answer):
        return False
    hosts = [r.exchange for r in outcome.rdatas]  # type: ignore[attr-defined]
    return len(hosts) == 1 and hosts[0].labels == (b"",)


def _summary(
    status: Status, count: int, tree: TreeNode | None, relay: _Relay, codes: set[str]
) -> str:
    if count == 0:
        return "no SPF record"
    if count > 1:
        return f"{count} SPF records (permerror)"
    parts = []
    if tree is not None:
        parts = [effective_all(tree) or "no all", f"{tree.total_lookups}/{MAX_LOOKUPS} lookups"]
    if relay.authorized is True and "spf.relay-include-missing" in codes:
        # The addresses pass, but the include the relay asks for is missing: "relay
        # authorized" beside that failure read as a contradiction.
        parts.append("relay addresses pass, its include missing")
    elif relay.authorized is True:
        parts.append("relay authorized")
    elif relay.authorized is False:
        parts.append("relay NOT authorized")
    if status == Status.UNKNOWN:
        parts.append("some lookups failed")
    return ", ".join(parts)
