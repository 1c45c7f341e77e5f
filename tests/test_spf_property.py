"""Hostile or random records never crash check_host(), the tree walk or the SPF card."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esm_tui.checks.context import CheckContext
from esm_tui.checks.spf import CODES, check
from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from esm_tui.dns import Dns
from esm_tui.model import DomainSettings
from esm_tui.spf.evaluate import RESULTS, check_host

FRAGMENTS = st.sampled_from(
    [
        "v=spf1 ", " ", "+", "-", "~", "?", "all", "a", "mx", "ptr", "ip4:", "ip6:",
        "include:", "exists:", "redirect=", "exp=", "/24", "//64", "%{d}", "%{i}", "%{p}",
        "%{l2r-}", "%%", ".", "example.com", "loop.example.com", "x.example.com",
        "192.0.2.1", "2001:db8::1", "\x00", "\x1b", "\xff", "é", "a:",
    ]
)  # fmt: skip
RECORD = st.lists(FRAGMENTS, max_size=16).map("".join)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    apex=RECORD, other=RECORD, ip=st.sampled_from(["192.0.2.1", "2001:db8::1", "::ffff:1.2.3.4"])
)
async def test_random_records_never_crash(
    records: Records, dns_server: DnsServer, dns: Dns, apex: str, other: str, ip: str
) -> None:
    records.remove("example.com.")
    records.remove("x.example.com.")
    records.remove("loop.example.com.")
    records.add_txt("example.com.", apex.encode("utf-8", "surrogateescape"))
    records.add_txt("x.example.com.", other)
    records.add_txt("loop.example.com.", "v=spf1 include:example.com " + other)
    records.add("x.example.com.", "A", "192.0.2.1")
    records.add("example.com.", "MX", "10 x.example.com.")
    dns.clear_cache()
    result = await check_host(ip, "example.com", "a@example.com", "example.com", dns)
    assert result.result in RESULTS
    card = await check(
        DomainSettings("example.com", spf_include=("x.example.com",), spf_ips=(ip,)),
        CheckContext(dns),
    )
    assert {f.code for f in card.findings} <= set(CODES)
    card.to_json()
