"""`esm-tui fix` without --apply (SPEC §6): the plan, through the real command over
loopback DNS (records of our own making on the demo server).

Each change holds the whole record set before and after; a TXT change replaces only the
record of its kind; a name that is a CNAME gets a manual change, never a TXT beside it;
exit 1 with changes pending, 0 with none; --apply without [publish] is a usage error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from esm_tui.publish.plan import to_rdata_text

RELAY = '[relay]\nspf_include = ["_spf.relay.example"]\n'


def _zone(r: Records, d: str, *txt: str) -> None:
    r.add_zone(f"{d}.", f"ns1.{d}. hostmaster.{d}. 1 3600 600 86400 300")
    r.add(f"{d}.", "NS", f"ns1.{d}.")
    r.add(f"ns1.{d}.", "A", "127.0.0.1")
    r.add(f"{d}.", "MX", f"10 mx.{d}.")
    r.add(f"mx.{d}.", "A", "192.0.2.10")
    for text in txt:
        r.add_txt(f"{d}.", text)


@pytest.fixture(scope="module")
def server() -> Iterator[DnsServer]:
    r = Records()
    r.add_zone("relay.example.")
    r.add_txt("_spf.relay.example.", "v=spf1 ip4:192.0.2.25 -all")
    # +all beside two other TXT records, and no DMARC.
    _zone(r, "plusall.example", "v=spf1 +all", "google-site-verification=abc", "ms=ms123")
    r.add_txt("_dmarc.plusall.example.", "v=DMARC1; p=reject; rua=mailto:d@plusall.example")
    # Everything right: nothing to change.
    _zone(r, "fine.example", "v=spf1 include:_spf.relay.example -all")
    r.add_txt("_dmarc.fine.example.", "v=DMARC1; p=reject; rua=mailto:d@fine.example")
    # DMARC delegated by CNAME to a provider, and a policy that needs fixing there.
    _zone(r, "delegated.example", "v=spf1 include:_spf.relay.example -all")
    r.add("_dmarc.delegated.example.", "CNAME", "delegated.dmarc.provider.example.")
    r.add_zone("provider.example.")
    r.add_txt("delegated.dmarc.provider.example.", "v=DMARC1; p=bogus")
    with DnsServer(r) as srv:
        yield srv


def fix(
    server: DnsServer, tmp: Path, *args: str, config: str = RELAY
) -> subprocess.CompletedProcess:
    path = tmp / "config.toml"
    path.write_text(f"[settings]\nport = {server.port}\ntimeout = 2.0\n{config}", encoding="utf-8")
    env = {**os.environ, "ESM_TUI_DATA_DIR": str(tmp)}
    env.pop("ESM_TUI_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "esm_tui", "fix", "--config", str(path),
         "--nameserver", server.address, *args],
        capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def plan_json(server: DnsServer, tmp: Path, *args: str) -> tuple[int, dict[str, Any]]:
    out = fix(server, tmp, "--json", *args)
    assert "Traceback" not in out.stderr, out.stderr
    return out.returncode, json.loads(out.stdout)


def test_an_spf_change_replaces_only_the_spf_record(server: DnsServer, tmp_path: Path) -> None:
    code, plan = plan_json(server, tmp_path, "plusall.example", "--only", "spf")
    assert code == 1
    [change] = plan["changes"]
    assert (change["name"], change["type"], change["manual"]) == ("plusall.example.", "TXT", False)
    assert sorted(change["before"]) == ["google-site-verification=abc", "ms=ms123", "v=spf1 +all"]
    after = sorted(change["after"])
    # The two other TXT records stay; one SPF record, with the relay, without +all.
    assert after[:2] == ["google-site-verification=abc", "ms=ms123"]
    [spf] = [v for v in after if v.startswith("v=spf1")]
    assert "+all" not in spf and "include:_spf.relay.example" in spf
    assert "+all" in change["why"]


def test_only_filters_and_the_text_plan_says_what_stays(server: DnsServer, tmp_path: Path) -> None:
    out = fix(server, tmp_path, "plusall.example", "--only", "spf")
    assert out.returncode == 1
    assert '- "v=spf1 +all"' in out.stdout
    assert '"google-site-verification=abc"  (stays)' in out.stdout
    assert "DMARC" not in out.stdout.split("\n", 1)[1]
    assert "1 change esm-tui can publish" in out.stdout


def test_nothing_to_change_exits_0(server: DnsServer, tmp_path: Path) -> None:
    code, plan = plan_json(server, tmp_path, "fine.example", "--only", "spf", "--only", "dmarc")
    assert code == 0, plan
    assert plan["changes"] == []


def test_a_cname_delegation_is_manual_and_names_the_target(
    server: DnsServer, tmp_path: Path
) -> None:
    code, plan = plan_json(server, tmp_path, "delegated.example", "--only", "dmarc")
    assert code == 1
    [change] = plan["changes"]
    assert change["manual"] is True
    # Never a TXT beside the CNAME: the change is the admin's, at the target's operator or
    # by replacing the CNAME, and says so.
    assert change["name"] == "_dmarc.delegated.example."
    assert "is a CNAME to delegated.dmarc.provider.example" in change["why"]
    assert "replace the CNAME" in change["why"]


def test_apply_without_publish_is_a_usage_error(server: DnsServer, tmp_path: Path) -> None:
    out = fix(server, tmp_path, "plusall.example", "--only", "spf", "--apply", "--yes")
    assert out.returncode == 64
    assert "no [publish] configured" in out.stderr
    assert "Traceback" not in out.stderr


def test_bad_input_is_64_without_a_traceback(server: DnsServer, tmp_path: Path) -> None:
    out = fix(server, tmp_path, "exa mple..com")
    assert out.returncode == 64 and "Traceback" not in out.stderr
    out = fix(server, tmp_path, "plusall.example", "--only", "nope")
    assert out.returncode == 64


def test_long_txt_values_are_split_into_255_byte_strings() -> None:
    value = "v=DKIM1; k=rsa; p=" + "A" * 600
    text = to_rdata_text("TXT", value)
    strings = text.split('" "')
    assert len(strings) == 3
    assert all(len(s.strip('"').encode()) <= 255 for s in strings)
    assert "".join(s.strip('"') for s in strings) == value


def test_a_broken_spf_record_is_replaced_not_doubled(tmp_path: Path) -> None:
    """A TXT record meant as SPF but quoted (a web form kept the quotes) is the one the
    plan replaces: no second SPF-like record beside the fixed one (issue 18 item 1)."""
    r = Records()
    _zone(r, "quoted.example", '"v=spf1 ip4:198.51.100.0/24 -all"', "ms=keep")
    r.add_txt("_dmarc.quoted.example.", "v=DMARC1; p=reject; rua=mailto:d@quoted.example")
    with DnsServer(r) as server:
        out = fix(server, tmp_path, "--json", "quoted.example", "--only", "spf", config="")
    plan = json.loads(out.stdout)
    [change] = plan["changes"]
    assert sorted(change["after"]) == ["ms=keep", "v=spf1 ip4:198.51.100.0/24 -all"]
    assert '"v=spf1 ip4:198.51.100.0/24 -all"' in change["before"]


async def test_a_proposed_spf_record_over_ten_lookups_is_not_published() -> None:
    """The plan walks each SPF record it would publish again (SPEC §6): eleven includes
    make the change manual, with the counts, whatever the fix computed."""
    from esm_tui.dns import Dns
    from esm_tui.publish.plan import Change, Plan
    from esm_tui.publish.service import recounted

    r = Records()
    r.add_zone("over.example.")
    for i in range(11):
        r.add_txt(f"_s{i}.over.example.", f"v=spf1 ip4:198.51.{i}.0/24 -all")
    value = "v=spf1 " + " ".join(f"include:_s{i}.over.example" for i in range(11)) + " -all"
    after_rdata = (to_rdata_text("TXT", value),)
    change = Change("spf", "over.example.", "TXT", 300, ("v=spf1 -all",), (value,), False,
                    "test", before_rdata=('"v=spf1 -all"',), after_rdata=after_rdata)  # fmt: skip
    with DnsServer(r) as server:
        dns = Dns([server.server], timeout=2.0, retries=0)
        try:
            plan = await recounted(dns, Plan("over.example", "over.example.", (change,)))
        finally:
            dns.close()
    [after] = plan.changes
    assert after.manual and "needs 11 DNS lookups" in after.why
    assert plan.automatic == ()
