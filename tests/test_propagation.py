"""Propagation: authoritative servers vs resolvers, over loopback sockets, and the pure rules.

The lab: two authoritative servers (ns1 on 127.0.0.2, ns2 on 127.0.0.3, one shared port,
as the `port` setting is one number) serving versions of example.com, and a "caching
resolver" on 127.0.0.1 that serves whatever stale data a test gives it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from esm_tui.dns import Dns
from esm_tui.model import (
    DomainReport,
    Fix,
    FixRecord,
    Propagation,
    PropagationState,
    RecordResult,
    ServerAnswer,
    Status,
)
from esm_tui.propagation import (
    AUTHORITATIVE,
    RESOLVER,
    Collector,
    Target,
    attach_propagation,
    card_line,
    classify,
    failure_rcode,
    matrix_rows,
    merge,
    targets,
)

NEW_SPF = "v=spf1 include:_spf.relay.example -all"
OLD_SPF = "v=spf1 -all"
DMARC = "v=DMARC1; p=reject; rua=mailto:d@example.com"


def zone(serial: int, *, minimum: int = 300, soa_ttl: int = 3600) -> Records:
    """example.com as one server holds it: SOA, NS ns1/ns2 and their addresses."""
    records = Records()
    records.add_zone(
        "example.com.",
        f"ns1.example.com. hostmaster.example.com. {serial} 3600 600 86400 {minimum}",
        ttl=soa_ttl,
    )
    records.add("example.com.", "NS", "ns1.example.com.", "ns2.example.com.", ttl=3600)
    records.add("ns1.example.com.", "A", "127.0.0.2", ttl=3600)
    records.add("ns2.example.com.", "A", "127.0.0.3", ttl=3600)
    return records


@dataclass
class Lab:
    primary: Records
    secondary: Records
    cache: Records
    ns1: DnsServer
    ns2: DnsServer
    resolver: DnsServer

    @property
    def port(self) -> int:
        return self.ns1.port

    def dns(self, timeout: float = 0.5) -> Dns:
        return Dns([self.resolver.server], timeout=timeout, retries=0)

    def where(self, server: DnsServer) -> str:
        return f"{server.host}:{server.port}"


def _start_pair(primary: Records, secondary: Records) -> tuple[DnsServer, DnsServer]:
    # The second server must get the same port on its own address; retry on the rare clash.
    for _ in range(10):
        ns1 = DnsServer(primary, host="127.0.0.2").start()
        try:
            ns2 = DnsServer(secondary, host="127.0.0.3", port=ns1.port).start()
        except OSError:
            ns1.stop()
            continue
        if ns2.port == ns1.port:
            return ns1, ns2
        ns1.stop()
        ns2.stop()
    raise RuntimeError("could not bind 127.0.0.2 and 127.0.0.3 on one port")


@contextmanager
def running_lab(primary: Records, secondary: Records, cache: Records) -> Iterator[Lab]:
    """ns1 and ns2 serving `primary` and `secondary`, a resolver serving `cache`."""
    ns1, ns2 = _start_pair(primary, secondary)
    with DnsServer(cache) as resolver:
        current = Lab(primary, secondary, cache, ns1, ns2, resolver)
        try:
            yield current
        finally:
            current.ns1.stop()
            current.ns2.stop()  # a test may have replaced it


@pytest.fixture
def lab() -> Iterator[Lab]:
    with running_lab(zone(2), zone(2), zone(1)) as current:
        yield current


def result(check: str, name: str, rdtype: str = "TXT", **kwargs: object) -> RecordResult:
    fields: dict[str, object] = {"status": Status.OK, "summary": "", **kwargs}
    return RecordResult(check, query_name=name, query_type=rdtype, **fields)  # type: ignore[arg-type]


def report(*results: RecordResult) -> DomainReport:
    return DomainReport("example.com", {r.check: r for r in results}, datetime.now(UTC))


async def attach(lab: Lab, *results: RecordResult, **kwargs: object) -> DomainReport:
    return await attach_propagation(
        report(*results),
        lab.dns(),
        port=lab.port,
        **kwargs,  # type: ignore[arg-type]
    )


def by_server(p: Propagation) -> dict[str, ServerAnswer]:
    return {a.server: a for a in p.servers}


# -- the four states, end to end ---------------------------------------------------------


async def test_published_everywhere(lab: Lab) -> None:
    for records in (lab.primary, lab.secondary, lab.cache):
        records.add_txt("example.com.", NEW_SPF, "google-site-verification=x", ttl=600)
    lab.cache.add_zone("example.com.", "ns1.example.com. h.example.com. 2 3600 600 86400 300")
    out = await attach(lab, result("spf", "example.com."))
    p = out.checks["spf"].propagation
    assert p is not None and p.state is PropagationState.PUBLISHED and p.eta is None
    servers = by_server(p)
    ns1, ns2 = servers[lab.where(lab.ns1)], servers[lab.where(lab.ns2)]
    assert (ns1.role, ns1.host, ns1.serial, ns1.rcode) == (
        AUTHORITATIVE,
        "ns1.example.com.",
        2,
        "NOERROR",
    )
    assert ns2.host == "ns2.example.com." and set(ns2.records) == {
        NEW_SPF,
        "google-site-verification=x",
    }
    mine = servers[lab.where(lab.resolver)]
    assert mine.role == RESOLVER and mine.ttl == 600
    assert [a.role for a in p.servers] == [AUTHORITATIVE, AUTHORITATIVE, RESOLVER]
    assert card_line(p) == "published on 2/2 servers"


async def test_propagating_old_data_at_the_resolver_with_eta_from_its_ttl(lab: Lab) -> None:
    lab.primary.add_txt("example.com.", NEW_SPF)
    lab.secondary.add_txt("example.com.", NEW_SPF)
    lab.cache.add_txt("example.com.", OLD_SPF, ttl=1234)
    before = datetime.now(UTC)
    out = await attach(lab, result("spf", "example.com.", status=Status.FAIL))
    p = out.checks["spf"].propagation
    assert p is not None and p.state is PropagationState.PROPAGATING
    assert p.eta is not None
    assert abs((p.eta - (before + timedelta(seconds=1234))).total_seconds()) < 1
    assert p.lagging == (lab.where(lab.resolver),)
    assert by_server(p)[lab.where(lab.resolver)].records == (OLD_SPF,)
    assert "cached old data" in p.detail and lab.where(lab.resolver) in p.detail
    line = card_line(p, now=before, tz=UTC)
    assert line.startswith("published on 2/2 servers · cached at your resolver until ")
    assert line.endswith(p.eta.astimezone(UTC).strftime("%H:%M"))


async def test_propagating_cached_nxdomain_uses_the_soa_negative_ttl(lab: Lab) -> None:
    lab.primary.add_txt("_dmarc.example.com.", DMARC)
    lab.secondary.add_txt("_dmarc.example.com.", DMARC)
    # RFC 2308 §5: the negative TTL is min(SOA TTL, SOA MINIMUM) = min(3600, 900).
    lab.cache.add_zone(
        "example.com.", "ns1.example.com. h.example.com. 1 3600 600 86400 900", ttl=3600
    )
    before = datetime.now(UTC)
    out = await attach(lab, result("dmarc", "_dmarc.example.com.", status=Status.FAIL))
    p = out.checks["dmarc"].propagation
    assert p is not None and p.state is PropagationState.PROPAGATING
    cached = by_server(p)[lab.where(lab.resolver)]
    assert (cached.rcode, cached.ttl, cached.serial, cached.records) == ("NXDOMAIN", 900, 1, ())
    assert p.eta is not None
    assert abs((p.eta - (before + timedelta(seconds=900))).total_seconds()) < 1
    assert "cached negative answer" in p.detail


async def test_not_published_when_the_fix_is_not_at_the_authoritative_servers(lab: Lab) -> None:
    for records in (lab.primary, lab.secondary, lab.cache):
        records.add_txt("_dmarc.example.com.", "v=DMARC1; p=none")
    fix = Fix(("publish it",), FixRecord("_dmarc.example.com.", "TXT", DMARC))
    dmarc = result("dmarc", "_dmarc.example.com.", status=Status.WARN, fix=fix)
    out = await attach(lab, dmarc)
    p = out.checks["dmarc"].propagation
    assert p is not None and p.state is PropagationState.NOT_PUBLISHED
    assert p.detail.startswith("The fix is not in the zone yet")
    assert "within 5 min" in p.detail  # from the TTL served, not the 24-48 h of folklore
    assert ".." not in p.detail  # the name's trailing dot is not doubled by the sentence's
    assert card_line(p) == "not in the zone yet (2 authoritative servers asked)"
    # Once the proposed record is in the zone (and cached alike), it is published.
    for records in (lab.primary, lab.secondary, lab.cache):
        records.replace("_dmarc.example.com.", "TXT", f'"{DMARC}"')
    out = await attach(lab, dmarc)
    assert out.checks["dmarc"].propagation.state is PropagationState.PUBLISHED


async def test_absent_everywhere_is_not_published(lab: Lab) -> None:
    out = await attach(lab, result("bimi", "default._bimi.example.com.", status=Status.NONE))
    p = out.checks["bimi"].propagation
    assert p is not None and p.state is PropagationState.NOT_PUBLISHED and p.eta is None
    assert {a.rcode for a in p.servers} == {"NXDOMAIN"}
    assert "No authoritative server" in p.detail


async def test_inconsistent_secondary_is_named_with_its_serial(lab: Lab) -> None:
    lab.primary.add_txt("example.com.", NEW_SPF)
    lab.secondary.add_zone(
        "example.com.", "ns1.example.com. h.example.com. 2026112601 3600 600 86400 300"
    )
    lab.primary.add_zone(
        "example.com.", "ns1.example.com. h.example.com. 2026112702 3600 600 86400 300"
    )
    lab.secondary.add_txt("example.com.", OLD_SPF)
    lab.cache.add_txt("example.com.", NEW_SPF)
    out = await attach(lab, result("spf", "example.com."))
    p = out.checks["spf"].propagation
    assert p is not None and p.state is PropagationState.INCONSISTENT
    assert p.lagging == (lab.where(lab.ns2),)
    assert "ns2.example.com." in p.detail and "SOA serial 2026112601" in p.detail
    assert by_server(p)[lab.where(lab.ns2)].serial == 2026112601
    assert (
        card_line(p)
        == "inconsistent: 1/2 servers current · ns2.example.com. (serial 2026112601) behind"
    )
    rows = {r.server: r for r in matrix_rows(p)}
    assert rows[f"ns2.example.com.\n{lab.where(lab.ns2)}"].lagging
    assert rows[f"ns2.example.com.\n{lab.where(lab.ns2)}"].serial == "2026112601"


async def test_inconsistent_when_the_secondary_lacks_the_record_entirely(lab: Lab) -> None:
    lab.primary.add_zone("example.com.", "ns1.example.com. h.example.com. 3 3600 600 86400 300")
    lab.primary.add_txt("_dmarc.example.com.", DMARC)
    out = await attach(lab, result("dmarc", "_dmarc.example.com."))
    p = out.checks["dmarc"].propagation
    assert p.state is PropagationState.INCONSISTENT
    assert p.lagging == (lab.where(lab.ns2),)
    assert "NXDOMAIN" in p.detail and "SOA serial 2" in p.detail


# -- the servers asked ------------------------------------------------------------------------


async def test_each_server_is_asked_once_per_question_even_fresh(lab: Lab) -> None:
    for records in (lab.primary, lab.secondary, lab.cache):
        records.add_txt("example.com.", NEW_SPF)
    results = [
        result("mx", "example.com.", "MX"),
        result("spf", "example.com."),
        result("dkim", "_domainkey.example.com."),
        result("dmarc", "_dmarc.example.com."),
        result("bimi", "default._bimi.example.com."),
    ]
    out = await attach(lab, *results, fresh=True)
    assert all(r.propagation is not None for r in out.checks.values())
    for server in (lab.ns1, lab.ns2):
        assert server.queries[("example.com.", "SOA")] == 1
        assert server.queries[("example.com.", "TXT")] == 1
        assert max(server.queries.values()) == 1
    assert lab.resolver.queries[("example.com.", "NS")] == 1
    assert lab.resolver.queries[("ns1.example.com.", "A")] == 1


async def test_the_configured_resolver_answer_is_the_cached_one(lab: Lab) -> None:
    lab.primary.add_txt("example.com.", NEW_SPF)
    lab.secondary.add_txt("example.com.", NEW_SPF)
    lab.cache.add_txt("example.com.", NEW_SPF)
    dns = lab.dns()
    await dns.query("example.com.", "TXT")  # what the check asked
    lab.cache.replace("example.com.", "TXT", '"v=spf1 ?all"')  # changes after the check
    out = await attach_propagation(report(result("spf", "example.com.")), dns, port=lab.port)
    assert out.checks["spf"].propagation.state is PropagationState.PUBLISHED
    assert lab.resolver.queries[("example.com.", "TXT")] == 1


async def test_a_silent_authoritative_server_is_listed_but_does_not_decide(lab: Lab) -> None:
    lab.primary.add_txt("example.com.", NEW_SPF)
    lab.cache.add_txt("example.com.", NEW_SPF)
    lab.secondary.set_behaviour("example.com.", "drop")
    out = await attach_propagation(
        # 1 s, not less: the primary must answer within it even on a loaded machine (at
        # 0.2 s a suite running beside another one saw the primary time out too).
        report(result("spf", "example.com.")),
        lab.dns(timeout=1.0),
        port=lab.port,
    )
    p = out.checks["spf"].propagation
    assert p.state is PropagationState.PUBLISHED
    silent = by_server(p)[lab.where(lab.ns2)]
    assert silent.rcode == "TIMEOUT" and "timeout" in silent.error
    assert card_line(p) == "published on 1/2 servers"


async def test_a_lame_server_is_not_taken_for_an_answer(lab: Lab) -> None:
    lab.primary.add_txt("example.com.", NEW_SPF)
    lab.cache.add_txt("example.com.", NEW_SPF)
    # ns2 does not serve the zone at all: the demo answers like a root (NXDOMAIN, "." SOA).
    lab.ns2.stop()
    lab.ns2 = DnsServer(Records(), host="127.0.0.3", port=lab.port).start()
    assert lab.ns2.port == lab.port
    out = await attach(lab, result("spf", "example.com."))
    p = out.checks["spf"].propagation
    assert p.state is PropagationState.PUBLISHED
    assert "not authoritative" in by_server(p)[lab.where(lab.ns2)].error


async def test_no_authoritative_answer_leaves_propagation_unset(lab: Lab) -> None:
    for records in (lab.primary, lab.secondary):
        records.set_behaviour("example.com.", "servfail")
    out = await attach(lab, result("spf", "example.com."))
    assert out.checks["spf"].propagation is None
    assert "propagation" not in out.checks["spf"].to_json()


async def test_a_lagging_compare_resolver_is_named(lab: Lab) -> None:
    for records in (lab.primary, lab.secondary, lab.cache):
        records.add_txt("example.com.", NEW_SPF)
    other = zone(1)
    other.add_txt("example.com.", OLD_SPF, ttl=77)
    with DnsServer(other) as stale:
        out = await attach(lab, result("spf", "example.com."), compare_resolvers=[stale.server])
        p = out.checks["spf"].propagation
        assert p.state is PropagationState.PROPAGATING
        assert p.lagging == (stale.address,)
        assert by_server(p)[stale.address].ttl == 77
        assert f"cached at {stale.address} until" in card_line(p)
        assert stale.queries[("example.com.", "TXT")] == 1


async def test_dkim_selectors_are_each_compared_and_merged(lab: Lab) -> None:
    key = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
    for records in (lab.primary, lab.secondary, lab.cache):
        records.add_txt("esm._domainkey.example.com.", key)
    details = {"selectors": {"esm": {}, "s2": {}}}
    dkim = result("dkim", "_domainkey.example.com.", status=Status.FAIL, details=details)
    assert targets("example.com", dkim) == [
        Target("esm._domainkey.example.com.", "TXT"),
        Target("s2._domainkey.example.com.", "TXT"),
    ]
    out = await attach(lab, dkim)
    p = out.checks["dkim"].propagation
    assert p.state is PropagationState.NOT_PUBLISHED  # s2 is nowhere
    ns1 = by_server(p)[lab.where(lab.ns1)]
    assert ns1.records == (key,) and ns1.rcode == "NOERROR"
    assert len(p.servers) == 3


async def test_dmarc_found_on_a_parent_is_compared_there(lab: Lab) -> None:
    dmarc = result(
        "dmarc", "_dmarc.mail.example.com.", details={"location": "example.com", "p": "reject"}
    )
    assert targets("mail.example.com", dmarc) == [Target("_dmarc.example.com.", "TXT")]


async def test_an_alias_is_compared_at_its_target_in_the_target_zone(lab: Lab) -> None:
    provider = "dkim.provider.test."
    for records in (lab.primary, lab.secondary, lab.cache):
        records.add("esm._domainkey.example.com.", "CNAME", f"esm.{provider}")
        records.add_zone(provider, "ns1.example.com. h.provider.test. 9 3600 600 86400 300")
        records.add(provider, "NS", "ns1.example.com.")
        records.add_txt(f"esm.{provider}", "v=DKIM1; p=abc")
    details = {"selectors": {"esm": {}}}
    out = await attach(lab, result("dkim", "_domainkey.example.com.", details=details))
    p = out.checks["dkim"].propagation
    assert p.state is PropagationState.PUBLISHED
    assert [a.server for a in p.servers if a.role == AUTHORITATIVE] == [lab.where(lab.ns1)]
    assert p.servers[0].serial == 9
    assert lab.ns1.queries[(f"esm.{provider}", "TXT")] == 1


async def test_json_of_a_record_with_propagation(lab: Lab) -> None:
    lab.primary.add_txt("example.com.", NEW_SPF)
    lab.secondary.add_txt("example.com.", NEW_SPF)
    lab.cache.add_txt("example.com.", OLD_SPF, ttl=1234)
    out = await attach(lab, result("spf", "example.com."))
    data = json.loads(json.dumps(out.to_json()))["checks"]["spf"]["propagation"]
    assert set(data) == {"state", "eta", "servers"}
    assert data["state"] == "propagating"
    assert datetime.fromisoformat(data["eta"]).tzinfo is not None
    first = data["servers"][0]
    assert set(first) == {"server", "role", "rcode", "records", "ttl", "serial"}
    assert first == {
        "server": lab.where(lab.ns1),
        "role": "authoritative",
        "rcode": "NOERROR",
        "records": [NEW_SPF],
        "ttl": 300,
        "serial": 2,
    }


async def test_collector_zone_of_walks_from_the_name(lab: Lab) -> None:
    collector = Collector(lab.dns(), port=lab.port)
    assert await collector.zone_of("deep.below._dmarc.example.com.") == (
        "example.com.",
        "deep.below._dmarc.example.com.",
    )
    assert await collector.zone_of("example.com.") == ("example.com.", "example.com.")


# -- the pure rules ---------------------------------------------------------------------------

NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


def auth(server: str, *records: str, rcode: str = "NOERROR", serial: int = 5, **kw) -> ServerAnswer:
    return ServerAnswer(server, AUTHORITATIVE, rcode, records, 300, serial, **kw)


def res(
    server: str, *records: str, rcode: str = "NOERROR", ttl: int | None = 60, **kw
) -> ServerAnswer:
    return ServerAnswer(server, RESOLVER, rcode, records, ttl, None, **kw)


def test_record_sets_are_compared_without_order() -> None:
    p = classify(
        "example.com.",
        "TXT",
        [auth("a", "x", "y"), auth("b", "y", "x")],
        [res("r", "y", "x")],
        now=NOW,
    )
    assert p.state is PropagationState.PUBLISHED


def test_names_compare_case_insensitively_but_txt_does_not() -> None:
    mx = classify(
        "e.", "MX", [auth("a", "10 MX.example.com.")], [res("r", "10 mx.example.com.")], now=NOW
    )
    assert mx.state is PropagationState.PUBLISHED
    txt = classify("e.", "TXT", [auth("a", "V=spf1")], [res("r", "v=spf1")], now=NOW)
    assert txt.state is PropagationState.PROPAGATING


def test_eta_is_the_latest_of_the_lagging_resolvers() -> None:
    p = classify(
        "e.",
        "TXT",
        [auth("a", "new")],
        [res("r1", "old", ttl=100), res("r2", rcode="NXDOMAIN", ttl=500), res("r3", "new")],
        now=NOW,
    )
    assert p.state is PropagationState.PROPAGATING
    assert p.eta == NOW + timedelta(seconds=500)
    assert p.lagging == ("r1", "r2")


def test_failed_resolvers_and_servers_do_not_count() -> None:
    p = classify(
        "e.",
        "TXT",
        [auth("a", "new"), ServerAnswer("b", AUTHORITATIVE, "TIMEOUT", error="timeout")],
        [ServerAnswer("r", RESOLVER, "SERVFAIL", error="SERVFAIL from r")],
        now=NOW,
    )
    assert p.state is PropagationState.PUBLISHED
    assert len(p.servers) == 3


def test_no_usable_authoritative_answer_gives_none() -> None:
    lame = auth("a", rcode="NOERROR", error="not authoritative")
    assert classify("e.", "TXT", [lame], [res("r", "x")], now=NOW) is None
    assert classify("e.", "TXT", [], [res("r", "x")], now=NOW) is None


def test_nodata_and_nxdomain_both_mean_absent() -> None:
    p = classify("e.", "TXT", [auth("a", rcode="NXDOMAIN"), auth("b")], [res("r")], now=NOW)
    assert p.state is PropagationState.NOT_PUBLISHED


def test_a_removed_record_still_cached_is_not_published_and_says_so() -> None:
    p = classify("e.", "TXT", [auth("a")], [res("r", "old")], now=NOW)
    assert p.state is PropagationState.NOT_PUBLISHED and p.eta is None
    assert "still answers 1 record from its cache" in p.detail


def test_propagating_wins_over_an_unmet_fix() -> None:
    # The admin changed the record (not to the proposal): it is on its way all the same.
    p = classify("e.", "TXT", [auth("a", "new")], [res("r", "old")], now=NOW, wanted="proposal")
    assert p.state is PropagationState.PROPAGATING


def test_wanted_in_presentation_format_is_decoded() -> None:
    p = classify(
        "e.",
        "TXT",
        [auth("a", "v=spf1 -all")],
        [res("r", "v=spf1 -all")],
        now=NOW,
        wanted='"v=spf1 " "-all"',
    )
    assert p.state is PropagationState.PUBLISHED


def test_inconsistent_prefers_the_highest_serial_then_the_majority() -> None:
    p = classify(
        "e.",
        "TXT",
        [auth("a", "old", serial=1), auth("b", "old", serial=1), auth("c", "new", serial=2)],
        [res("r", "new")],
        now=NOW,
    )
    assert p.state is PropagationState.INCONSISTENT and p.lagging == ("a", "b")
    same = classify(
        "e.",
        "TXT",
        [auth("a", "x", serial=7), auth("b", "x", serial=7), auth("c", "y", serial=7)],
        [],
        now=NOW,
    )
    assert same.lagging == ("c",)


def test_merge_takes_the_most_pressing_state_and_joins_servers() -> None:
    published = classify("a.e.", "TXT", [auth("s", "k1")], [res("r", "k1")], now=NOW)
    propagating = classify("b.e.", "TXT", [auth("s", "k2")], [res("r", "old", ttl=30)], now=NOW)
    merged = merge([published, propagating, None])
    assert merged.state is PropagationState.PROPAGATING
    assert merged.eta == NOW + timedelta(seconds=30)
    assert [(a.server, a.records) for a in merged.servers] == [
        ("s", ("k1", "k2")),
        ("r", ("k1", "old")),
    ]
    assert merged.servers[1].ttl == 30
    missing = classify("c.e.", "TXT", [auth("s")], [res("r")], now=NOW)
    both = merge([propagating, missing])
    assert both.state is PropagationState.NOT_PUBLISHED and both.eta is None
    assert merge([None]) is None and merge([published]) is published


def test_failure_rcode() -> None:
    assert failure_rcode("SERVFAIL from 1.2.3.4:53") == "SERVFAIL"
    assert failure_rcode("REFUSED from 1.2.3.4:53") == "REFUSED"
    assert failure_rcode("timeout after 0.5 s from 1.2.3.4:53") == "TIMEOUT"
    assert failure_rcode("connection refused by 1.2.3.4:53") == "ERROR"
    assert failure_rcode("CNAME loop") == "ERROR"


def test_matrix_rows_keep_hostile_text_visible_not_live() -> None:
    p = classify(
        "e.",
        "TXT",
        [auth("192.0.2.1:53", "evil\x1b[31m", host="ns1.e.")],
        [res("192.0.2.53:53", rcode="NXDOMAIN", ttl=900)],
        now=NOW,
    )
    rows = matrix_rows(p)
    # The name and the address on lines of their own (a host name never folded).
    assert rows[0].server == "ns1.e.\n192.0.2.1:53"
    assert rows[0].answer == ("evil\\x1b[31m",) and rows[0].serial == "5"
    assert rows[1].server == "192.0.2.53:53 (your resolver)"
    assert rows[1].answer == ("NXDOMAIN",) and rows[1].ttl == "900" and rows[1].lagging


def test_card_line_dates_an_eta_on_another_day() -> None:
    p = classify("e.", "TXT", [auth("a", "n")], [res("r", "o", ttl=86400)], now=NOW)
    assert card_line(p, now=NOW, tz=UTC) == (
        "published on 1/1 servers · cached at your resolver until Sat 28 Nov 14:00"
    )
    assert card_line(None) == "propagation unknown: no authoritative server answered"


def test_propagation_json_shape() -> None:
    p = classify("e.", "TXT", [auth("a", "n")], [res("r", "o", ttl=10)], now=NOW)
    rr = replace(result("spf", "e."), propagation=p)
    assert rr.to_json()["propagation"] == {
        "state": "propagating",
        "eta": "2026-11-27T14:00:10+00:00",
        "servers": [
            {
                "server": "a",
                "role": "authoritative",
                "rcode": "NOERROR",
                "records": ["n"],
                "ttl": 300,
                "serial": 5,
            },
            {
                "server": "r",
                "role": "resolver",
                "rcode": "NOERROR",
                "records": ["o"],
                "ttl": 10,
                "serial": None,
            },
        ],
    }
    assert "propagation" not in result("spf", "e.").to_json()


async def test_eta_counts_from_when_the_ttl_was_read_not_from_a_slow_server(lab: Lab) -> None:
    lab.primary.add_txt("example.com.", NEW_SPF)
    lab.secondary.add_txt("example.com.", NEW_SPF)
    lab.cache.add_txt("example.com.", OLD_SPF, ttl=1234)
    lab.ns2.delay = 1.2  # a far-away secondary holds the pass up
    before = datetime.now(UTC)
    out = await attach_propagation(
        report(result("spf", "example.com.")), lab.dns(timeout=3), port=lab.port
    )
    p = out.checks["spf"].propagation
    assert datetime.now(UTC) - before > timedelta(seconds=1.2)
    assert p.state is PropagationState.PROPAGATING
    assert abs((p.eta - (before + timedelta(seconds=1234))).total_seconds()) < 0.5


def test_long_host_names_are_never_broken_inside_at_80_columns() -> None:
    """Issue 17 item 7: the matrix at 80 columns kept folding NS names mid-label."""
    from rich.console import Console

    from esm_tui.widgets.propagation_view import propagation_matrix

    hosts = ["ns-1536.awsdns-00.co.uk.", "ns-0512.awsdns-64.net.", "dns200.anycast.me."]
    p = classify(
        "example.com.",
        "TXT",
        [auth(f"192.0.2.{i + 1}:53", "v=spf1 -all", host=h) for i, h in enumerate(hosts)],
        [res("192.0.2.53:53", "v=spf1 -all", ttl=300)],
        now=NOW,
    )
    console = Console(width=76, record=True, file=io.StringIO(), color_system=None)
    console.print(propagation_matrix(p))
    text = console.export_text()
    for host in hosts:
        assert host in text, text  # whole, on one line
