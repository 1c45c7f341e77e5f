"""The include/redirect tree of an SPF record, walked as an evaluation that matches nothing.

Such an evaluation visits every mechanism up to the first `all` (which always matches, so
nothing after it is ever evaluated, §5.1), descends into every include, and follows the
redirect only when there is no `all` (§6.1). Each node counts its own DNS-querying terms
(§4.6.4) and void lookups, so an admin sees which branch eats the budget (tree_model.py
says how they are counted). Address mechanisms are resolved now, so that an over-limit
include can be replaced by the ranges it stands for (see fix.py).

A hostile tree is bounded: one walk follows at most MAX_NODES records, asks at most
MAX_QUERIES names, parses at most MAX_TEXT characters of records, and goes no deeper than
MAX_LOOKUPS includes; where it stops, the node says so (spf.tree-truncated).
"""

from __future__ import annotations

import ipaddress

import dns.name

from esm_tui.dns import Answer, Failure, NoData, NxDomain, Outcome, describe, eager
from esm_tui.model import Severity
from esm_tui.spf.errors import SpfSyntaxError, quote
from esm_tui.spf.evaluate import MAX_LOOKUPS
from esm_tui.spf.macros import MacroEnv, MacroString, expand, presentation, query_name
from esm_tui.spf.mechanisms import MAX_NAMES, Resolver
from esm_tui.spf.parse import Mechanism, Modifier, SpfRecord, is_spf_record, parse_spf
from esm_tui.spf.tree_model import TermCost, TreeError, TreeNode

#: The labels of the root name: a null MX (RFC 7505) names it.
_ROOT = dns.name.root.labels

#: Macro letters whose value is known without a message: the domain itself (d) and, for
#: mail from this domain, the sender's domain (o). Everything else depends on the message.
STATIC_LETTERS = frozenset("do")
#: Stop descending after this many records: a real evaluation stops at 10 lookups anyway,
#: and a hostile tree must not make one check ask thousands of names.
MAX_NODES = 60
#: Queries one walk may ask. A counted term asks at most 1 + 2 × MAX_NAMES (an mx: its MX,
#: then A and AAAA of up to 10 hosts), so a tree within the 10-lookup limit needs at most
#: 210; once more were asked the tree is over the limit whatever the rest would answer.
#: Without this, 60 records of 500 mx terms each made one check ask ~20,000 names.
MAX_QUERIES = 256
#: Characters of included/redirected records one walk parses. A TXT record holds up to
#: ~64 KiB and parsing one takes ~0.1 s of CPU: 60 of them stalled the event loop (and so
#: every other query in flight) for seconds. No real tree comes near this.
MAX_TEXT = 128 * 1024


async def walk_tree(
    resolver: Resolver, domain: str, record_text: str, record: SpfRecord
) -> TreeNode:
    """The tree below `domain`'s (already fetched and parsed) record."""
    walker = _Walker(resolver, domain)
    root = TreeNode(_plain(domain), record=record_text, parsed=record)
    await walker.fill(root, record, (root.domain,))
    return root


async def walk_target(resolver: Resolver, domain: str, target: str) -> TreeNode:
    """The branch an `include:target` added to `domain`'s record would cost (for fixes)."""
    walker = _Walker(resolver, domain)
    return await walker.child(f"include:{target}", "+", "include", _plain(target), (domain,))


def _untargeted(spec: MacroString | None) -> str:
    """Why a term's target was not looked up."""
    if spec is not None and not spec.letters <= STATIC_LETTERS:
        return "target depends on the message (macros); not resolvable ahead"
    return "target is not a valid DNS name: it never matches"


def _plain(name: str) -> str:
    return name.lower().rstrip(".")


class _Walker:
    def __init__(self, resolver: Resolver, domain: str) -> None:
        self.resolver = resolver
        self.domain = _plain(domain)
        self.nodes = 1
        self.queries = 0
        self.text = 0
        #: Why branches were cut short ("queries", "text", "depth"): each is said once.
        self.cuts: set[str] = set()

    async def fill(self, node: TreeNode, record: SpfRecord, path: tuple[str, ...]) -> None:
        """Cost the record's terms as a no-match evaluation meets them, then its redirect."""
        reached: list[Mechanism] = []
        for mechanism in record.mechanisms:
            if mechanism.name == "all":
                node.all = mechanism.qualifier + "all"
                if mechanism.qualifier == "+":
                    node.flattenable = False  # an include of it matches every address
                break
            reached.append(mechanism)
        # ip4/ip6 terms ask nothing: taken here, in order, not as tasks (a task costs more
        # than such a term, and provider records are mostly addresses).
        lookups = [m for m in reached if not self.address(node, m)]
        if len(lookups) == 1:
            results = [await self.term(node, lookups[0], path)]
        else:
            results = await eager.gather(*(self.term(node, m, path) for m in lookups))
        node.children.extend(child for child in results if child is not None)
        redirect = record.redirect
        if redirect is not None and node.all is None:
            child = await self.follow(node, redirect, path)
            if child is not None:
                node.children.append(child)

    def address(self, node: TreeNode, mechanism: Mechanism) -> bool:
        """Take an ip4/ip6 term into the node; False for any other term."""
        if mechanism.name not in ("ip4", "ip6"):
            return False
        if mechanism.qualifier == "+" and mechanism.network is not None:
            node.ranges.append(mechanism.network)
        elif mechanism.qualifier != "+":
            node.flattenable = False
        return True

    async def term(
        self, node: TreeNode, mechanism: Mechanism, path: tuple[str, ...]
    ) -> TreeNode | None:
        if self.address(node, mechanism):
            return None
        if mechanism.qualifier != "+":
            node.flattenable = False
        if mechanism.name == "include":
            return await self.follow(node, mechanism, path)
        cost = TermCost(mechanism.text)
        node.terms.append(cost)
        node.lookups += 1
        target = await self.target(node, mechanism.domain_spec)
        if target is None:
            node.flattenable = False
            cost.note = _untargeted(mechanism.domain_spec)
            spec = mechanism.domain_spec
            if spec is not None and spec.letters <= STATIC_LETTERS:
                node.errors.append(self.bad_name(mechanism))
            return None
        if mechanism.name == "ptr":
            node.flattenable = False
            cost.note = "matches by the connecting address's reverse DNS; not resolvable ahead"
        elif mechanism.name == "exists":
            node.flattenable = False
            cost.void = await self.is_void(node, mechanism, target, ("A",))
        elif mechanism.name == "a":
            cost.void = await self.addresses(node, mechanism, target, cost, void_check=True)
        else:
            cost.void = await self.mx(node, mechanism, target, cost)
        if cost.void:
            node.void_lookups += 1
        return None

    def bad_name(self, mechanism: Mechanism) -> TreeError:
        return TreeError(
            "spf.invalid-target",
            Severity.WARN,
            f"{quote(mechanism.text)}: the target is not a valid DNS name (an empty or "
            "over-long label), so the mechanism can never match",
            "RFC 7208 §4.8",
        )

    async def target(self, node: TreeNode, spec: MacroString | None) -> str | None:
        if spec is None:
            return node.domain
        if not spec.letters <= STATIC_LETTERS:
            return None
        if spec.is_static:  # no macro at all (nearly every include): the text is the name
            name = query_name(spec.literal())
            return name.lower() if name else None
        env = MacroEnv(
            f"postmaster@{self.domain}",
            node.domain,
            ipaddress.IPv4Address(0),
            self.domain,
        )
        name = query_name(await expand(spec, env))
        return name.lower() if name else None

    async def query(
        self,
        node: TreeNode,
        name: str | dns.name.Name,
        rdtype: str,
        term: str,
        *,
        counts: bool = True,
    ) -> Outcome:
        """Ask; a failure makes the tree incomplete when the counts depend on the answer
        (`counts`), else it only stops the branch from being written as fixed ranges."""
        text = name.to_text(True) if isinstance(name, dns.name.Name) else presentation(name)
        if self.queries >= MAX_QUERIES:
            return self.over_budget(node, text, rdtype, term)
        self.queries += 1
        outcome = await self.resolver.query(text, rdtype)
        if isinstance(outcome, Failure):
            node.flattenable = False
            if not counts:
                return outcome
            node.errors.append(
                TreeError(
                    "spf.dns-failure",
                    Severity.WARN,
                    f"{term}: could not get {rdtype} {name}: {describe(outcome)}",
                    "RFC 7208 §4.6.4",
                    definite=False,
                )
            )
        return outcome

    def over_budget(self, node: TreeNode, name: str, rdtype: str, term: str) -> Failure:
        """Not asked: the walk spent its query budget.

        Not a DNS failure: the tree is already over the lookup limit (see MAX_QUERIES), so
        the verdict stands; only the counts become lower bounds."""
        self.cut(
            node,
            "queries",
            Severity.INFO,
            f"{quote(term)} and later terms were not resolved: the walk stopped after "
            f"{MAX_QUERIES} DNS queries, far past what {MAX_LOOKUPS} lookups can need; "
            "the counts shown are lower bounds",
        )
        return Failure(name, rdtype, f"not asked: more than {MAX_QUERIES} queries in one walk")

    def cut(self, node: TreeNode, why: str, severity: Severity, message: str) -> None:
        """A branch the walk does not follow: said once per reason, not once per branch.

        definite=False: the counts are lower bounds, so without a definite failure the
        card is unknown rather than a possibly false green."""
        node.flattenable = False
        if why in self.cuts:
            return
        self.cuts.add(why)
        node.errors.append(
            TreeError("spf.tree-truncated", severity, message, "RFC 7208 §4.6.4", definite=False)
        )

    async def is_void(
        self, node: TreeNode, mechanism: Mechanism, name: str, rdtypes: tuple[str, ...]
    ) -> bool:
        outcomes = [await self.query(node, name, t, mechanism.text) for t in rdtypes]
        return all(isinstance(o, (NxDomain, NoData)) for o in outcomes)

    async def addresses(
        self,
        node: TreeNode,
        mechanism: Mechanism,
        name: str | dns.name.Name,
        cost: TermCost,
        *,
        void_check: bool,
    ) -> bool:
        """Resolve A and AAAA of `name` into the node's ranges; True when both are empty
        (a void lookup for an a-term whichever family the client has)."""
        # An a-term's void count depends on these answers; an mx host's lookups are not
        # counted (§4.6.4), so their failure does not leave the counts incomplete.
        v4, v6 = await eager.gather(
            self.query(node, name, "A", mechanism.text, counts=void_check),
            self.query(node, name, "AAAA", mechanism.text, counts=void_check),
        )
        for outcome, length, width in ((v4, mechanism.cidr4, 32), (v6, mechanism.cidr6, 128)):
            if isinstance(outcome, Failure):
                cost.resolved = False
                if not void_check:
                    cost.note = f"could not resolve {name}: {describe(outcome)}"
            if isinstance(outcome, Answer) and mechanism.qualifier == "+":
                for rdata in outcome.rdatas:
                    prefix = width if length is None else length
                    network = ipaddress.ip_network(f"{rdata.address}/{prefix}", strict=False)
                    node.ranges.append(network)
                    cost.ranges.append(network)
        return void_check and all(isinstance(o, (NxDomain, NoData)) for o in (v4, v6))

    async def mx(self, node: TreeNode, mechanism: Mechanism, name: str, cost: TermCost) -> bool:
        outcome = await self.query(node, name, "MX", mechanism.text)
        if isinstance(outcome, Failure):
            cost.resolved = False
        if not isinstance(outcome, Answer):
            return not isinstance(outcome, Failure)
        if len(outcome.rdatas) > MAX_NAMES:
            cost.resolved = False
            node.errors.append(
                TreeError(
                    "spf.mx-too-many",
                    Severity.FAIL,
                    f"{quote(mechanism.text)}: {name} has {len(outcome.rdatas)} MX records; "
                    f"more than {MAX_NAMES} makes the mx mechanism a permerror",
                    "RFC 7208 §4.6.4",
                )
            )
            return False
        hosts = [r.exchange for r in outcome.rdatas if r.exchange.labels != _ROOT]
        await eager.gather(
            *(self.addresses(node, mechanism, h, cost, void_check=False) for h in hosts)
        )
        return False

    async def follow(
        self, node: TreeNode, term: Mechanism | Modifier, path: tuple[str, ...]
    ) -> TreeNode | None:
        kind = "include" if isinstance(term, Mechanism) else "redirect"
        spec = term.domain_spec if isinstance(term, Mechanism) else term.value
        target = await self.target(node, spec)
        qualifier = term.qualifier if isinstance(term, Mechanism) else "+"
        if target is None:
            cost = TermCost(term.text, note=_untargeted(spec))
            node.terms.append(cost)
            node.lookups += 1
            node.flattenable = False
            if spec is not None and spec.letters <= STATIC_LETTERS:
                node.errors.append(
                    TreeError(
                        f"spf.{kind}-target-missing",
                        Severity.FAIL,
                        f"{quote(term.text)}: the target is not a valid DNS name, "
                        "so the evaluation ends in permerror",
                        "RFC 7208 §5.2" if kind == "include" else "RFC 7208 §6.1",
                    )
                )
            return None
        return await self.child(term.text, qualifier, kind, target, path)

    async def child(
        self, via: str, qualifier: str, kind: str, target: str, path: tuple[str, ...]
    ) -> TreeNode:
        node = TreeNode(target, via=via, via_qualifier=qualifier, lookups=1)
        ref = "RFC 7208 §5.2" if kind == "include" else "RFC 7208 §6.1"
        if target in path:
            chain = " → ".join((*path, target))
            node.errors.append(
                TreeError(
                    "spf.include-loop",
                    Severity.FAIL,
                    f"{quote(via)} loops back to {target} ({chain}): every evaluation "
                    "exceeds the lookup limit and ends in permerror",
                    "RFC 7208 §4.6.4",
                )
            )
            return node
        if len(path) > MAX_LOOKUPS:
            # This include is lookup number len(path) on its own path: the tree is over
            # the limit already. Going deeper would only let a slow (tar-pit) zone hold
            # the check for one more round trip per level.
            self.cut(
                node,
                "depth",
                Severity.INFO,
                f"{quote(via)} was not followed: it is {len(path)} includes deep, over the "
                f"{MAX_LOOKUPS}-lookup limit on that path alone; the counts are lower bounds",
            )
            return node
        self.nodes += 1
        if self.nodes > MAX_NODES:
            node.errors.append(
                TreeError(
                    "spf.tree-truncated",
                    Severity.INFO,
                    f"{quote(via)} not followed: the tree has more than {MAX_NODES} records",
                    "RFC 7208 §4.6.4",
                )
            )
            node.flattenable = False
            return node
        if self.text > MAX_TEXT:
            self.cut_text(node, via)
            return node
        outcome = await self.query(node, target, "TXT", via)
        if isinstance(outcome, Failure):
            return node
        record = self.select(node, outcome, via, kind, ref)
        if record is not None:
            await self.fill(node, record, (*path, target))
        return node

    def cut_text(self, node: TreeNode, via: str) -> None:
        self.cut(
            node,
            "text",
            Severity.WARN,
            f"{quote(via)} and what follows were not evaluated: the records of the "
            f"include/redirect tree add up to more than {MAX_TEXT // 1024} KiB, so the "
            "lookups cannot all be counted",
        )

    def select(
        self, node: TreeNode, outcome: Outcome, via: str, kind: str, ref: str
    ) -> SpfRecord | None:
        if isinstance(outcome, (NxDomain, NoData)):
            node.void_lookups += 1
            node.target_void = True
            what = "does not exist" if isinstance(outcome, NxDomain) else "has no TXT record"
            node.errors.append(self.missing(via, kind, f"{node.domain} {what}", ref))
            return None
        assert isinstance(outcome, Answer)
        texts = outcome.raw_texts
        spf = [t for t in texts if is_spf_record(t)]
        if not spf:
            reason = f"{node.domain} has no v=spf1 record"
            node.errors.append(self.missing(via, kind, reason, ref))
            return None
        node.record = outcome.texts()[texts.index(spf[0])]
        if len(spf) > 1:
            reason = f"{node.domain} has {len(spf)} SPF records"
            node.errors.append(self.invalid(via, kind, reason, "RFC 7208 §4.5"))
            return None
        self.text += len(spf[0])
        if self.text > MAX_TEXT:
            self.cut_text(node, via)
            return None
        try:
            record = parse_spf(spf[0])
        except SpfSyntaxError as exc:
            node.errors.append(self.invalid(via, kind, f"{node.domain}: {exc}", exc.ref))
            return None
        node.parsed = record
        return record

    def missing(self, via: str, kind: str, reason: str, ref: str) -> TreeError:
        return TreeError(
            f"spf.{kind}-target-missing",
            Severity.FAIL,
            f"{quote(via)}: {reason}, so every evaluation that reaches it ends in permerror. "
            "Check this name for a typo, or remove it once nothing sends through it",
            ref,
        )

    def invalid(self, via: str, kind: str, reason: str, ref: str) -> TreeError:
        return TreeError(
            f"spf.{kind}-target-invalid",
            Severity.FAIL,
            f"{quote(via)}: {reason}, so every evaluation that reaches it ends in permerror",
            ref,
        )
