"""Judging an SPF record and its tree by SPEC §4: the findings, and whether each holds.

A finding is "definite" when it holds whatever an unanswered query would have said (a
syntax error, +all, a count already over the limit); the card is `unknown` only when the
tree is incomplete and no definite failure stands.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from esm_tui.model import Finding, Severity, Status, status_from_findings
from esm_tui.spf.errors import quote
from esm_tui.spf.evaluate import MAX_LOOKUPS, MAX_VOID_LOOKUPS
from esm_tui.spf.parse import SpfRecord, parse_lenient
from esm_tui.spf.tree_model import TreeNode

CODES: dict[str, str] = {
    "spf.missing": "No SPF (v=spf1) TXT record at the domain.",
    "spf.duplicate-include": "The same include twice in the record (info; the fix removes "
    "it first).",
    "spf.redundant-include": "An include another include of the record already reaches "
    "(info; removed before anything is flattened).",
    "spf.covered-range": "An ip4/ip6 range inside another range of the record (info).",
    "spf.broken-form": "A TXT record meant as SPF but broken in its form (quote characters, "
    "spaces inside terms, a misspelt version or mechanism): receivers see no SPF record; "
    "the fix keeps every sender.",
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
    "spf.record-size": "The record is over the 450 bytes RFC 7208 §3.4 recommends (UDP).",
}


@dataclass
class Verdict:
    """Findings, each marked whether it holds whatever an unanswered query would have said."""

    findings: list[Finding] = field(default_factory=list)
    definite: list[bool] = field(default_factory=list)
    incomplete: bool = False
    #: (code, message) of the findings so far: a duplicate is dropped by a set lookup, not
    #: a scan of every finding (a record of 30,000 bad terms made that quadratic).
    _said: set[tuple[str, str]] = field(default_factory=set, repr=False)

    def add(
        self, severity: Severity, code: str, message: str, ref: str, definite: bool = True
    ) -> None:
        assert code in CODES, code
        if (code, message) in self._said:
            return
        self._said.add((code, message))
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


def judge_syntax(verdict: Verdict, text: str) -> SpfRecord:
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


def effective_all(tree: TreeNode) -> str | None:
    """The all that decides unmatched mail: the record's own, else its redirect target's."""
    node: TreeNode | None = tree
    while node is not None:
        if node.all is not None:
            return node.all
        node = next(
            (c for c in node.children if c.via and c.via.lower().startswith("redirect=")), None
        )
    return None


def reached_domains(tree: TreeNode) -> list[str]:
    seen: list[str] = []
    for node in tree.nodes():
        if node.via is not None and node.domain not in seen:
            seen.append(node.domain)
    return seen


def reached(tree: TreeNode) -> set[str]:
    """Domains reached through include/redirect whose records could be read."""
    return {n.domain for n in tree.nodes() if n.via is not None}


def judge_tree(verdict: Verdict, tree: TreeNode, record: SpfRecord) -> None:
    for node in tree.nodes():
        for error in node.errors:
            if not error.definite:
                # A DNS failure or a walk cut short: without a definite failure, unknown.
                verdict.incomplete = True
            verdict.add(error.severity, error.code, error.message, error.ref, error.definite)
    _judge_all(verdict, tree, record)
    _judge_ptr(verdict, tree, record)
    _judge_counts(verdict, tree)


def _judge_all(verdict: Verdict, tree: TreeNode, record: SpfRecord) -> None:
    first_all = record.all
    effective = effective_all(tree)
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


def _judge_ptr(verdict: Verdict, tree: TreeNode, record: SpfRecord) -> None:
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


def _judge_counts(verdict: Verdict, tree: TreeNode) -> None:
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
        names = [c.term for n in tree.nodes() for c in n.terms if c.void]
        names += [n.via for n in tree.nodes() if n.target_void and n.via]
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
