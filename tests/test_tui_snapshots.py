"""SVG snapshots of the dashboard and the record detail, at 80×24 and 120×40.

Deterministic: the reports are fixed values (no DNS, so a change of a check's wording
does not move the pixels), the clock is injected and stands still ("checked 12 s ago"),
the interval is fixed, no input has a blinking cursor, and the resolver shown is fixed.
Regenerate with `pytest tests/test_tui_snapshots.py --snapshot-update` and look at them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from textual.pilot import Pilot
from waiting import until

from esm_tui.app import EsmApp
from esm_tui.config import Config, Settings
from esm_tui.hosts import host_by_id
from esm_tui.hosts.attach import with_host_steps
from esm_tui.model import (
    DomainReport,
    DomainSettings,
    Finding,
    Fix,
    FixRecord,
    Propagation,
    PropagationState,
    RecordResult,
    ServerAnswer,
    Severity,
    Status,
    ZoneHost,
)
from esm_tui.widgets.record_card import RecordCard
from esm_tui.widgets.record_detail import RecordDetailScreen

CHECKED = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
RELAY_SPF = "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"
DKIM_KEY = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAujJf6MtzjtpplGcJfqxuXHXqZ6pBlOnpPXXeG6dmHZBL"
    "vw9IP25CI9YNyt41MLc+lD6ze78oNFBr6tkWIvk1lt37XTyWIPxDGg98ZyYP0KmZhhvx6d6UwJEkb4A8Z07LP7q"
    "fk5VszGM/IkOJX96APeZm6IMNkS9R8bLAZNa7IEhAEtgG7SV9eW90jKTM1E+F8KIkKAsELsjMG819AH8Dd92nK2o"
    "YKxpk72+RjttDHvsFGjJ5Nq6QxNuUt0x7ZSQomnKY0n2HViU3IE+3emTcumEHcMMrpfj/nsEMINi76cFVbBW7/Ja"
    "I+PH3LQReo5QjXbz8fke9/AE9X7an/E1vUwIDAQAB"
)


def result(
    check: str,
    status: Status,
    summary: str,
    query: str,
    qtype: str = "TXT",
    records: tuple[str, ...] = (),
    findings: tuple[Finding, ...] = (),
    fix: Fix | None = None,
    **details: Any,
) -> RecordResult:
    return RecordResult(
        check, status, summary, query, qtype, records, 300 if records else None, findings, fix,
        details,
    )  # fmt: skip


def mx_ok(domain: str) -> RecordResult:
    hosts = [
        {"preference": 10, "host": "mx1.esm-relay.example.", "addresses": ["192.0.2.25"]},
        {"preference": 20, "host": "mx2.esm-relay.example.", "addresses": ["192.0.2.26"]},
    ]
    return result(
        "mx", Status.OK, "2 MX hosts, all at the relay", f"{domain}.", "MX",
        ("10 mx1.esm-relay.example.", "20 mx2.esm-relay.example."), null_mx=False, hosts=hosts,
    )  # fmt: skip


def spf_tree(domain: str, record: str, lookups: int, extra: list[dict[str, Any]]) -> dict[str, Any]:
    relay = {
        "domain": "_spf.esm-relay.example", "via": "include:_spf.esm-relay.example",
        "record": RELAY_SPF, "lookups": 1, "total_lookups": 1, "void_lookups": 0,
        "terms": [], "errors": [], "children": [],
    }  # fmt: skip
    return {
        "domain": domain, "via": None, "record": record, "lookups": lookups - 1,
        "total_lookups": lookups, "total_void_lookups": 0, "terms": extra, "errors": [],
        "children": [relay],
    }  # fmt: skip


def dkim(domain: str, status: Status, summary: str, selectors: dict[str, Any]) -> RecordResult:
    records = tuple(s["record"] for s in selectors.values() if s["record"])
    findings = tuple(
        Finding(Severity.WARN, "dkim.testing", f"Selector {name} is in testing mode (t=y).",
                "RFC 6376 §3.6.1")
        for name, s in selectors.items() if s["testing"]
    )  # fmt: skip
    return result(
        "dkim", status, summary, f"esm._domainkey.{domain}.", "TXT", records, findings,
        selectors=selectors,
    )  # fmt: skip


def selector(domain: str, name: str, status: str, record: str | None, bits: int | None,
             testing: bool = False) -> dict[str, Any]:  # fmt: skip
    return {
        "status": status, "record": record, "key_type": "rsa" if record else None,
        "key_bits": bits, "testing": testing, "name": f"{name}._domainkey.{domain}.",
    }  # fmt: skip


#: The name servers each snapshot domain's zone is served by (the summary tile names the host).
NAME_SERVERS = {
    "ovh": ("dns10.ovh.net.", "ns10.ovh.net."),
    "cloudflare": ("celeste.ns.cloudflare.com.", "oswald.ns.cloudflare.com."),
    "other": ("ns1.example.net.",),
}


def hosted(report: DomainReport, host_id: str) -> DomainReport:
    """`report` with its zone's DNS host, and that host's steps on its fixes (as checked)."""
    host = host_by_id(host_id)
    assert host is not None
    found = ZoneHost(
        host_id,
        None if host_id == "other" else host.name,
        NAME_SERVERS[host_id],
        f"{report.domain}.",
    )
    return with_host_steps(replace(report, dns_host=found))


def good(domain: str = "good.example") -> DomainReport:
    spf = "v=spf1 include:_spf.esm-relay.example -all"
    dmarc = f"v=DMARC1; p=reject; rua=mailto:dmarc@{domain}; adkim=s; aspf=s"
    key = f"v=DKIM1; k=rsa; p={DKIM_KEY}"
    checks = {
        "mx": mx_ok(domain),
        "spf": result("spf", Status.OK, "-all, 1/10 lookups, relay authorized", f"{domain}.",
                      records=(spf,), record=spf, dns_lookups=1, void_lookups=0, all="-all",
                      includes=["_spf.esm-relay.example"], relay_authorized=True,
                      tree=spf_tree(domain, spf, 1, [])),
        "dkim": dkim(domain, Status.OK, "esm: rsa 2048",
                     {"esm": selector(domain, "esm", "ok", key, 2048)}),
        "dmarc": result("dmarc", Status.OK, "p=reject, reports to 1 address", f"_dmarc.{domain}.",
                        records=(dmarc,), record=dmarc, location=domain, p="reject"),
        "bimi": result("bimi", Status.OK, "logo and mark certificate",
                       f"default._bimi.{domain}.",
                       records=(f"v=BIMI1; l=https://{domain}/logo.svg; a=https://{domain}/vmc.pem",)),
        "mta_sts": result("mta_sts", Status.OK, "enforce, 1 mx pattern(s), max_age 604800",
                          f"_mta-sts.{domain}.", records=("v=STSv1; id=20261201;",),
                          mode="enforce", mx=["*.esm-relay.example"]),
        "tls_rpt": result("tls_rpt", Status.OK, "reports to 1 address", f"_smtp._tls.{domain}.",
                          records=(f"v=TLSRPTv1; rua=mailto:tls@{domain}",)),
        "dnssec": result("dnssec", Status.NONE, "not signed", f"{domain}.", "DNSKEY"),
    }  # fmt: skip
    return hosted(DomainReport(domain, checks, CHECKED), "ovh")


def shop(domain: str = "shop.example") -> DomainReport:
    spf = "v=spf1 ptr include:_spf.esm-relay.example ?all"
    checks = dict(good(domain).checks)
    checks["spf"] = result(
        "spf", Status.WARN, "?all, 2/10 lookups, relay authorized", f"{domain}.",
        records=(spf, "google-site-verification=abc123"),
        findings=(
            Finding(Severity.WARN, "spf.neutral-all",
                    "The record ends in ?all: mail from hosts it does not list is neither "
                    "passed nor failed.", "RFC 7208 §8.2"),
            Finding(Severity.WARN, "spf.ptr", "The ptr mechanism is slow and deprecated; "
                    "list the sending hosts instead.", "RFC 7208 §5.5"),
        ),
        fix=Fix(("Remove the ptr mechanism.", "End the record with -all (or ~all)."),
                FixRecord(f"{domain}.", "TXT", "v=spf1 include:_spf.esm-relay.example -all")),
        record=spf, dns_lookups=2, void_lookups=0, all="?all",
        includes=["_spf.esm-relay.example"], relay_authorized=True,
        tree=spf_tree(domain, spf, 2, [{"term": "ptr", "lookups": 1, "void": False}]),
    )  # fmt: skip
    checks["dkim"] = dkim(domain, Status.WARN, "esm: rsa 1024, testing", {
        "esm": selector(domain, "esm", "warn", f"v=DKIM1; k=rsa; t=y; p={DKIM_KEY[:216]}", 1024,
                        testing=True),
        "old": selector(domain, "old", "fail", "v=DKIM1; k=rsa; p=", None),
    })  # fmt: skip
    checks["dmarc"] = result(
        "dmarc", Status.WARN, "p=none (monitoring only), pct=50", f"_dmarc.{domain}.",
        records=("v=DMARC1; p=none; pct=50",),
        findings=(Finding(Severity.WARN, "dmarc.policy-none",
                          "p=none asks receivers to deliver failing mail as usual.",
                          "RFC 9989 §4.7"),),
        fix=Fix(("Move the policy to quarantine once the reports look clean.",),
                FixRecord(f"_dmarc.{domain}.", "TXT",
                          f"v=DMARC1; p=quarantine; rua=mailto:dmarc@{domain}")),
        record="v=DMARC1; p=none; pct=50", p="none", pct=50,
    )  # fmt: skip
    return hosted(DomainReport(domain, checks, CHECKED), "cloudflare")


def broken(domain: str = "broken.example", *, dmarc_unknown: bool = False) -> DomainReport:
    checks = dict(good(domain).checks)
    checks["mx"] = result(
        "mx", Status.FAIL, "no MX record", f"{domain}.", "MX",
        findings=(Finding(Severity.FAIL, "mx.missing", f"{domain} has no MX record; the "
                          "filtering relay needs one.", "RFC 5321 §5.1"),),
        fix=Fix(("Publish MX records that point to the relay.",),
                FixRecord(f"{domain}.", "MX", "10 mx1.esm-relay.example.")),
        null_mx=False, hosts=[],
    )  # fmt: skip
    checks["spf"] = result(
        "spf", Status.FAIL, "+all: every host may send", f"{domain}.", records=("v=spf1 +all",),
        findings=(Finding(Severity.FAIL, "spf.plus-all", "The record ends in +all, which "
                          "authorizes every host on the Internet.", "RFC 7208 §5.1"),),
        fix=Fix(("Replace the record.",),
                FixRecord(f"{domain}.", "TXT", "v=spf1 include:_spf.esm-relay.example -all")),
        record="v=spf1 +all", dns_lookups=0, all="+all",
    )  # fmt: skip
    checks["bimi"] = result("bimi", Status.NONE, "no BIMI record (optional)",
                            f"default._bimi.{domain}.")  # fmt: skip
    checks["mta_sts"] = result(
        "mta_sts", Status.FAIL, "enforce: 1 MX host(s) not in the policy", f"_mta-sts.{domain}.",
        records=("v=STSv1; id=1;",),
        findings=(Finding(Severity.FAIL, "mta_sts.mx-not-covered", "The MX host "
                          "mail.broken.example matches no mx: pattern of the policy "
                          "(*.esm-relay.example): senders that apply MTA-STS refuse to "
                          "deliver to it.", "RFC 8461 §4.1"),),
        mode="enforce", mx=["*.esm-relay.example"], mx_hosts=["mail.broken.example"],
        policy_url=f"https://mta-sts.{domain}/.well-known/mta-sts.txt",
        policy="version: STSv1\r\nmode: enforce\r\nmx: *.esm-relay.example\r\n"
               "max_age: 604800\r\n\x1b[2Jhidden: \u202egnp.exe\r\n",
    )  # fmt: skip
    checks["tls_rpt"] = result("tls_rpt", Status.NONE, "no TLS-RPT record (optional)",
                               f"_smtp._tls.{domain}.")  # fmt: skip
    if dmarc_unknown:
        checks["dmarc"] = result(
            "dmarc", Status.UNKNOWN, "DNS query failed: timeout after 2 s from 127.0.0.1:5353",
            f"_dmarc.{domain}.",
            findings=(Finding(Severity.WARN, "dmarc.dns-failure", "Could not get TXT "
                              f"_dmarc.{domain}.: timeout after 2 s from 127.0.0.1:5353."),),
        )  # fmt: skip
    return hosted(DomainReport(domain, checks, CHECKED), "other")


class FixedChecks:
    """A checker that returns fixed reports; broken.example's DMARC times out on a recheck."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    async def __call__(self, settings: DomainSettings, fresh: bool) -> DomainReport:
        calls = self.calls[settings.name] = self.calls.get(settings.name, 0) + 1
        if settings.name == "broken.example":
            return broken(dmarc_unknown=calls > 1)
        return {"good.example": good, "shop.example": shop}[settings.name]()


class StillClock:
    """Time stands still unless the test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def inconsistent(report: DomainReport) -> DomainReport:
    """Every record: ns1 has it, ns2 lags behind with an older serial (no clock in the words)."""
    checks = {}
    for name, result in report.checks.items():
        servers = (
            ServerAnswer("192.0.2.1:53", "authoritative", "NOERROR", result.records, 300,
                         2026112702, "ns1.example.net."),
            ServerAnswer("192.0.2.2:53", "authoritative", "NXDOMAIN", (), 300, 2026112601,
                         "ns2.example.net."),
            ServerAnswer("127.0.0.1:5353", "resolver", "NOERROR", result.records, 287),
        )  # fmt: skip
        propagation = Propagation(
            PropagationState.INCONSISTENT, None, servers,
            "ns2.example.net. (192.0.2.2:53, SOA serial 2026112601) answers NXDOMAIN; "
            "ns1.example.net. has serial 2026112702.",
            ("192.0.2.2:53",),
        )  # fmt: skip
        checks[name] = replace(result, propagation=propagation)
    return replace(report, checks=checks)


async def fixed_propagation(report: DomainReport, fresh: bool) -> DomainReport:
    return inconsistent(report)


def snapshot_app(domains: tuple[str, ...] = ("good.example", "shop.example", "broken.example"),
                 propagation: bool = False) -> tuple[EsmApp, StillClock]:  # fmt: skip
    clock = StillClock()
    app = EsmApp(
        Config(settings=Settings(interval=300, history=False)),
        propagator=fixed_propagation if propagation else None,
        nameservers=[("127.0.0.1", 5353)],
        extra_domains=domains,
        checker=FixedChecks(),
        clock=clock,
        watch_config=False,
    )
    return app, clock


async def settle(pilot: Pilot, app: EsmApp, checks: int) -> None:
    def settled() -> bool:
        pending = any(app.monitor.view(d, "mx").propagation_pending for d in app.monitor.domains)
        started = app.monitor.checks_started
        return started >= checks and not app.monitor.running_checks() and not pending

    await until(pilot, settled, f"{checks} checks", state=lambda: app.monitor.checks_started)
    assert app.monitor.checks_started == checks


def prepare(
    clock: StillClock, domain: str, *, detail: str | None = None, stale: bool = True
) -> Callable[[Pilot], Awaitable[None]]:
    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, EsmApp)
        await settle(pilot, app, len(app.monitor.domains))
        if stale:  # broken.example's DMARC: the recheck times out, the last result stays
            app.query_one("#domains").select("broken.example")  # type: ignore[attr-defined]
            await pilot.pause()
            app.action_recheck()
            await settle(pilot, app, len(app.monitor.domains) + 1)
        app.query_one("#domains").select(domain)  # type: ignore[attr-defined]
        clock.now += 12
        await pilot.pause()
        if detail is not None:
            app.query_one(f"#card-{detail}", RecordCard).focus()
            await pilot.pause()
            await pilot.press("enter")
            await until(
                pilot,
                lambda: isinstance(app.screen, RecordDetailScreen) and app.screen.query(".title"),
                "the detail screen",
            )
        app._tick()
        await pilot.pause()
        app.clear_notifications()
        await pilot.pause()

    return run_before


def test_dashboard_80x24(snap_compare: Callable[..., bool]) -> None:
    app, clock = snapshot_app()
    assert snap_compare(app, terminal_size=(80, 24), run_before=prepare(clock, "broken.example"))


def test_dashboard_light_80x24(snap_compare: Callable[..., bool]) -> None:
    """The light theme: neutral borders drawn from its foreground, the selected row on a
    light tint (tests/test_tui_light_theme.py measures the contrast)."""
    app, clock = snapshot_app()
    app.theme = "textual-light"
    assert snap_compare(app, terminal_size=(80, 24), run_before=prepare(clock, "broken.example"))


def test_dashboard_120x40(snap_compare: Callable[..., bool]) -> None:
    app, clock = snapshot_app()
    assert snap_compare(app, terminal_size=(120, 40), run_before=prepare(clock, "broken.example"))


def test_detail_80x24(snap_compare: Callable[..., bool]) -> None:
    app, clock = snapshot_app()
    run_before = prepare(clock, "shop.example", detail="spf")
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_detail_120x40(snap_compare: Callable[..., bool]) -> None:
    app, clock = snapshot_app()
    run_before = prepare(clock, "shop.example", detail="spf")
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_detail_dkim_selectors_120x40(snap_compare: Callable[..., bool]) -> None:
    app, clock = snapshot_app()
    run_before = prepare(clock, "shop.example", detail="dkim", stale=False)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_empty_dashboard_80x24(snap_compare: Callable[..., bool]) -> None:
    app, _clock = snapshot_app(domains=())
    assert snap_compare(app, terminal_size=(80, 24))


def test_detail_propagation_matrix_120x40(snap_compare: Callable[..., bool]) -> None:
    app, clock = snapshot_app(propagation=True)
    run_before = prepare(clock, "good.example", detail="dmarc", stale=False)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_dashboard_propagation_80x24(snap_compare: Callable[..., bool]) -> None:
    app, clock = snapshot_app(propagation=True)
    run_before = prepare(clock, "good.example", stale=False)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
