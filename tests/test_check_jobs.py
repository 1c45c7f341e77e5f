"""`esm-tui check` over several processes (check_jobs): the same results in the same order
as one process, each shared name still asked once, and a failed process costs only time."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Callable, Iterator

import pytest

from esm_tui import check_jobs, report
from esm_tui.checks import check_domain
from esm_tui.checks.context import CheckContext
from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from esm_tui.dns import Dns
from esm_tui.model import DomainReport, DomainSettings

DOMAINS = [f"d{i:02d}.test" for i in range(40)]


@pytest.fixture(autouse=True)
def _thaw() -> Iterator[None]:
    """check_all freezes what each finished domain left (cli runs it inside
    _few_collections, which undoes that): undone here too, for the tests after these."""
    yield
    gc.unfreeze()


@pytest.fixture
def server() -> Iterator[DnsServer]:
    records = Records()
    records.add_zone("relay.test.")
    records.add("mx1.relay.test.", "A", "192.0.2.1")
    records.add_txt("_spf.relay.test.", "v=spf1 ip4:192.0.2.0/24 -all")
    records.add_zone("provider.test.")
    records.add_txt(
        "_spf.provider.test.", "v=spf1 ip4:198.51.100.0/24 include:_spf.relay.test -all"
    )
    for name in DOMAINS:
        records.add_zone(f"{name}.")
        records.add(f"{name}.", "MX", "10 mx1.relay.test.")
        records.add_txt(
            f"{name}.", "v=spf1 include:_spf.provider.test include:_spf.relay.test -all"
        )
        records.add_txt(f"_dmarc.{name}.", "v=DMARC1; p=reject")
    with DnsServer(records) as running:
        yield running


def _settings(name: str) -> DomainSettings:
    return DomainSettings(
        name, relay_mx=("mx1.relay.test",), spf_include=("_spf.relay.test",), spf_ips=("192.0.2.1",)
    )


def _checker(server: DnsServer, concurrency: int = 16) -> tuple[Dns, check_jobs.Check]:
    dns = Dns([server.server], timeout=2, retries=1, concurrency=concurrency)

    async def one(name: str) -> DomainReport:
        return await check_domain(_settings(name), CheckContext(dns))

    return dns, one


def _failing_in_children(parent: int) -> Callable[[DomainReport], tuple[int, str]]:
    def encode(r: DomainReport) -> tuple[int, str]:
        if os.getpid() != parent:
            raise RuntimeError("a bug that only the children meet")
        return os.getpid(), r.domain

    return encode


def _run(server: DnsServer, jobs: int) -> tuple[list[tuple[int, str, str]], Dns]:
    dns, one = _checker(server)

    def encode(r: DomainReport) -> tuple[int, str, str]:
        return os.getpid(), r.domain, report.fragment(r)

    return check_jobs.check_all(DOMAINS, one, encode, dns, jobs), dns


@pytest.fixture
def small_warm_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(check_jobs, "WARM", 4)


def test_two_processes_give_what_one_gives_in_order(
    server: DnsServer, small_warm_up, children_first
) -> None:
    alone, _ = _run(server, 1)
    server.queries.clear()
    split, dns = _run(server, 2)
    assert [(d, j) for _, d, j in split] == [(d, j) for _, d, j in alone]
    assert [d for _, d, _ in split] == DOMAINS
    # The first 4 domains here (the warm-up), the rest dealt to both processes in runs.
    pids = [pid for pid, _, _ in split]
    assert set(pids[:4]) == {os.getpid()}
    assert len(set(pids[4:]) - {os.getpid()}) == 1, "a forked process checked some"
    # The shared names (relay MX host, both includes) were met in the warm-up and reached
    # the child in its cache: every (name, type) was asked once over both processes.
    assert server.queries[("_spf.provider.test.", "TXT")] == 1
    assert max(server.queries.values()) == 1
    # Each process had half of the queries in flight the config allows.
    assert dns.concurrency == 8


def test_a_slow_process_takes_fewer_domains(small_warm_up) -> None:
    """Runs go to whichever process is free: a child ten times slower per domain than the
    parent ends up with far fewer domains than a fixed half (198 of 396)."""
    parent = os.getpid()
    names = [f"n{i:03d}.test" for i in range(400)]
    dns = Dns([("127.0.0.1", 9)], concurrency=32)  # never asked: these checks are sleeps

    async def one(name: str) -> str:
        await asyncio.sleep(0.2 if os.getpid() != parent else 0.02)
        return name

    def encode(name: str) -> tuple[int, str]:
        return os.getpid(), name

    results = check_jobs.check_all(names, one, encode, dns, 2)  # type: ignore[arg-type]
    assert [n for _, n in results] == names
    theirs = [n for pid, n in results if pid != parent]
    # 16 domains at a time in each process: the child's first 16 take 0.2 s, in which the
    # parent gets through ~160; the whole run is over in ~0.4 s.
    assert 16 <= len(theirs) <= 100, len(theirs)


def test_tickets_deal_every_domain_once() -> None:
    tickets = check_jobs._Tickets.deal(10)
    assert tickets is not None
    assert list(check_jobs._taken([f"n{i}" for i in range(10)], tickets)) == [
        (i, f"n{i}") for i in range(10)
    ]
    assert tickets.take() is None  # all taken: EOF, not a wait
    tickets.close()
    # However many domains, the tickets fit into the pipe before anyone reads them.
    big = check_jobs._Tickets.deal(1_000_000)
    assert big is not None and big.run == 245
    starts = []
    while (start := big.take()) is not None:
        starts.append(start)
    big.close()
    assert starts == list(range(0, 1_000_000, 245))
    assert len(starts) <= check_jobs._Tickets.MAX


@pytest.fixture
def children_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """The parent starts on its share 0.3 s after the fork, so that each child has taken
    the runs for its first domains by then (else a busy machine may start a child only
    after the parent has taken every run)."""
    parent = os.getpid()
    forked: list[bool] = []
    fork, check_each = check_jobs._fork, check_jobs._check_each

    def fork_and_note(*args, **kwargs):  # type: ignore[no-untyped-def]
        children = fork(*args, **kwargs)
        forked.append(True)  # in the parent only: a child never returns from fork()
        return children

    async def parent_late(*args, **kwargs):  # type: ignore[no-untyped-def]
        if os.getpid() == parent and forked:
            forked.clear()
            await asyncio.sleep(0.3)
        return await check_each(*args, **kwargs)

    monkeypatch.setattr(check_jobs, "_fork", fork_and_note)
    monkeypatch.setattr(check_jobs, "_check_each", parent_late)


def test_a_failed_process_costs_only_time(
    server: DnsServer, small_warm_up, children_first, capfd: pytest.CaptureFixture[str]
) -> None:
    parent = os.getpid()
    dns, one = _checker(server)
    results = check_jobs.check_all(DOMAINS, one, _failing_in_children(parent), dns, 2)
    assert results == [(parent, d) for d in DOMAINS]
    err = capfd.readouterr().err
    # The child had taken the runs its 16 workers started with (4 runs of 4 domains).
    assert "a check process failed; checking the 16 domains it had taken here" in err


def test_three_processes_share_the_runs_and_two_failures_cost_only_time(
    server: DnsServer, small_warm_up, children_first, capfd: pytest.CaptureFixture[str]
) -> None:
    parent = os.getpid()
    dns, one = _checker(server, concurrency=48)
    results = check_jobs.check_all(DOMAINS, one, _failing_in_children(parent), dns, 3)
    assert results == [(parent, d) for d in DOMAINS]
    err = capfd.readouterr().err
    # 16 domains in flight in each process: each child took 4 runs of 4 at its start,
    # the parent the last run, then the 32 domains the children had taken.
    assert "2 check processes failed; checking the 32 domains they had taken here" in err


def test_no_process_to_be_had_means_one_process(
    server: DnsServer,
    small_warm_up,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """fork failing (EAGAIN: the user's process limit): the parent checks everything."""

    def refuse() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refuse)
    results, _ = _run(server, 2)
    assert [d for _, d, _ in results] == DOMAINS
    assert {pid for pid, _, _ in results} == {os.getpid()}
    err = capfd.readouterr().err
    assert "could not start a check process (Resource temporarily unavailable)" in err


def test_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3})
    assert check_jobs.plan(1000) == 3  # one per core, 250 domains or more each
    assert check_jobs.plan(5000) == 4
    assert check_jobs.plan(200) == 1  # too few to pay for a second process
    assert check_jobs.plan(1000, 1) == 1  # --jobs 1: one process
    assert check_jobs.plan(1000, 20) == check_jobs.MAX_JOBS
    assert check_jobs.plan(10, 4) == 1  # nothing left to split after the warm-up
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0})
    assert check_jobs.plan(5000) == 1


def test_the_real_command_with_two_processes_prints_what_one_prints(
    server: DnsServer, tmp_path
) -> None:
    import json
    import re
    import subprocess
    import sys

    config = tmp_path / "config.toml"
    config.write_text(
        f'[settings]\ntimeout = 2.0\nconcurrency = 16\nnameservers = ["{server.address}"]\n'
        '[relay]\nmx = ["mx1.relay.test"]\nspf_include = ["_spf.relay.test"]\n'
        'spf_ips = ["192.0.2.1"]\n' + "".join(f'[[domains]]\nname = "{d}"\n' for d in DOMAINS),
        encoding="utf-8",
    )
    outputs = []
    command = [sys.executable, "-m", "esm_tui", "check", "--json", "--config", str(config)]
    for jobs in ("1", "2"):
        out = subprocess.run(
            [*command, "--jobs", jobs],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 1, out.stderr  # warn: no DKIM selector, as configured
        assert out.stderr == ""
        outputs.append(re.sub(r'"checked_at": "[^"]*"', '"checked_at": ""', out.stdout))
    assert outputs[0] == outputs[1]
    assert [d["domain"] for d in json.loads(outputs[1])["domains"]] == DOMAINS
    # The table: the children send whole reports back (pickled), not JSON text.
    tables = [
        subprocess.run(
            [*command[:-3], "--config", str(config), "--jobs", jobs],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        for jobs in ("1", "2")
    ]
    assert tables[0] == tables[1]
    assert [line.split()[0] for line in tables[1].splitlines()[2:42]] == DOMAINS
