"""The SPF check (RFC 7208): the apex TXT records, the include/redirect tree, relay authorization.

SPEC §4 "SPF": the record is parsed strictly, its tree walked as an evaluation that matches
nothing (lookup and void-lookup counts, loops, missing targets, reachability of the relay's
includes), and every configured relay address evaluated with check_host() as a receiver
would. A query that could not be answered makes the card `unknown` unless a failure that
holds whatever the answer would have been (like `+all`) already makes it `fail`.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from esm_tui.checks.context import CheckContext, unknown_result
from esm_tui.dns import Answer, Failure, NxDomain
from esm_tui.model import (
    DomainSettings,
    Finding,
    Fix,
    FixRecord,
    RecordResult,
    Severity,
    Status,
    status_from_findings,
)
from esm_tui.spf.errors import quote
from esm_tui.spf.evaluate import MAX_LOOKUPS, MAX_VOID_LOOKUPS, SpfResult, check_host
from esm_tui.spf.fix import RelayFailure, RelayNeeds, fix_missing, fix_record, merge_records
from esm_tui.spf.parse import SpfRecord, is_spf_record, parse_lenient
from esm_tui.spf.tree import TreeNode, walk_target, walk_tree

__all__ = ["CODES", "check"]

CODES: dict[str, str] = {
    "spf.missing": "No SPF (v=spf1) TXT record at the domain.",
    "spf.multiple-records": "More than one SPF record at the domain (a permerror).",
    "spf.syntax-error": "The SPF record breaks RFC 7208 syntax (a permerror).",
    "spf.too-many-lookups": "More than 10 DNS-querying terms over the include/redirect tree.",
    "spf.lookups-near-limit": "9 or 10 DNS-querying terms: one edit from the limit.",
    "spf.too-many-void-lookups": "More than 2 lookups in the tree return no records.",
    "spf.include-loop": "An include/redirect leads back to a record already being evaluated.",
    "spf.include-target-missing": "An include target has no SPF record.",
    "spf.redirect-target-missing": "The redirect target has no SPF record.",
    "spf.include-target-invalid": "An include target has several SPF records or a syntax error.",
    "spf.redirect-target-invalid": "The redirect target has several records or a syntax error.",
    "spf.mx-too-many": "An mx term whose name has more than 10 MX records (a permerror).",
    "spf.invalid-target": "A term's target is not a valid DNS name, so it never matches.",
    "spf.plus-all": "+all (or an included +all): every host on the Internet passes.",
    "spf.neutral-all": "?all: mail from unlisted hosts gets neutral.",
    "spf.no-all": "Neither all nor redirect: mail from unlisted hosts gets neutral.",
    "spf.ptr": "The deprecated ptr mechanism is used.",
    "spf.ptr-nested": "An included record uses the deprecated ptr mechanism.",
    "spf.relay-not-authorized": "A relay address (spf_ips) does not get pass from check_host.",
    "spf.relay-unverified": "check_host for a relay address gave temperror (DNS failure).",
    "spf.relay-include-missing": "A spf_include domain is not reached through the tree.",
    "spf.terms-after-all": "Terms after all are never evaluated.",
    "spf.redirect-ignored": "redirect= is ignored because the record has an all mechanism.",
    "spf.unknown-modifier": "An unknown modifier, ignored by receivers.",
    "spf.tree-truncated": "The include tree is too large to walk completely.",
    "spf.dns-failure": "A DNS query the verdict depends on could not be answered.",
    "spf.invalid-relay-address": "A spf_ips entry is not an address or network.",
}


@dataclass
class _Verdict:
    """Findings, each marked whether it holds whatever an unanswered query would have said."""

    findings: list[Finding] = field(default_factory=list)
    definite: list[bool] = field(default_factory=list)
    incomplete: bool = False

    def add(
        self, severity: Severity, code: str, message: str, ref: str, definite: bool = True
    ) -> None:
        assert code in CODES, code
        if any(f.code == code and f.message == message for f in self.findings):
            return
        self.findings.append(Finding(severity, code, message, ref))
        self.definite.append(definite)

    def status(self) -> Status:
        if any(
            f.severity == Severity.FAIL and d
            for f, d in zip(self.findings, self.definite, strict=True)
        ):
            return Status.FAIL
        if self.incomplete:
            return Status.UNKNOWN
        return status_from_findings(self.findings)


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
    name = domain.name
    qname = f"{name}."
    relay_task = asyncio.ensure_future(_relay(domain, ctx))
    outcome = await ctx.query(name, "TXT")
    if isinstance(outcome, Failure):
        relay_task.cancel()
        return unknown_result("spf", qname, "TXT", outcome, **_details(None, None, None))
    records = tuple(outcome.texts()) if isinstance(outcome, Answer) else ()
    # Parsing works on the raw bytes (undecodable ones kept as surrogates, so they are
    # rejected as non-ASCII); `records` keep SPEC §3's \xNN form for display.
    raw = (
        [b"".join(r.strings).decode("utf-8", "surrogateescape") for r in outcome.rdatas]
        if isinstance(outcome, Answer)
        else []
    )
    spf = [(shown, text) for shown, text in zip(records, raw, strict=True) if is_spf_record(text)]
    verdict = _Verdict()
    tree: TreeNode | None = None  # the published record's tree (one record only)
    draft_tree: TreeNode | None = None  # the tree of the record the fix starts from
    record_text: str | None = None
    draft_text: str | None = None
    merge_steps: list[str] = []
    if not spf:
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
        parsed = _parse(verdict, draft_text)
        tree = draft_tree = await walk_tree(ctx, name, record_text, parsed)
        _judge_tree(verdict, tree, parsed)
    relay = await relay_task
    needs = _judge_relay(verdict, domain, relay, tree, draft_tree)
    fix = await _fix(ctx, name, draft_text, merge_steps, draft_tree, needs)
    status = verdict.status()
    return RecordResult(
        check="spf",
        status=status,
        summary=_summary(status, len(spf), tree, relay),
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
        "all": _effective_all(tree) if tree else None,
        "includes": _includes(tree) if tree else [],
        "relay_authorized": authorized,
        "tree": tree.to_json() if tree else None,
    }


def _missing(verdict: _Verdict, name: str, outcome: object, records: tuple[str, ...]) -> None:
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


def _parse(verdict: _Verdict, text: str) -> SpfRecord:
    record, errors = parse_lenient(text)
    for token, error in errors:
        verdict.add(
            Severity.FAIL,
            "spf.syntax-error",
            f"Syntax error at character {error.position + 1} ({quote(token)}): {error.message}. "
            "Any syntax error makes the whole record a permerror.",
            error.ref,
        )
    for modifier in record.unknown_modifiers:
        verdict.add(
            Severity.INFO,
            "spf.unknown-modifier",
            f"Unknown modifier {quote(modifier.text)} is ignored by receivers.",
            "RFC 7208 §6",
        )
    return record


def _effective_all(tree: TreeNode) -> str | None:
    """The all that decides unmatched mail: the record's own, else its redirect target's."""
    node: TreeNode | None = tree
    while node is not None:
        if node.all is not None:
            return node.all
        node = next(
            (c for c in node.children if c.via and c.via.lower().startswith("redirect=")), None
        )
    return None


def _includes(tree: TreeNode) -> list[str]:
    seen: list[str] = []
    for node in tree.nodes():
        if node.via is not None and node.domain not in seen:
            seen.append(node.domain)
    return seen


def _reached(tree: TreeNode) -> set[str]:
    """Domains reached through include/redirect whose records could be read."""
    return {n.domain for n in tree.nodes() if n.via is not None}


def _judge_tree(verdict: _Verdict, tree: TreeNode, record: SpfRecord) -> None:
    for node in tree.nodes():
        for error in node.errors:
            if error.code == "spf.dns-failure":
                verdict.incomplete = True
            verdict.add(error.severity, error.code, error.message, error.ref, error.definite)
    _judge_all(verdict, tree, record)
    _judge_ptr(verdict, tree, record)
    _judge_counts(verdict, tree)


def _judge_all(verdict: _Verdict, tree: TreeNode, record: SpfRecord) -> None:
    first_all = record.all
    effective = _effective_all(tree)
    via = "" if tree.all is not None else " (through the redirect)"
    if effective == "+all":
        verdict.add(
            Severity.FAIL,
            "spf.plus-all",
            f"The record ends in +all{via}: every host on the Internet passes SPF for this domain.",
            "RFC 7208 §5.1",
        )
    elif effective == "?all":
        verdict.add(
            Severity.WARN,
            "spf.neutral-all",
            f"?all{via}: mail from unlisted hosts gets neutral, which receivers treat like no SPF.",
            "RFC 7208 §8.2",
        )
    elif effective is None and record.redirect is None:
        verdict.add(
            Severity.WARN,
            "spf.no-all",
            "The record has neither 'all' nor 'redirect=': unlisted hosts get neutral by default.",
            "RFC 7208 §4.7",
        )
    for node, path in _plus_paths(tree):
        if node is not tree and node.all == "+all" and path:
            verdict.add(
                Severity.FAIL,
                "spf.plus-all",
                f"{quote(path[0])} leads to {node.domain}, which ends in +all: the include "
                "matches every address, so every host passes SPF for this domain.",
                "RFC 7208 §5.2",
            )
    if first_all is not None:
        after = [m.text for m in record.mechanisms if m.position > first_all.position]
        if after:
            verdict.add(
                Severity.INFO,
                "spf.terms-after-all",
                f"Never evaluated, after {first_all.text}: " + " ".join(after),
                "RFC 7208 §5.1",
            )
        if record.redirect is not None:
            verdict.add(
                Severity.INFO,
                "spf.redirect-ignored",
                f"{quote(record.redirect.text)} is ignored because the record has "
                f"{quote(first_all.text)}.",
                "RFC 7208 §6.1",
            )


def _plus_paths(tree: TreeNode) -> list[tuple[TreeNode, list[str]]]:
    """Nodes reached from the root through "+include" / redirect edges only (an included
    +all matters only when the include's own qualifier passes it on)."""
    found: list[tuple[TreeNode, list[str]]] = []
    stack: list[tuple[TreeNode, list[str]]] = [(tree, [])]
    while stack:
        node, path = stack.pop()
        found.append((node, path))
        for child in node.children:
            if child.via_qualifier == "+":
                stack.append((child, [*path, child.via or ""]))
    return found


def _judge_ptr(verdict: _Verdict, tree: TreeNode, record: SpfRecord) -> None:
    for mechanism in record.mechanisms:
        if mechanism.name == "ptr":
            verdict.add(
                Severity.WARN,
                "spf.ptr",
                f"{quote(mechanism.text)} is deprecated: slow, unreliable and skipped by some "
                "receivers; list the addresses with ip4:/ip6: instead.",
                "RFC 7208 §5.5",
            )
    for node in tree.nodes():
        if node is tree or node.parsed is None:
            continue
        for mechanism in node.parsed.mechanisms:
            if mechanism.name == "ptr":
                verdict.add(
                    Severity.INFO,
                    "spf.ptr-nested",
                    f"{node.domain} (reached by {quote(node.via or '')}) uses the deprecated "
                    f"{quote(mechanism.text)}.",
                    "RFC 7208 §5.5",
                )


def _judge_counts(verdict: _Verdict, tree: TreeNode) -> None:
    total = tree.total_lookups
    lower_bound = " at least" if tree.incomplete else ""
    if total > MAX_LOOKUPS:
        verdict.add(
            Severity.FAIL,
            "spf.too-many-lookups",
            f"The record needs{lower_bound} {total} DNS lookups (include, a, mx, ptr, exists, "
            f"redirect over the whole tree); receivers stop at {MAX_LOOKUPS} with a permerror. "
            f"Heaviest: {_heaviest(tree)}.",
            "RFC 7208 §4.6.4",
        )
    elif total >= MAX_LOOKUPS - 1:
        verdict.add(
            Severity.WARN,
            "spf.lookups-near-limit",
            f"The record needs{lower_bound} {total} of the {MAX_LOOKUPS} DNS lookups allowed: "
            f"one more include may break SPF. Heaviest: {_heaviest(tree)}.",
            "RFC 7208 §4.6.4",
            definite=False,
        )
    voids = tree.total_void_lookups
    if voids > MAX_VOID_LOOKUPS:
        names = [c.term for n in tree.nodes() for c in n.terms if c.void] + [
            n.via or n.domain for n in tree.nodes() if n.void_lookups and n.via
        ]
        verdict.add(
            Severity.FAIL,
            "spf.too-many-void-lookups",
            f"{voids} lookups in the tree return no records (limit {MAX_VOID_LOOKUPS}); "
            f"receivers answer permerror. Void: {', '.join(names)}.",
            "RFC 7208 §4.6.4",
        )


def _heaviest(tree: TreeNode) -> str:
    branches = sorted(tree.children, key=lambda c: -c.total_lookups)[:3]
    parts = [f"{c.via} ({c.total_lookups})" for c in branches]
    own = tree.lookups
    if own:
        parts.append(f"the record's own a/mx/ptr/exists terms ({own})")
    return ", ".join(parts) or "the record's own terms"


async def _relay(domain: DomainSettings, ctx: CheckContext) -> _Relay:
    relay = _Relay()
    jobs: list[tuple[str, str]] = []
    for entry in domain.spf_ips:
        try:
            network = ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            relay.invalid.append(entry)
            continue
        for address in dict.fromkeys((network[0], network[-1])):
            jobs.append((entry, str(address)))
    sender = f"postmaster@{domain.name}"
    results = await asyncio.gather(
        *(check_host(address, domain.name, sender, domain.name, ctx) for _, address in jobs)
    )
    relay.checks = [(entry, result) for (entry, _), result in zip(jobs, results, strict=True)]
    return relay


def _judge_relay(
    verdict: _Verdict,
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
        reached = _reached(tree)
        for name in wanted:
            if name in reached:
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
    reached_by_draft = _reached(draft_tree) if draft_tree is not None else set()
    return RelayNeeds(
        includes=wanted,
        missing_includes=tuple(n for n in wanted if n not in reached_by_draft),
        ips=domain.spf_ips,
        failing=relay.failures(),
    )


def _judge_relay_result(verdict: _Verdict, entry: str, result: SpfResult) -> None:
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
        return fix_missing(name, needs)
    # The cost of each include the fix adds, so the lookup budget accounts for it.
    relay_trees = {n: await walk_target(ctx, name, n) for n in needs.missing_includes}
    proposed = fix_record(name, text, tree, needs, relay_trees)
    if not merge_steps:
        return proposed
    if proposed is None or proposed.record is None:
        return Fix(tuple(merge_steps), FixRecord(f"{name}.", "TXT", text))
    return Fix((*merge_steps, *proposed.steps[1:]), proposed.record)


def _summary(status: Status, count: int, tree: TreeNode | None, relay: _Relay) -> str:
    if count == 0:
        return "no SPF record"
    if count > 1:
        return f"{count} SPF records (permerror)"
    parts = []
    if tree is not None:
        parts = [_effective_all(tree) or "no all", f"{tree.total_lookups}/{MAX_LOOKUPS} lookups"]
    if relay.authorized is True:
        parts.append("relay authorized")
    elif relay.authorized is False:
        parts.append("relay NOT authorized")
    if status == Status.UNKNOWN:
        parts.append("some lookups failed")
    return ", ".join(parts)
