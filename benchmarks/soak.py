"""Soak: the dashboard with 200 demo domains for 15 minutes against a resolver that fails.

    .venv/bin/python benchmarks/soak.py                  # 200 domains, 5 s, 15 min, 10 %
    .venv/bin/python benchmarks/soak.py --minutes 1      # a quick try

The domains are copies of the demo's four (good, shop, broken, late: esm_tui/demo/zones),
renamed `good-000.example` … so the mix of ok / warn / fail records is the demo's. They
are served by the loopback DNS server in a separate process (its CPU and memory are not
the app's), wrapped so that a seeded random `--fail` share of all queries fails: half are
dropped (the client times out), half answered SERVFAIL.

The real EsmApp runs headless through Textual's pilot at 120x40 with `--interval` 5 s
(the `interval` setting; load_config would insist on ≥ 10 s, so the Config is built
directly), timeout 1 s and no retry, so injected failures reach the checks and the cards
go stale. Every 10 s the script records: whether the app is still running, RSS (the
app and its engine process, esm_tui/engine.py, and each alone), the
number of asyncio tasks in the app's loop, Textual workers (`app.workers`), checks
begun, and results that came back `unknown`. It prints JSON: start (after one full
cycle and a 30 s warm-up) / end / max of each, growth %, and the failures injected.

Targets (issue 7): no crash, no growth in tasks or workers, RSS growth ≤ 10 %.
Not part of the test suite: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import sys
import time
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tui import cpu_s, engine_stat, log, rss_mb, wait_for

KINDS = ("good", "shop", "broken", "late")
SIZE = (120, 40)


def domain_names(n: int) -> list[str]:
    return [f"{KINDS[i % 4]}-{i // 4:03d}.example" for i in range(n)]


def soak_records(n: int):
    """The relay zone once, and each demo customer zone copied under a new name."""
    from esm_tui.demo.records import Records

    records = Records()
    zones = resources.files("esm_tui.demo") / "zones"
    with resources.as_file(zones / "esm-relay.example.zone") as path:
        records.load_zone_file(path)
    for name in domain_names(n):
        kind = name.split("-")[0]
        with resources.as_file(zones / f"{kind}.example.zone") as path:
            records.load_zone_file(path, origin=name)
    return records


def _serve(n: int, fail: float, seed: int, ready, commands) -> None:
    import dns.message
    import dns.rcode

    from esm_tui.demo.server import DnsServer

    class FailingServer(DnsServer):
        """Fails a random share of queries: half dropped, half SERVFAIL."""

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.rng = random.Random(seed)
            self.total = self.dropped = self.servfail = 0

        async def _reply(self, wire: bytes, *, tcp: bool) -> bytes | None:
            self.total += 1
            if self.rng.random() < fail:
                if self.rng.random() < 0.5:
                    self.dropped += 1
                    return None
                try:
                    query = dns.message.from_wire(wire)
                except Exception:  # noqa: BLE001 - garbage in: say nothing
                    return None
                self.servfail += 1
                response = dns.message.make_response(query)
                response.set_rcode(dns.rcode.SERVFAIL)
                return response.to_wire()
            return await super()._reply(wire, tcp=tcp)

    server = FailingServer(soak_records(n), "127.0.0.1", 0).start()
    ready.put(server.port)
    commands.get()
    ready.put({"queries": server.total, "dropped": server.dropped, "servfail": server.servfail})
    server.stop()


class FailingResolver:
    """The failing server in its own process."""

    def __init__(self, n: int, fail: float, seed: int) -> None:
        ctx = multiprocessing.get_context("fork")
        self.ready, self.commands = ctx.Queue(), ctx.Queue()
        self.proc = ctx.Process(target=_serve, args=(n, fail, seed, self.ready, self.commands))
        self.proc.start()
        self.port = self.ready.get(timeout=60)

    def stop(self) -> dict:
        self.commands.put("stop")
        stats = self.ready.get(timeout=30)
        self.proc.join(30)
        return stats


def make_config(domains: list[str], port: int, args: argparse.Namespace):
    from esm_tui.config import Config, DomainConfig, Relay, Settings

    settings = Settings(
        interval=args.interval,
        timeout=args.timeout,
        retries=args.retries,
        concurrency=64,
        nameservers=(("127.0.0.1", port),),
        history=False,
    )
    relay = Relay(
        mx=("*.esm-relay.example",),
        spf_include=("_spf.esm-relay.example",),
        spf_ips=("192.0.2.25",),
        dkim_selectors=("esm",),
    )
    return Config(settings=settings, relay=relay, domains=tuple(DomainConfig(d) for d in domains))


def unknown_results(app) -> int:
    monitor = app.monitor
    count = 0
    for name in monitor.domains:
        report = monitor.report(name)
        if report is not None:
            count += sum(1 for r in report.checks.values() if r.status.name == "UNKNOWN")
    return count


async def soak(domains: list[str], port: int, args: argparse.Namespace) -> dict:
    from esm_tui.app import EsmApp

    app = EsmApp(make_config(domains, port, args), watch_config=False)
    samples: list[dict] = []
    errors: list[str] = []
    crashed = None
    started = time.perf_counter()
    try:
        async with app.run_test(size=SIZE) as pilot:
            monitor = app.monitor
            await wait_for(
                lambda: all(monitor.report(d) is not None for d in monitor.domains), 300, 0.1
            )
            log("first cycle", round(time.perf_counter() - started, 1), "s; warm-up 30 s")
            await asyncio.sleep(30)
            begin = time.perf_counter()
            end = begin + args.minutes * 60
            checks0, cpu0, engine0 = monitor.checks_started, cpu_s(), engine_stat(app)[0]
            keys = 0
            while True:
                now = time.perf_counter()
                app_mb, engine_mb = rss_mb(), engine_stat(app)[1]
                sample = {
                    "t_s": round(now - begin, 1),
                    "running": app.is_running,
                    "rss_mb": round(app_mb + engine_mb, 1),
                    "app_mb": round(app_mb, 1),
                    "engine_mb": round(engine_mb, 1),
                    "tasks": len(asyncio.all_tasks()),
                    "workers": len(app.workers),
                    "checks": monitor.checks_started - checks0,
                    "unknown_results": unknown_results(app),
                }
                samples.append(sample)
                log("soak", sample)
                if not app.is_running or now >= end:
                    break
                # Someone at the keyboard now and then: move, open a card, go back.
                for key in ("down", "enter", "escape", "up")[keys % 4 : keys % 4 + 1]:
                    await pilot.press(key)
                keys += 1
                await asyncio.sleep(min(10.0, max(0.0, end - time.perf_counter())))
            cpu_used = cpu_s() - cpu0 + engine_stat(app)[0] - engine0
            engine_starts = app.engine.starts
            elapsed = time.perf_counter() - begin
            await pilot.press("q")
    except Exception as exc:  # noqa: BLE001 - a crash is the result being measured
        crashed = repr(exc)
        errors.append(crashed)
        cpu_used = elapsed = float("nan")
        engine_starts = None
    if not samples:
        return {"crashed": crashed, "errors": errors}

    def triple(key: str) -> dict:
        values = [s[key] for s in samples]
        return {"start": values[0], "end": values[-1], "max": max(values), "min": min(values)}

    rss = triple("rss_mb")
    return {
        "crashed": crashed,
        "app_running_throughout": all(s["running"] for s in samples),
        "domains": len(domains),
        "interval_s": args.interval,
        "minutes": round(elapsed / 60, 2),
        "checks_completed": samples[-1]["checks"],
        "cpu_pct": round(100 * cpu_used / elapsed, 1) if elapsed == elapsed else None,
        "rss_mb": rss,
        "rss_growth_pct": round(100 * (rss["end"] - rss["start"]) / rss["start"], 2),
        "app_mb": triple("app_mb"),
        "engine_mb": triple("engine_mb"),
        "engine_starts": engine_starts,
        "tasks": triple("tasks"),
        "workers": triple("workers"),
        "unknown_results_on_screen": triple("unknown_results"),
        "samples": samples if args.samples else len(samples),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=200)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--fail", type=float, default=0.10, help="share of queries that fail")
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--retries", type=int, default=0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--samples", action="store_true", help="include the time series")
    args = parser.parse_args()

    domains = domain_names(args.domains)
    resolver = FailingResolver(args.domains, args.fail, args.seed)
    try:
        result = asyncio.run(soak(domains, resolver.port, args))
    finally:
        counts = resolver.stop()
    injected = counts["dropped"] + counts["servfail"]
    result["resolver"] = {
        **counts,
        "failed_pct": round(100 * injected / max(counts["queries"], 1), 2),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
