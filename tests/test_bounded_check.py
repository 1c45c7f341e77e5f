"""Issue 19 through the real checks: hostile records end fast, slow checks are cut off.

The real `esm-tui check` asks a loopback DNS server (over UDP, then TCP for the 60 KB
answers) for the records of the issue; the watchdog is held by checks that really burn
CPU or really wait, run by `check_domain` beside a domain that must not be held up.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostile_inputs import spf_with_run

from esm_tui import checks
from esm_tui.checks import check_domain, limits, watchdog
from esm_tui.checks.context import CheckContext
from esm_tui.checks.watchdog import TookTooLong, bounded
from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from esm_tui.dns import Dns
from esm_tui.model import DomainSettings, RecordResult, Status

SIZE = 60 * 1024
#: The issue's record: 25 s of CPU before the fix.
COLONS = "v=spf1 a:" + ":" * 30_000 + "x -all"
RECORDS = {
    "colons30k.example": {"": COLONS},
    "spf-a-colons.example": {"": spf_with_run("a:", ":", SIZE)},
    "spf-macros.example": {"": spf_with_run("a:", "%{", SIZE)},
    "spf-spaces.example": {"": spf_with_run("a:", "a ", SIZE)},
    "dmarc-commas.example": {"_dmarc.": "v=DMARC1; p=none; rua=" + "," * SIZE},
    "calm.example": {"": "v=spf1 ip4:192.0.2.10 -all"},
}


def _records() -> Records:
    records = Records()
    for domain, owners in RECORDS.items():
        records.add_zone(f"{domain}.")
        records.add(f"{domain}.", "MX", f"10 mx.{domain}.")
        records.add(f"mx.{domain}.", "A", "192.0.2.10")
        for prefix, value in owners.items():
            records.add_txt(f"{prefix}{domain}.", value)
    return records


@pytest.fixture(scope="module")
def server() -> Iterator[DnsServer]:
    with DnsServer(_records()) as srv:
        yield srv


@pytest.fixture(scope="module")
def report(server: DnsServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One real `check --json` of every domain above."""
    tmp = tmp_path_factory.mktemp("bounded")
    config = tmp / "config.toml"
    config.write_text(
        "[settings]\ntimeout = 2.0\nretries = 0\nhistory = false\n"
        f'nameservers = ["{server.address}"]\n',
        encoding="utf-8",
    )
    env = {**os.environ, "ESM_TUI_DATA_DIR": str(tmp)}
    env.pop("ESM_TUI_CONFIG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "esm_tui", "check", "--json", "--config", str(config), *RECORDS],
        capture_output=True,
        env=env,
        timeout=300,  # a bound on a hang, not a speed test: benchmarks/hostile_records.py is
        check=False,
    )
    assert "Traceback" not in proc.stderr.decode(), proc.stderr.decode()[-2000:]
    doc = json.loads(proc.stdout)
    return {d["domain"]: d["checks"] for d in doc["domains"]}


@pytest.mark.parametrize("domain", [d for d in RECORDS if d.startswith(("colons", "spf-"))])
def test_a_hostile_spf_record_is_a_syntax_error(report: dict[str, Any], domain: str) -> None:
    spf = report[domain]["spf"]
    assert spf["status"] == "fail"
    codes = [f["code"] for f in spf["findings"]]
    assert "spf.syntax-error" in codes
    assert "spf.record-size" in codes  # over 450 bytes, said — never silently cut
    assert spf["records"] == [RECORDS[domain][""]]  # the record is shown whole, never cut


def test_a_record_under_450_bytes_gets_no_size_note(report: dict[str, Any]) -> None:
    spf = report["calm.example"]["spf"]
    assert spf["status"] == "ok"
    assert "spf.record-size" not in [f["code"] for f in spf["findings"]]


def test_sixty_thousand_bad_uris_are_capped_and_counted(report: dict[str, Any]) -> None:
    dmarc = report["dmarc-commas.example"]["dmarc"]
    codes = [f["code"] for f in dmarc["findings"]]
    assert max(codes.count(c) for c in set(codes)) <= limits.PER_CODE
    capped = [f for f in dmarc["findings"] if f["code"] == "dmarc.findings-capped"]
    assert len(capped) == 1 and capped[0]["severity"] == "info"
    more = int(capped[0]["message"].split(": ")[1].split(" more")[0].replace(",", ""))
    assert more > 50_000  # ~61,000 empty URIs, counted rather than listed
    assert dmarc["status"] != "ok"  # the kept findings carry the verdict


# -- the watchdog -----------------------------------------------------------------------------


def _spin(seconds: float) -> None:
    """Really burn CPU (no await): what a super-linear parser would do."""
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


async def test_a_step_over_its_cpu_budget_is_stopped() -> None:
    finished = False

    async def hog() -> None:
        nonlocal finished
        await asyncio.sleep(0)
        _spin(60)
        finished = True

    start = time.process_time()
    with pytest.raises(TookTooLong, match="CPU"):
        await bounded(hog(), wall=600, step_cpu=0.2)
    assert not finished
    assert time.process_time() - start < 30  # far from the 60 s it would have burnt


async def test_a_check_past_its_total_bound_is_stopped() -> None:
    never = asyncio.Event()
    with pytest.raises(TookTooLong, match=r"more than 0\.2 s"):
        await bounded(never.wait(), wall=0.2)


async def test_a_step_that_catches_exception_cannot_swallow_the_stop() -> None:
    async def stubborn() -> str:
        try:
            _spin(60)
        except Exception:  # noqa: BLE001 - what a careless parser might do
            return "swallowed"
        return "finished"

    with pytest.raises(TookTooLong):
        await bounded(stubborn(), wall=600, step_cpu=0.2)


async def test_a_slow_check_is_unknown_and_the_other_domains_go_on(
    server: DnsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = checks.registry()

    async def slow_bimi(domain: DomainSettings, ctx: CheckContext) -> RecordResult:
        if domain.name == "colons30k.example":
            await asyncio.sleep(0)
            _spin(60)
        return await real["bimi"](domain, ctx)

    monkeypatch.setattr(checks, "registry", lambda: {**real, "bimi": slow_bimi})
    monkeypatch.setattr(watchdog, "STEP_CPU", 0.3)
    dns = Dns([(server.host, server.port)], timeout=2.0, retries=0)
    slow, calm = await asyncio.gather(
        check_domain(DomainSettings("colons30k.example"), CheckContext(dns)),
        check_domain(DomainSettings("calm.example"), CheckContext(dns)),
    )
    bimi = slow.checks["bimi"]
    assert bimi.status == Status.UNKNOWN
    assert bimi.summary == "the check took too long"
    assert [f.code for f in bimi.findings] == ["bimi.took-too-long"]
    assert slow.checks["spf"].status == Status.FAIL  # the rest of that domain was judged
    assert calm.checks["spf"].status == Status.OK
    assert calm.checks["bimi"].status == Status.NONE  # no BIMI there: judged, not cut


def test_the_watchdog_stops_a_check_in_the_real_command(tmp_path: Path) -> None:
    """The `check` command runs the checks in its main thread, so the CPU alarm works there."""
    code = (
        "import asyncio, time\n"
        "from esm_tui.checks.watchdog import bounded, TookTooLong\n"
        "async def hog():\n"
        "    end = time.process_time() + 60\n"
        "    while time.process_time() < end: pass\n"
        "try:\n"
        "    asyncio.run(bounded(hog(), wall=600, step_cpu=0.2))\n"
        "except TookTooLong as exc:\n"
        "    print('stopped:', exc.what)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.stdout.startswith("stopped: one step used more than 0.2 s of CPU"), proc.stderr
