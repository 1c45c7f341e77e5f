"""esm_tui.publish.rfc2136 against the demo server's RFC 2136 support (esm_tui.demo.update),
over real sockets: a signed update with prerequisites is applied whole; unsigned, wrongly
signed or stale ones are refused and change nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import dns.name
import dns.rdatatype
import pytest

from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from esm_tui.demo.update import DEMO_KEY_ALGORITHM, DEMO_KEY_NAME, keyring, new_demo_secret
from esm_tui.publish.plan import Change, to_rdata_text
from esm_tui.publish.rfc2136 import TsigKey, build_update, send

SECRET = new_demo_secret()
KEY = TsigKey(DEMO_KEY_NAME, DEMO_KEY_ALGORITHM, SECRET)


@pytest.fixture
def server() -> Iterator[DnsServer]:
    r = Records()
    r.add_zone("zone.example.", "ns1.zone.example. h.zone.example. 7 3600 600 86400 300")
    r.add_txt("zone.example.", "v=spf1 +all", "google-site-verification=keep-me")
    with DnsServer(r, update_keyring=keyring(DEMO_KEY_NAME, SECRET)) as srv:
        yield srv


def _txt(server: DnsServer, name: str) -> list[str]:
    rds = server.records.rdataset(dns.name.from_text(name), dns.rdatatype.TXT)
    return sorted(b"".join(r.strings).decode() for r in rds) if rds else []


def _spf_change(server: DnsServer) -> Change:
    before = sorted(
        r.to_text()
        for r in server.records.rdataset(dns.name.from_text("zone.example."), dns.rdatatype.TXT)
    )
    keep = [t for t in before if "keep-me" in t]
    after = [*keep, to_rdata_text("TXT", "v=spf1 -all")]
    return Change("spf", "zone.example.", "TXT", 300, (), (), False, "test",
                  before_rdata=tuple(before), after_rdata=tuple(after))  # fmt: skip


def _dmarc_change() -> Change:
    value = to_rdata_text("TXT", "v=DMARC1; p=none")
    return Change("dmarc", "_dmarc.zone.example.", "TXT", 3600, (), (), False, "test",
                  before_rdata=(), after_rdata=(value,))  # fmt: skip


def test_a_signed_update_applies_the_whole_plan_and_keeps_the_rest(server: DnsServer) -> None:
    update = build_update("zone.example.", [_spf_change(server), _dmarc_change()], KEY)
    outcome = send(update, server.server, timeout=2.0)
    assert outcome.applied, outcome.message
    assert _txt(server, "zone.example.") == ["google-site-verification=keep-me", "v=spf1 -all"]
    assert _txt(server, "_dmarc.zone.example.") == ["v=DMARC1; p=none"]
    soa = server.records.rdataset(dns.name.from_text("zone.example."), dns.rdatatype.SOA)
    assert next(iter(soa)).serial == 8


def test_unsigned_or_wrongly_signed_updates_change_nothing(server: DnsServer) -> None:
    before = _txt(server, "zone.example.")
    unsigned = send(build_update("zone.example.", [_spf_change(server)], None), server.server, 2.0)
    assert not unsigned.applied and "REFUSED" in unsigned.message
    wrong = TsigKey(DEMO_KEY_NAME, DEMO_KEY_ALGORITHM, new_demo_secret())
    bad = send(build_update("zone.example.", [_spf_change(server)], wrong), server.server, 2.0)
    assert not bad.applied and "Nothing was applied" in bad.message
    assert _txt(server, "zone.example.") == before


def test_a_zone_changed_since_the_plan_is_not_touched(server: DnsServer) -> None:
    change = _spf_change(server)
    server.records.add_txt("zone.example.", "someone-else=added-this")  # after the plan
    outcome = send(
        build_update("zone.example.", [change, _dmarc_change()], KEY), server.server, 2.0
    )
    assert not outcome.applied
    assert "NXRRSET" in outcome.message and "run `esm-tui fix` again" in outcome.message
    # Atomic: the DMARC half of the plan was not applied either.
    assert _txt(server, "_dmarc.zone.example.") == []
    assert "v=spf1 +all" in _txt(server, "zone.example.")
