"""Issue 18 item 1, as a property: for any record the checker can read — valid, or broken
only in its form (quotes, a space inside a term, a misspelt mechanism or version) — the
proposed record authorizes every address the published one authorized (or, broken in its
form, was meant to), checked with check_host() over loopback DNS for every address the
record names. `+all` and `ptr` are left out: their fixes remove senders on purpose, with
a finding that says so.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esm_tui.checks.context import CheckContext
from esm_tui.checks.spf import check
from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from esm_tui.dns import Dns
from esm_tui.model import DomainSettings
from esm_tui.spf.evaluate import check_host
from esm_tui.spf.form import repair_form

PROVIDERS = {f"p{k}.example": f"203.0.11{k}.0/24" for k in range(3)}
HOSTS = {f"h{k}.example.com": f"198.51.100.{10 + k}" for k in range(3)}
MX_ADDRESS = "198.51.100.1"

TERM = st.one_of(
    st.builds(lambda q, i: f"{q}ip4:10.{i}.0.0/16", st.sampled_from(["", "~", "?"]),
              st.integers(0, 9)),
    st.builds(lambda i: f"ip4:10.20.{i}.5", st.integers(0, 9)),
    st.sampled_from([f"include:{p}" for p in PROVIDERS]),
    st.sampled_from([f"a:{h}" for h in HOSTS]),
    st.sampled_from(["mx", "a", "-ip4:10.0.0.0/16", "include:gone.example"]),
)  # fmt: skip
ALL = st.sampled_from(["-all", "~all", "?all", ""])
#: How the form may be broken (each keeps the intent readable).
BREAK = st.sampled_from(["none", "quotes", "space", "ipv4", "version"])


def _published(terms: list[str], all_: str, how: str) -> tuple[str, str]:
    """(what is published, what it means): the record broken in its form as `how` says."""
    meant = " ".join(["v=spf1", *terms, *([all_] if all_ else [])])
    if how == "quotes":
        return f'"{meant}"', meant
    if how == "version":
        return meant.replace("v=spf1", "v=spf", 1), meant
    ip4 = next((t for t in terms if t.startswith("ip4:") and "/" in t), None)
    if how == "space" and ip4 is not None:
        return meant.replace(ip4, ip4.replace("/", " /"), 1), meant
    if how == "ipv4" and ip4 is not None:
        return meant.replace(ip4, ip4.replace("ip4:", "ipv4:"), 1), meant
    return meant, meant


def _addresses(terms: list[str]) -> list[str]:
    out = [MX_ADDRESS, "192.0.2.99", *HOSTS.values()]
    out += [cidr.replace(".0/24", ".7") for cidr in PROVIDERS.values()]
    for term in terms:
        body = term.lstrip("+-~?")
        if body.startswith("ip4:"):
            out.append(body[4:].split("/")[0].replace(".0.0", ".3.4"))
    return list(dict.fromkeys(out))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(terms=st.lists(TERM, min_size=1, max_size=6, unique=True), all_=ALL, how=BREAK)
async def test_the_proposed_record_keeps_every_sender(
    records: Records, dns_server: DnsServer, dns: Dns, terms: list[str], all_: str, how: str
) -> None:
    published, meant = _published(terms, all_, how)
    records.remove("example.com.", "TXT")
    records.remove("proposed.example.com.", "TXT")
    records.remove("meant.example.com.", "TXT")
    records.add_txt("example.com.", published)
    records.add_txt("meant.example.com.", _at_other_name(meant))
    dns.clear_cache()
    result = await check(DomainSettings("example.com"), CheckContext(dns))
    if result.fix is None or result.fix.record is None:
        # Nothing proposed: the published record stays as it is (and was meant).
        assert how == "none" or repair_form(published) is None
        return
    proposed = result.fix.record.value
    # Evaluated at another name: `a` and `mx` mean example.com's, as in the published one.
    records.add_txt("proposed.example.com.", _at_other_name(proposed))
    dns.clear_cache()
    for ip in _addresses(terms):
        before = await check_host(ip, "meant.example.com", "x@example.com", "example.com", dns)
        after = await check_host(ip, "proposed.example.com", "x@example.com", "example.com", dns)
        if before.result == "pass":
            assert after.result == "pass", (published, proposed, ip, after.reason)


def _at_other_name(record: str) -> str:
    """The record as published elsewhere: its `a` and `mx` still mean example.com's."""
    return " ".join(
        "a:example.com" if t == "a" else "mx:example.com" if t == "mx" else t
        for t in record.split()
    )


def _zone(records: Records) -> None:
    records.add_zone("example.com.")
    records.add("example.com.", "MX", "10 mx.example.com.")
    records.add("mx.example.com.", "A", MX_ADDRESS)
    records.add("example.com.", "A", "198.51.100.2")
    for host, address in HOSTS.items():
        records.add(f"{host}.", "A", address)
    for provider, cidr in PROVIDERS.items():
        records.add_txt(f"{provider}.", f"v=spf1 ip4:{cidr} -all")
    records.add("gone.example.", "A", "192.0.2.200")  # exists, publishes no SPF


@pytest.fixture
def records(records: Records) -> Records:  # the conftest's store, with this test's zone
    _zone(records)
    return records
