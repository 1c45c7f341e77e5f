"""The DNS host catalogue (esm_tui/hosts/catalogue.toml): complete, valid, and matching real NS."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from esm_tui.hosts.catalogue import KEYS, CatalogueError, load, match

SPEC_IDS = {
    "ovh",
    "gandi",
    "cloudflare",
    "route53",
    "godaddy",
    "google",
    "azure",
    "ionos",
    "infomaniak",
    "namecheap",
    "digitalocean",
    "hetzner",
    "scaleway",
    "other",
}


def test_the_shipped_catalogue_has_spec_s_hosts_each_complete() -> None:
    hosts = load()
    assert {h.id for h in hosts} >= SPEC_IDS
    assert len({h.id for h in hosts}) == len(hosts)
    assert hosts[-1].id == "other" and not hosts[-1].ns_patterns
    for host in hosts:
        assert host.name.strip() and host.console, host.id
        assert host.sources, f"{host.id}: every host cites where its facts come from"
        assert all(isinstance(p, re.Pattern) for p in host.ns_patterns)
        if host.id != "other":
            assert host.ns_patterns and host.lexicon, host.id
        assert set(host.unverified) <= set(KEYS)


def test_every_key_is_required_in_the_file() -> None:
    text = (resources.files("esm_tui.hosts") / "catalogue.toml").read_text("utf-8")
    tables = text.split("\n[[host]]\n")[1:]
    assert len(tables) >= len(SPEC_IDS)
    for table in tables:
        for key in KEYS:
            assert re.search(rf"^{key} = ", table, re.M), f"{key} missing in {table[:40]!r}"


# Real name servers of each host (from their documentation and public zones), and others.
REAL_NS = [
    ("dns10.ovh.net.", "ovh"),
    ("ns10.ovh.net", "ovh"),
    ("dns200.anycast.me.", "ovh"),
    ("ns-123-a.gandi.net.", "gandi"),
    ("a.dns.gandi.net.", "gandi"),
    ("celeste.ns.cloudflare.com.", "cloudflare"),
    ("OSWALD.NS.CLOUDFLARE.COM", "cloudflare"),
    ("ns-123.awsdns-45.com.", "route53"),
    ("ns-1536.awsdns-00.co.uk.", "route53"),
    ("ns-512.awsdns-64.net.", "route53"),
    ("ns-1024.awsdns-01.org.", "route53"),
    ("ns21.domaincontrol.com.", "godaddy"),
    ("ns-cloud-a1.googledomains.com.", "google"),
    ("ns-cloud-e4.googledomains.com.", "google"),
    ("ns1-01.azure-dns.com.", "azure"),
    ("ns4-01.azure-dns.info.", "azure"),
    ("ns1045.ui-dns.de.", "ionos"),
    ("ns11.infomaniak.ch.", "infomaniak"),
    ("dns1.registrar-servers.com.", "namecheap"),
    ("ns1.digitalocean.com.", "digitalocean"),
    ("hydrogen.ns.hetzner.com.", "hetzner"),
    ("helium.ns.hetzner.de.", "hetzner"),
    ("robotns3.second-ns.com.", "hetzner"),
    ("ns0.dom.scw.cloud.", "scaleway"),
    ("ns1.example.net.", "other"),
    # Look-alikes that are not the host's: the patterns are anchored.
    ("ovh.net.evil.example.", "other"),
    ("ns-123.awsdns-45.com.evil.example.", "other"),
    ("notovh.net.", "other"),
    ("cloudflare.com.", "other"),
]


@pytest.mark.parametrize(("ns", "host"), REAL_NS)
def test_real_name_servers_name_their_host(ns: str, host: str) -> None:
    assert match([ns]).id == host


def test_the_host_most_name_servers_belong_to_wins() -> None:
    assert match(["ns1.example.net.", "dns10.ovh.net.", "ns10.ovh.net."]).id == "ovh"
    mixed = ["celeste.ns.cloudflare.com.", "ns-1.awsdns-1.com.", "ns-2.awsdns-2.net."]
    assert match(mixed).id == "route53"


VALID = """
[[host]]
id = "x"
name = "X"
ns_patterns = ['\\.x\\.example$']
lexicon = "x"
console = ["Open {zone}."]
name_field = "Name"
name_style = "relative"
apex = "@"
value_field = "Value"
txt_quotes = "none"
txt_long = "auto"
txt_max = 0
record_sets = false
target_dot = true
min_ttl = 60
pitfalls = []
unverified = []
sources = ["https://x.example"]

[[host]]
id = "other"
name = "Zone file"
ns_patterns = []
lexicon = ""
console = ["Edit it."]
name_field = "owner"
name_style = "fqdn"
apex = "@"
value_field = "RDATA"
txt_quotes = "required"
txt_long = "strings"
txt_max = 0
record_sets = false
target_dot = true
min_ttl = 0
pitfalls = []
unverified = []
sources = []
"""


def test_a_valid_catalogue_loads() -> None:
    hosts = load(VALID)
    assert [h.id for h in hosts] == ["x", "other"]
    assert hosts[0].matches("NS1.X.EXAMPLE.")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("min_ttl = 60", ""), "missing keys ['min_ttl']"),
        (('lexicon = "x"', 'lexicon = "x"\ncolour = 1'), "unknown keys ['colour']"),
        (("ns_patterns = ['\\.x\\.example$']", "ns_patterns = ['(']"), "ns_patterns '('"),
        (('id = "x"', 'id = "other"'), "duplicate host ids ['other']"),
        (('txt_long = "auto"', 'txt_long = "split"'), "txt_long must be one of"),
        (('apex = "@"', 'apex = "root"'), "apex must be one of"),
        (("min_ttl = 60", "min_ttl = -1"), "min_ttl must be a whole number"),
        (("record_sets = false", 'record_sets = "no"'), "record_sets must be true or false"),
        (("unverified = []", 'unverified = ["colour"]'), "unverified names unknown keys"),
        (('id = "x"', 'id = "X Y"'), "id must be lower-case"),
    ],
)
def test_a_broken_catalogue_is_refused_with_the_host_and_key(change, message) -> None:
    old, new = change
    assert old in VALID
    with pytest.raises(CatalogueError, match=re.escape(message)):
        load(VALID.replace(old, new, 1))


def test_a_catalogue_without_other_or_hosts_is_refused() -> None:
    with pytest.raises(CatalogueError, match="no host with id 'other'"):
        load(VALID.split('[[host]]\nid = "other"')[0])
    with pytest.raises(CatalogueError, match="no \\[\\[host\\]\\] tables"):
        load("")
    with pytest.raises(CatalogueError, match=r"catalogue\.toml"):
        load("[[host]\n")
