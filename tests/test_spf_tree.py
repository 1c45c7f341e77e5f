"""The include/redirect tree: per-node and per-branch lookup and void costs, errors, JSON."""

from __future__ import annotations

import ipaddress

import pytest

from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from esm_tui.dns import Dns
from esm_tui.spf.parse import parse_spf
from esm_tui.spf.tree import walk_target, walk_tree
from esm_tui.spf.tree_model import TreeNode


@pytest.fixture
def zone(records: Records) -> Records:
    records.add_zone("example.com.")
    records.add_zone("example.net.")
    return records


async def _walk(dns: Dns, record: str, domain: str = "example.com") -> TreeNode:
    return await walk_tree(dns, domain, record, parse_spf(record))


def _codes(tree: TreeNode) -> set[str]:
    return {e.code for n in tree.nodes() for e in n.errors}


async def test_costs_per_node_and_branch(zone: Records, dns_server: DnsServer, dns: Dns) -> None:
    zone.add("example.com.", "A", "198.51.100.1")
    zone.add_txt("a.example.net.", "v=spf1 a mx include:b.example.net ~all")
    zone.add("a.example.net.", "A", "203.0.113.1")
    zone.add("a.example.net.", "MX", "10 m1.example.net.", "20 m2.example.net.")
    zone.add("m1.example.net.", "A", "203.0.113.10")
    zone.add("m2.example.net.", "AAAA", "2001:db8::10")
    zone.add_txt("b.example.net.", "v=spf1 exists:%{i}.x.example.net a:void.example.net -all")
    tree = await _walk(dns, "v=spf1 a include:a.example.net ip4:192.0.2.0/24 -all")
    assert (tree.lookups, tree.total_lookups, tree.total_void_lookups) == (1, 7, 1)
    (a,) = tree.children
    assert (a.domain, a.via, a.lookups, a.total_lookups) == (
        "a.example.net",
        "include:a.example.net",
        3,
        6,
    )
    (b,) = a.children
    assert (b.lookups, b.void_lookups, b.total_lookups) == (3, 1, 3)
    assert [(t.term, t.void) for t in b.terms] == [
        ("exists:%{i}.x.example.net", False),
        ("a:void.example.net", True),
    ]
    assert "depends on the message" in b.terms[0].note
    # Resolved now: the addresses each branch stands for (mx hosts' A and AAAA included).
    assert {str(r) for r in a.ranges} == {"203.0.113.1/32", "203.0.113.10/32", "2001:db8::10/128"}
    assert not b.flattenable and not a.subtree_flattenable()
    data = tree.to_json()
    assert data["children"][0]["children"][0]["terms"][1] == {
        "term": "a:void.example.net",
        "lookups": 1,
        "void": True,
    }
    assert {"domain", "via", "record", "all", "lookups", "void_lookups", "total_lookups",
            "total_void_lookups", "terms", "errors", "children"} == set(data)  # fmt: skip
    # Each level's totals in JSON are the branch's (summed from the children's documents).
    level = data
    for node in (tree, a, b):
        assert (level["total_lookups"], level["total_void_lookups"]) == (
            node.total_lookups,
            node.total_void_lookups,
        )
        level = level["children"][0] if level["children"] else level
    assert (data["total_lookups"], data["total_void_lookups"]) == (7, 1)


async def test_walk_stops_at_all_and_follows_redirect_only_without_all(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    zone.add_txt("r.example.net.", "v=spf1 include:deep.example.net -all")
    zone.add_txt("deep.example.net.", "v=spf1 ip4:203.0.113.0/24")
    after_all = await _walk(dns, "v=spf1 ~all include:r.example.net redirect=r.example.net")
    assert (after_all.total_lookups, after_all.children, after_all.all) == (0, [], "~all")
    redirected = await _walk(dns, "v=spf1 ip4:192.0.2.1 redirect=r.example.net")
    (child,) = redirected.children
    assert (child.via, child.total_lookups, child.all) == ("redirect=r.example.net", 2, "-all")
    assert child.subtree_flattenable()
    assert child.subtree_ranges() == [ipaddress.ip_network("203.0.113.0/24")]


@pytest.mark.parametrize(
    ("record", "code", "void"),
    [
        ("v=spf1 include:nx.example.net -all", "spf.include-target-missing", 1),
        ("v=spf1 include:text.example.net -all", "spf.include-target-missing", 0),
        ("v=spf1 redirect=nx.example.net", "spf.redirect-target-missing", 1),
        ("v=spf1 include:two.example.net -all", "spf.include-target-invalid", 0),
        ("v=spf1 include:broken.example.net -all", "spf.include-target-invalid", 0),
        ("v=spf1 include:loop.example.net -all", "spf.include-loop", 0),
        ("v=spf1 include:example.com -all", "spf.include-loop", 0),
        ("v=spf1 mx:many.example.net -all", "spf.mx-too-many", 0),
        ("v=spf1 a:bad..example.net -all", "spf.invalid-target", 0),
    ],
)
async def test_errors(
    zone: Records, dns_server: DnsServer, dns: Dns, record: str, code: str, void: int
) -> None:
    zone.add_txt("text.example.net.", "hello")
    zone.add_txt("two.example.net.", "v=spf1 -all", "v=spf1 ~all")
    zone.add_txt("broken.example.net.", "v=spf1 a:")
    zone.add_txt("loop.example.net.", "v=spf1 include:LOOP.example.net.")
    zone.add("many.example.net.", "MX", *(f"{i} h{i}.example.net." for i in range(11)))
    tree = await _walk(dns, record)
    assert code in _codes(tree)
    assert tree.total_void_lookups == void
    assert not tree.incomplete


async def test_failure_marks_tree_incomplete(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    zone.add_txt("ok.example.net.", "v=spf1 a:slow.example.net -all")
    zone.set_behaviour("slow.example.net.", "drop")
    zone.set_behaviour("gone.example.net.", "servfail")
    tree = await _walk(dns, "v=spf1 include:ok.example.net include:gone.example.net -all")
    assert tree.incomplete
    assert tree.total_lookups == 3  # the known part: a lower bound
    assert not tree.subtree_flattenable()


async def test_macro_targets(zone: Records, dns_server: DnsServer, dns: Dns) -> None:
    zone.add_txt("_spf.example.com.", "v=spf1 ip4:192.0.2.0/24 -all")
    tree = await _walk(dns, "v=spf1 include:_spf.%{d} include:%{ir}.%{v}.dyn.example.net -all")
    resolved, dynamic = tree.children[0], tree.terms[0]
    assert (resolved.domain, resolved.record) == (
        "_spf.example.com",
        "v=spf1 ip4:192.0.2.0/24 -all",
    )
    assert dynamic.term == "include:%{ir}.%{v}.dyn.example.net" and "macros" in dynamic.note
    assert tree.total_lookups == 2


async def test_walk_target(zone: Records, dns_server: DnsServer, dns: Dns) -> None:
    zone.add_txt("relay.example.net.", "v=spf1 a:out.example.net ip4:192.0.2.0/24 -all")
    zone.add("out.example.net.", "A", "192.0.2.200")
    node = await walk_target(dns, "example.com", "relay.example.net")
    assert (node.via, node.total_lookups) == ("include:relay.example.net", 2)


async def test_tree_size_is_bounded(zone: Records, dns_server: DnsServer, dns: Dns) -> None:
    """A hostile fan-out (8 includes per level) must not make one check ask thousands."""
    for level in range(4):
        for i in range(8):
            name = f"l{level}-{i}.example.net."
            nxt = " ".join(f"include:l{level + 1}-{j}.example.net" for j in range(8))
            zone.add_txt(name, f"v=spf1 {nxt}" if level < 3 else "v=spf1 -all")
    record = "v=spf1 " + " ".join(f"include:l0-{j}.example.net" for j in range(8)) + " -all"
    before = sum(dns_server.queries.values())
    tree = await _walk(dns, record)
    assert sum(dns_server.queries.values()) - before <= 80
    assert "spf.tree-truncated" in _codes(tree)
    assert tree.total_lookups > 10


async def test_mx_host_failures_do_not_leave_counts_incomplete(
    zone: Records, dns_server: DnsServer, dns: Dns
) -> None:
    zone.add("example.com.", "MX", "10 slow.example.net.", "20 ok.example.net.")
    zone.add("ok.example.net.", "A", "192.0.2.25")
    zone.set_behaviour("slow.example.net.", "drop")
    tree = await _walk(dns, "v=spf1 mx -all")
    assert not tree.incomplete and tree.total_lookups == 1
    assert not tree.terms[0].resolved and "slow.example.net" in tree.terms[0].note
    assert not tree.subtree_flattenable()  # its ranges are not known completely
