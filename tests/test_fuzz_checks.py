"""The five checks fed random zones from the loopback server: no exception escapes a check.

Each example publishes random (often hostile) TXT records at the apex, `_dmarc`, the DKIM
selector and `default._bimi`, a random MX set (null MX, IP-like targets, aliases, CNAME
loops, names that do not exist), random addresses, and makes random names misbehave
(SERVFAIL, REFUSED, FORMERR, garbage, answers to another question). Every check module's
`check()` is called directly, so a crash is a test failure rather than check_domain's
`<check>.internal-error` card. Then the invariants every result must keep.
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.MX
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esm_tui.checks import registry
from esm_tui.checks.context import CheckContext
from esm_tui.codes import COMMON
from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from esm_tui.dns import Dns
from esm_tui.model import CHECK_NAMES, DomainReport, DomainSettings, RecordResult, Status
from esm_tui.report import render_table

D = "fuzz.example"
SELECTOR = "esm"
KEY = base64.b64encode(
    ed25519.Ed25519PrivateKey.generate()
    .public_key()
    .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
).decode()

_HOSTILE = [b"\x00", b"\x1b[2J", b"\x1b]52;c;eA==\x07", b"\x85", b"\xc2\x9b", b"\xff",
            b"\xe2\x80\xae", b"[bold]", b"[/x]", b"[@click=app.quit]", b"\t", b"\r\n", b";",
            b"=", b" ", "é".encode()]  # fmt: skip

FRAGMENTS = {
    "spf": [b"v=spf1 ", b"v=spf1", b" ", b"+", b"-", b"~", b"?", b"all", b"a", b"mx", b"ptr",
            b"ip4:", b"ip6:", b"include:", b"exists:", b"redirect=", b"exp=", b"/24", b"//64",
            b"%{d}", b"%{i}", b"%{l}", b"%{o}", b"%{ir}.%{v}._spf.", b"192.0.2.1", b"2001:db8::1",
            D.encode(), b"a." + D.encode(), b"loop." + D.encode(), b"alias." + D.encode(),
            b"nx." + D.encode(), b"x" * 70, b"."],
    "dmarc": [b"v=DMARC1", b"v=DMARC1; ", b"; ", b";", b"p=", b"sp=", b"np=", b"none",
              b"quarantine", b"reject", b"rua=", b"ruf=", b"mailto:", b"d@" + D.encode(),
              b"d@other.example", b"https://r.example/", b",", b"!10m", b"pct=", b"50", b"200",
              b"t=", b"y", b"n", b"psd=", b"fo=", b"1", b"adkim=", b"aspf=", b"s", b"r",
              b"ri=", b"x="],
    "dkim": [b"v=DKIM1", b"v=DKIM1; ", b"; ", b"k=", b"rsa", b"ed25519", b"dsa", b"p=",
             KEY.encode(), KEY[:20].encode(), b"h=", b"sha1", b"sha256", b":", b"s=", b"email",
             b"*", b"t=", b"y", b"s", b"n=", b"g=", b"AAAA", b"===="],
    "bimi": [b"v=BIMI1", b"v=BIMI1; ", b"v=bimi1", b"; ", b"l=", b"a=", b"s=",
             b"https://" + D.encode() + b"/logo.svg", b"https://" + D.encode() + b"/vmc.pem",
             b"http://x.example/l.svg", b".png", b"https://", b"localhost", b"v=spf1 -all"],
}  # fmt: skip


def _record(kind: str) -> st.SearchStrategy[bytes]:
    piece = st.one_of(
        st.sampled_from(FRAGMENTS[kind]),
        st.sampled_from(_HOSTILE),
        st.binary(max_size=6),
    )
    return st.lists(piece, max_size=14).map(b"".join)


def _txts(kind: str) -> st.SearchStrategy[list[bytes]]:
    return st.lists(_record(kind), max_size=3)


MX_TARGETS = [".", f"{D}.", f"mx.{D}.", f"a.{D}.", "192.0.2.1.", f"alias.{D}.", f"loop.{D}.",
              f"nx.{D}.", "mx.other.example."]  # fmt: skip
#: Names that can be made to misbehave or to be CNAMEs.
NAMES = [f"{D}.", f"_dmarc.{D}.", f"{SELECTOR}._domainkey.{D}.", f"default._bimi.{D}.",
         f"mx.{D}.", f"a.{D}.", "_dmarc.example."]  # fmt: skip
BEHAVIOURS = ["servfail", "refused", "formerr", "garbage", "wrong-question"]


@st.composite
def zones(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "apex": draw(_txts("spf")),
        "a": draw(_txts("spf")),
        "dmarc": draw(_txts("dmarc")),
        "dmarc_parent": draw(_txts("dmarc")),
        "dkim": draw(_txts("dkim")),
        "bimi": draw(_txts("bimi")),
        "mx": draw(
            st.lists(st.tuples(st.integers(0, 65535), st.sampled_from(MX_TARGETS)), max_size=4)
        ),
        "hostile_mx": draw(st.one_of(st.none(), st.sampled_from(_HOSTILE[:10]))),
        "addresses": draw(st.sets(st.sampled_from([f"mx.{D}.", f"a.{D}.", f"{D}."]))),
        "cnames": draw(
            st.dictionaries(
                st.sampled_from(NAMES[1:4]), st.sampled_from([*NAMES, f"loop.{D}."]), max_size=2
            )
        ),
        "broken": draw(
            st.dictionaries(st.sampled_from(NAMES), st.sampled_from(BEHAVIOURS), max_size=2)
        ),
        "settings": DomainSettings(
            D,
            relay_mx=draw(st.sampled_from([(), (f"*.{D}",), (f"mx.{D}",), ("mx.other.example",)])),
            spf_include=draw(st.sampled_from([(), (f"a.{D}",), ("spf.other.example",)])),
            spf_ips=draw(st.sampled_from([(), ("192.0.2.1",), ("2001:db8::/64",), ("bad",)])),
            dkim_selectors=draw(st.sampled_from([(SELECTOR,), (SELECTOR, "other"), ()])),
            bimi_expected=draw(st.booleans()),
        ),
    }


def build(zone: dict[str, Any]) -> Records:
    r = Records()
    r.add_zone(f"{D}.")
    r.add_zone("example.")
    for key, name in (("apex", f"{D}."), ("a", f"a.{D}."), ("dmarc", f"_dmarc.{D}."),
                      ("dmarc_parent", "_dmarc.example."), ("dkim", NAMES[2]),
                      ("bimi", NAMES[3])):  # fmt: skip
        if zone[key]:
            r.add_txt(name, *zone[key])
    if zone["mx"]:
        r.add(f"{D}.", "MX", *(f"{pref} {target}" for pref, target in zone["mx"]))
    if zone["hostile_mx"] is not None:
        host = dns.name.Name((zone["hostile_mx"], D.encode(), b""))
        r.add_rdtype(f"{D}.", dns.rdatatype.MX, _mx(5, host))
    for name in zone["addresses"]:
        r.add(name, "A", "192.0.2.1")
        r.add(name, "AAAA", "2001:db8::1")
    r.add(f"alias.{D}.", "CNAME", f"mx.{D}.")
    r.add(f"loop.{D}.", "CNAME", f"loop.{D}.")
    for name, target in zone["cnames"].items():
        r.add(name, "CNAME", target)
    for name, behaviour in zone["broken"].items():
        r.set_behaviour(name, behaviour)
    return r


def _mx(preference: int, host: dns.name.Name) -> dns.rdtypes.ANY.MX.MX:
    return dns.rdtypes.ANY.MX.MX(dns.rdataclass.IN, dns.rdatatype.MX, preference, host)


@pytest.fixture(scope="module")
def server() -> Iterator[DnsServer]:
    with DnsServer(Records()) as srv:
        yield srv


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _codes(check: str) -> set[str]:
    module = importlib.import_module(f"esm_tui.checks.{check}")
    return set(module.CODES) | {f"{check}.{slug}" for slug in COMMON if slug != "internal-error"}


CODES = {check: _codes(check) for check in CHECK_NAMES}


def _shown(records: list[bytes]) -> list[str]:
    # An RRset is a set (RFC 2181 §5): a record published twice is served once.
    return sorted(r.decode("utf-8", "backslashreplace") for r in set(records))


async def _check_all(dns_client: Dns, zone: dict[str, Any]) -> dict[str, RecordResult]:
    ctx = CheckContext(dns_client)
    checks = registry()
    results = {}
    for name in CHECK_NAMES:
        # Called directly: an exception fails the test (no internal-error guard here).
        results[name] = await asyncio.wait_for(checks[name](zone["settings"], ctx), 20)
    return results


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(zone=zones())
async def test_random_zones_never_crash_a_check(server: DnsServer, zone: dict[str, Any]) -> None:
    server.records = build(zone)  # the server reads this attribute for every query
    # Nothing in these zones drops a query: the timeout only guards against a loaded
    # machine starving the server thread (0.5 s once gave a false `unknown` under load).
    dns_client = Dns([server.server], timeout=3.0, retries=0)
    try:
        results = await _check_all(dns_client, zone)
    finally:
        dns_client.close()
    for name, result in results.items():
        assert isinstance(result.status, Status)
        assert {f.code for f in result.findings} <= CODES[name], name
        if result.status in (Status.OK, Status.NONE):
            assert result.fix is None, name
        data = result.to_json()
        json.dumps(data)
        for text in _strings(data):
            assert not any(0xD800 <= ord(c) <= 0xDFFF for c in text), (name, text)
    clean = not zone["broken"] and not zone["cnames"]
    if clean and not any(t == f"loop.{D}." for _, t in zone["mx"]):
        # Every question got an answer: `unknown` would be a verdict without a cause.
        for name, result in results.items():
            assert result.status != Status.UNKNOWN, (name, result.findings)
    # SPEC §3: the raw records, exactly as published.
    if f"{D}." not in zone["broken"]:
        assert sorted(results["spf"].records) == _shown(zone["apex"])
    if NAMES[3] not in zone["broken"] and NAMES[3] not in zone["cnames"]:
        assert sorted(results["bimi"].records) == _shown(zone["bimi"])
    table = render_table([DomainReport(D, results, datetime.now(UTC))])
    assert all(c == "\n" or (ord(c) >= 0x20 and not 0x7F <= ord(c) <= 0x9F) for c in table)
    assert "\u202e" not in table
