"""Naming the DNS host from the zone's NS records, over the loopback server and the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from esm_tui.checks import check_domain
from esm_tui.checks.context import CheckContext
from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from esm_tui.dns import Dns
from esm_tui.hosts.detect import detect_host
from esm_tui.model import DomainSettings
from esm_tui.propagation import attach_propagation

# A zone per host family, served with the NS records that host really uses.
ZONES = {
    "ovh-zone.example.": (["dns10.ovh.net.", "ns10.ovh.net."], "ovh", "OVHcloud"),
    "gandi-zone.example.": (
        ["ns-12-a.gandi.net.", "ns-34-b.gandi.net.", "ns-56-c.gandi.net."],
        "gandi",
        "Gandi",
    ),
    "cf-zone.example.": (
        ["celeste.ns.cloudflare.com.", "oswald.ns.cloudflare.com."],
        "cloudflare",
        "Cloudflare",
    ),
    "r53-zone.example.": (
        [
            "ns-123.awsdns-45.com.",
            "ns-678.awsdns-12.net.",
            "ns-1024.awsdns-01.org.",
            "ns-1536.awsdns-00.co.uk.",
        ],
        "route53",
        "Amazon Route 53",
    ),
    "google-zone.example.": (
        ["ns-cloud-a1.googledomains.com.", "ns-cloud-a2.googledomains.com."],
        "google",
        "Google Cloud DNS",
    ),
    "azure-zone.example.": (
        ["ns1-01.azure-dns.com.", "ns2-01.azure-dns.net."],
        "azure",
        "Azure DNS",
    ),
    "own-zone.example.": (["ns1.own-zone.example.", "ns2.elsewhere.example."], "other", None),
}


def serve_zones(records: Records) -> None:
    for zone, (nameservers, _, _) in ZONES.items():
        records.add_zone(zone)
        records.add(zone, "NS", *nameservers)
        records.add_txt(zone, "v=spf1 +all", "google-site-verification=abc")
        # Below the apex: a name with data (NODATA for NS) and one without (NXDOMAIN).
        records.add(f"shop.{zone}", "A", "192.0.2.1")
    records.add_zone("broken-ns.example.")
    records.add("broken-ns.example.", "NS", "ns1.broken-ns.example.")
    records.set_behaviour("broken-ns.example.", "servfail", "NS")
    records.add_zone("no-ns.example.")  # a zone whose NS RRset is missing


@pytest.fixture
def zones(records: Records) -> Records:
    serve_zones(records)
    return records


@pytest.mark.parametrize("zone", sorted(ZONES))
@pytest.mark.parametrize("prefix", ["", "shop.", "mail.deep."])
async def test_the_zone_s_host_is_named_from_its_ns(zones, dns: Dns, zone, prefix) -> None:
    nameservers, host_id, name = ZONES[zone]
    found = await detect_host(prefix + zone, CheckContext(dns))
    assert found is not None
    assert (found.id, found.name, found.zone) == (host_id, name, zone)
    assert found.nameservers == tuple(sorted(nameservers))


async def test_unreadable_ns_is_none(zones, dns: Dns) -> None:
    assert await detect_host("broken-ns.example", CheckContext(dns)) is None
    assert await detect_host("no-ns.example", CheckContext(dns)) is None
    # A name no zone holds: the answer's SOA is the root's, and nobody hosts the root.
    assert await detect_host("nowhere.invalid", CheckContext(dns)) is None


async def test_a_dead_resolver_gives_none_not_an_exception() -> None:
    dead = Dns([("127.0.0.1", 9)], timeout=0.2, retries=0)
    assert await detect_host("example.com", CheckContext(dead)) is None


async def test_an_alias_is_in_its_parent_s_zone(zones, dns: Dns) -> None:
    zones.add("alias.ovh-zone.example.", "CNAME", "elsewhere.cf-zone.example.")
    found = await detect_host("alias.ovh-zone.example", CheckContext(dns))
    assert found is not None and (found.id, found.zone) == ("ovh", "ovh-zone.example.")


async def test_detection_costs_one_question_shared_with_propagation(
    zones, dns_server: DnsServer, dns: Dns
) -> None:
    """check_domain asks NS once at the apex; `--propagation` reuses it (same question)."""
    settings = DomainSettings("ovh-zone.example")
    dns_server.queries.clear()
    report = await check_domain(settings, CheckContext(dns))
    assert report.dns_host is not None and report.dns_host.id == "ovh"
    ns_questions = {q: n for q, n in dns_server.queries.items() if q[1] == "NS"}
    assert sum(ns_questions.values()) == 1, ns_questions
    await attach_propagation(report, dns, port=dns_server.server[1])
    ns_questions = {q: n for q, n in dns_server.queries.items() if q[1] == "NS"}
    assert sum(ns_questions.values()) == 1, ns_questions


# -- through the real program ---------------------------------------------------------------


def run_check(server: DnsServer, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[settings]\ntimeout = 0.5\nretries = 0\nnameservers = ["{server.address}"]\n'
        "history = false\n",
        encoding="utf-8",
    )
    env = dict(os.environ)
    return subprocess.run(
        [sys.executable, "-m", "esm_tui", "check", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_check_json_names_ovh_gandi_cloudflare_and_route53_zones(zones, dns_server, tmp_path):
    domains = [z.rstrip(".") for z in ZONES] + ["shop.r53-zone.example", "broken-ns.example"]
    out = run_check(dns_server, tmp_path, "--json", *domains)
    assert out.returncode in (0, 1, 2, 3), out.stderr
    doc = json.loads(out.stdout)
    hosts = {d["domain"]: d["dns_host"] for d in doc["domains"]}
    for zone, (nameservers, host_id, name) in ZONES.items():
        assert hosts[zone.rstrip(".")] == {
            "id": host_id,
            "name": name,
            "nameservers": sorted(nameservers),
            "zone": zone,
        }
    assert hosts["shop.r53-zone.example"]["id"] == "route53"
    assert hosts["shop.r53-zone.example"]["zone"] == "r53-zone.example."
    assert hosts["broken-ns.example"] is None
    # The SPF fix of the OVH zone carries OVHcloud's steps, the zone-file line and strings.
    [ovh] = [d for d in doc["domains"] if d["domain"] == "ovh-zone.example"]
    fix = ovh["checks"]["spf"]["fix"]
    assert "Sub-domain: (leave it empty: the record is for ovh-zone.example)" in fix["host_steps"]
    assert (
        "Edit the existing TXT record of ovh-zone.example that reads: v=spf1 +all"
        in (fix["host_steps"])
    )
    assert fix["zone_line"] == f'ovh-zone.example. 300 IN TXT "{fix["record"]["value"]}"'
    assert fix["txt_strings"] == [fix["record"]["value"]]
    assert fix["host_steps"][-1] == (
        "Verify at an authoritative server (no cache in between): "
        "dig +norecurse @dns10.ovh.net. ovh-zone.example. TXT"
    )
    # Route 53 keeps all TXT of a name in one set: the verification record is retyped.
    [r53] = [d for d in doc["domains"] if d["domain"] == "r53-zone.example"]
    steps = r53["checks"]["spf"]["fix"]["host_steps"]
    assert any(
        s.startswith('Value (one line per record, all of them): "google-site') for s in steps
    )


def test_check_table_names_each_domain_s_host(zones, dns_server, tmp_path) -> None:
    out = run_check(dns_server, tmp_path, "ovh-zone.example", "own-zone.example", "no-ns.example")
    # A wrapped host line continues indented under the host column: join it back.
    text = out.stdout.replace("\n" + " " * 17, " ")
    assert (
        "ovh-zone.example OVHcloud (zone ovh-zone.example., NS dns10.ovh.net., ns10.ovh.net.)"
        in text
    ), out.stdout
    assert "own-zone.example other DNS host (zone own-zone.example., NS" in text
    assert "no-ns.example    unknown (the zone's NS records could not be read)" in text


def test_hostile_ns_names_never_reach_the_terminal_raw(records, dns_server, tmp_path) -> None:
    import dns.name
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype
    import dns.rdtypes.ANY.NS

    records.add_zone("evil.example.")
    target = dns.name.Name((b"\x1b]52;c;ZXZpbA==\x07", b"\x1b[2J", b"evil", b"example", b""))
    rdata = dns.rdtypes.ANY.NS.NS(dns.rdataclass.IN, dns.rdatatype.NS, target)
    records.add_rdtype("evil.example.", dns.rdatatype.NS, rdata)
    records.add_txt("evil.example.", "v=spf1 +all")
    table = run_check(dns_server, tmp_path, "evil.example")
    assert "\x1b" not in table.stdout and "\x07" not in table.stdout
    assert "\\027]52" in table.stdout  # shown escaped, as the zone file writes it
    doc = json.loads(run_check(dns_server, tmp_path, "--json", "evil.example").stdout)
    [entry] = doc["domains"]
    assert entry["dns_host"]["id"] == "other"
    assert all(ns.isascii() and ns.isprintable() for ns in entry["dns_host"]["nameservers"])
    for step in entry["checks"]["spf"]["fix"]["host_steps"]:
        assert step.isprintable() and "\x1b" not in step
