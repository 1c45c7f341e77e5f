"""Dashboard benchmark: the real EsmApp at 1,000 domains, headless through Textual's pilot.

    .venv/bin/python benchmarks/tui.py                      # all phases, RSS phase 30 min
    .venv/bin/python benchmarks/tui.py --minutes 10         # a shorter RSS phase
    .venv/bin/python benchmarks/tui.py --phase interactive  # only (a)-(c), ~1 min

The 1,000 synthetic domains of benchmarks/bulk.py (2 MX, SPF with 2-4 shared includes,
1-2 DKIM selectors with 2048-bit keys, DMARC with an authorized report address, BIMI on a
third) are served by the loopback DNS server (esm_tui/demo) in a separate process, so its
CPU is not the app's. `--delay` holds each answer back (default 0: the demo server).

Each phase runs in its own Python process (a fresh heap: the RSS phase must not inherit
or reuse the memory of the interactive one) and prints JSON; the parent merges them.

(a) first_frame_s: from the moment the app is constructed to the first compositor frame
    painted after every domain is in the sidebar and the first domain's five cards hold
    a result. Frames are timed by wrapping `App._display`, which the screen calls with
    every compositor update (in headless mode it then discards the update, so this is
    the cost of the frame minus writing escape codes to a terminal).
(b) key_to_frame_ms: during `R` (a fresh check of every domain), `down`/`up` alternate in
    the sidebar (each moves the selection, so the five cards and the summary change).
    Each key is handed to the app as the terminal driver hands it
    (`driver.send_message(events.Key)`; `pilot.press` would also wait for the CPU to go
    idle, up to 1 s per wait, which never happens during a refresh). For each press:
    t0 → the app has selected the next domain (its handler ran and the cards were given
    the new views) → the first frame timed after that → latency = frame time − t0.
    That frame necessarily contains the key's effect, so this is an upper bound.
    Only presses made while checks were still running are counted.
(c) idle_cpu_pct: CPU time (user+sys) of the app and its engine process over a quiet
    window (`--idle-seconds`) after every domain has been checked once and its
    authoritative servers asked, in an app whose next automatic checks are not due yet
    (interval 3600 s) — what the dashboard costs while it waits: the 1 s tick that
    repaints "checked 12 s ago", the timers, the event loop.
(d) rss: the app at a 10 s interval (`--interval`) for `--minutes`; with 1,000 domains
    staggered over the interval it checks 100 domains a second, continuously. RSS (the
    app plus its engine process) is sampled every 10 s; the baseline is taken after the
    first full cycle and a 30 s warm-up (caches and lazily built structures settle).
    Reports start/end/max and growth %, the mean CPU of the steady state, checks
    completed, asyncio tasks and workers.

Not part of the test suite: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bulk import RELAY, Server, build_zone_data, proc_kb

SIZE = (120, 40)


def rss_mb() -> float:
    """Resident set size now (not the peak), from /proc."""
    return proc_kb("/proc/self/status", "VmRSS:") / 1024


def engine_stat(app) -> tuple[float, float]:
    """(CPU seconds, RSS MB) of the app's engine process (esm_tui/engine.py), from /proc;
    (0, 0) when it is not running. The dashboard is both processes: every CPU and memory
    number below is the sum of the two."""
    pid = app.engine.pid
    if pid is None:
        return 0.0, 0.0
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    rss = proc_kb(f"/proc/{pid}/status", "VmRSS:")
    ticks = os.sysconf("SC_CLK_TCK")
    # Fields 14 and 15 of stat (utime, stime), counted after the ")" of the name: 11, 12.
    return (int(fields[11]) + int(fields[12])) / ticks, rss / 1024


def log(*parts: object) -> None:
    """Progress on stderr (stdout carries the JSON)."""
    print(f"[{time.strftime('%H:%M:%S')}]", *parts, file=sys.stderr, flush=True)


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def make_config(domains: list[str], port: int, args: argparse.Namespace, interval: float):
    from esm_tui.config import Config, DomainConfig, Relay, Settings

    settings = Settings(
        interval=interval,  # not validated here: load_config would insist on >= 10 s
        timeout=args.timeout,
        retries=1,
        concurrency=args.concurrency,
        nameservers=(("127.0.0.1", port),),
        history=False,
    )
    relay = Relay(
        mx=(f"*.{RELAY}",),
        spf_include=(f"_spf.{RELAY}",),
        spf_ips=("192.0.2.0/24",),
        dkim_selectors=("sel0",),
    )
    return Config(settings=settings, relay=relay, domains=tuple(DomainConfig(d) for d in domains))


class Frames:
    """Timestamps of the compositor's updates, by wrapping `app._display`."""

    def __init__(self, app) -> None:
        self.times: list[float] = []
        self._event = asyncio.Event()
        original = app._display

        def display(screen, renderable) -> None:
            if renderable is not None:
                self.times.append(time.perf_counter())
                self._event.set()
            original(screen, renderable)

        app._display = display

    async def after(self, moment: float, timeout: float = 10.0) -> float | None:
        """The time of the first frame later than `moment`."""
        deadline = time.perf_counter() + timeout
        while True:
            later = [t for t in self.times[-50:] if t > moment]
            if later:
                return later[0]
            self._event.clear()
            left = deadline - time.perf_counter()
            if left <= 0:
                return None
            try:
                await asyncio.wait_for(self._event.wait(), timeout=left)
            except TimeoutError:
                return None


def first_domain_complete(app, n: int) -> bool:
    try:
        cards = app.card_grid.cards
    except Exception:  # noqa: BLE001 - not composed yet
        return False
    return (
        app.domain_list.option_count == n
        and app.selected is not None
        and len(cards) == 5
        and all(card.view is not None and card.view.shown is not None for card in cards)
    )


async def wait_for(predicate, timeout: float, step: float = 0.005) -> bool:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(step)
    return True


def all_checked(app) -> bool:
    monitor = app.monitor
    return all(monitor.report(d) is not None for d in monitor.domains)


def settled(app) -> bool:
    """Every domain checked and its authoritative servers asked (the refresh is over)."""
    monitor = app.monitor
    return all(
        monitor.report(d) is not None
        and not monitor.is_checking(d)
        and not monitor.view(d, "mx").propagation_pending
        for d in monitor.domains
    )


def busy(app) -> bool:
    monitor = app.monitor
    return monitor.running_checks() > 0 or any(monitor.recheck_pending(d) for d in monitor.domains)


def send_key(app, key: str) -> None:
    """A key as the terminal driver delivers it (pilot.press also waits for CPU idle)."""
    from textual import events

    event = events.Key(key, key if len(key) == 1 else None)
    event.set_sender(app)
    app._driver.send_message(event)


async def key_latency(app, frames: Frames, key: str) -> float | None:
    """Seconds from sending `key` (down/up in the sidebar) to the first frame painted
    after the app has selected the new domain (and so refreshed its cards)."""
    before = app.selected
    shown = app.domain_list.visible
    index = shown.index(before) + (1 if key == "down" else -1)
    target = shown[max(0, min(index, len(shown) - 1))]
    t0 = time.perf_counter()
    send_key(app, key)
    if not await wait_for(lambda: app.selected == target, timeout=30, step=0.001):
        return None
    frame = await frames.after(time.perf_counter(), timeout=30)
    return None if frame is None else frame - t0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def interactive(domains: list[str], port: int, args: argparse.Namespace) -> dict:
    from esm_tui.app import EsmApp

    n = len(domains)
    config = make_config(domains, port, args, interval=3600)
    start = time.perf_counter()
    app = EsmApp(config, nameservers=[("127.0.0.1", port)], watch_config=False)
    frames = Frames(app)
    result: dict = {}
    async with app.run_test(size=SIZE):
        # (a) first complete frame
        if not await wait_for(lambda: first_domain_complete(app, n), timeout=60):
            raise SystemExit("the first domain never showed results")
        frame = await frames.after(time.perf_counter())
        result["first_frame_s"] = round(frame - start, 3) if frame else None
        log("first frame", result["first_frame_s"])
        if not await wait_for(lambda: all_checked(app), timeout=300, step=0.05):
            raise SystemExit("not every domain was checked within 300 s")
        result["first_full_cycle_s"] = round(time.perf_counter() - start, 2)
        log("first full cycle", result["first_full_cycle_s"])

        # (c) idle CPU: nothing is due for the next 15 minutes (interval 3600 s); the
        # window opens once the authoritative servers have been asked too.
        if not await wait_for(lambda: settled(app), timeout=300, step=0.05):
            raise SystemExit("propagation did not finish within 300 s")
        result["first_cycle_with_propagation_s"] = round(time.perf_counter() - start, 2)
        await asyncio.sleep(2)
        gc.collect()
        c0, e0, w0 = cpu_s(), engine_stat(app)[0], time.perf_counter()
        await asyncio.sleep(args.idle_seconds)
        c1, e1, w1 = cpu_s(), engine_stat(app)[0], time.perf_counter()
        result["idle_window_s"] = round(w1 - w0, 1)
        result["idle_cpu_pct"] = round(100 * (c1 - c0 + e1 - e0) / (w1 - w0), 2)
        result["idle_cpu_pct_app_engine"] = [
            round(100 * (c1 - c0) / (w1 - w0), 2),
            round(100 * (e1 - e0) / (w1 - w0), 2),
        ]
        result["idle_frames_per_s"] = round(
            sum(1 for t in frames.times if w0 <= t <= w1) / (w1 - w0), 2
        )

        # (b) key press to frame while `R` rechecks every domain.
        idle_latencies = [await key_latency(app, frames, k) for k in ("down", "up") * 10]
        latencies: list[float] = []
        refresh_times = []
        for _ in range(args.refreshes):
            r0 = time.perf_counter()
            send_key(app, "R")
            await wait_for(lambda: busy(app), timeout=10, step=0.001)
            keys = 0
            while busy(app):
                latency = await key_latency(app, frames, "down" if keys % 2 == 0 else "up")
                keys += 1
                if latency is not None and busy(app):
                    latencies.append(latency)
                await asyncio.sleep(args.key_gap)
            refresh_times.append(round(time.perf_counter() - r0, 2))
            log("refresh", refresh_times[-1], "s,", len(latencies), "samples so far")
        idle_latencies = [x for x in idle_latencies if x is not None]
        ms = [x * 1000 for x in latencies]
        result["key_to_frame_ms"] = {
            "during_refresh_samples": len(ms),
            "median": round(statistics.median(ms), 1) if ms else None,
            "p95": round(percentile(ms, 0.95), 1) if ms else None,
            "max": round(max(ms), 1) if ms else None,
            "idle_median": round(statistics.median(idle_latencies) * 1000, 1)
            if idle_latencies
            else None,
        }
        result["full_refresh_s"] = refresh_times
        result["rss_mb"] = round(rss_mb() + engine_stat(app)[1], 1)
        result["rss_mb_app_engine"] = [round(rss_mb(), 1), round(engine_stat(app)[1], 1)]
    return result


async def rss_phase(domains: list[str], port: int, args: argparse.Namespace) -> dict:
    from esm_tui.app import EsmApp

    config = make_config(domains, port, args, interval=args.interval)
    app = EsmApp(config, nameservers=[("127.0.0.1", port)], watch_config=False)
    samples: list[dict] = []
    async with app.run_test(size=SIZE):
        if not await wait_for(lambda: all_checked(app), timeout=300, step=0.05):
            raise SystemExit("not every domain was checked within 300 s")
        await asyncio.sleep(30)  # warm-up
        begin = time.perf_counter()
        end = begin + args.minutes * 60
        checks0, cpu0, engine0 = app.monitor.checks_started, cpu_s(), engine_stat(app)[0]
        while True:
            now = time.perf_counter()
            app_mb, engine_mb = rss_mb(), engine_stat(app)[1]
            samples.append(
                {
                    "t_s": round(now - begin, 1),
                    "rss_mb": round(app_mb + engine_mb, 1),
                    "app_mb": round(app_mb, 1),
                    "engine_mb": round(engine_mb, 1),
                    "tasks": len(asyncio.all_tasks()),
                    "workers": len(app.workers),
                    "checks": app.monitor.checks_started - checks0,
                }
            )
            log("rss", samples[-1])
            if now >= end:
                break
            await asyncio.sleep(min(10.0, max(0.0, end - now)))
        cpu_used = cpu_s() - cpu0 + engine_stat(app)[0] - engine0
        elapsed = time.perf_counter() - begin
    rss = [s["rss_mb"] for s in samples]
    return {
        "interval_s": args.interval,
        "minutes": round(elapsed / 60, 2),
        "checks_completed": samples[-1]["checks"],
        "checks_per_s": round(samples[-1]["checks"] / max(elapsed, 1e-9), 1),
        "steady_cpu_pct": round(100 * cpu_used / max(elapsed, 1e-9), 1),
        "rss_start_mb": rss[0],
        "rss_end_mb": rss[-1],
        "rss_max_mb": max(rss),
        "rss_growth_pct": round(100 * (rss[-1] - rss[0]) / rss[0], 2),
        "app_mb_start_end": [samples[0]["app_mb"], samples[-1]["app_mb"]],
        "engine_mb_start_end": [samples[0]["engine_mb"], samples[-1]["engine_mb"]],
        "engine_starts": app.engine.starts,
        "tasks_start_end_max": [
            samples[0]["tasks"],
            samples[-1]["tasks"],
            max(s["tasks"] for s in samples),
        ],
        "workers_start_end_max": [
            samples[0]["workers"],
            samples[-1]["workers"],
            max(s["workers"] for s in samples),
        ],
        "samples": samples if args.samples else len(samples),
    }


def run_phase(args: argparse.Namespace) -> dict:
    rows, domains, _facts = build_zone_data(args.domains, args.seed)
    server = Server(rows, "127.0.0.1", 0, args.delay)
    try:
        if args.phase == "interactive":
            out = asyncio.run(interactive(domains, server.port, args))
        else:
            out = asyncio.run(rss_phase(domains, server.port, args))
    finally:
        counts = server.stop()
    return {**out, "dns_queries_answered": counts["sent"], "server_cpu_s": counts["server_cpu_s"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds per DNS answer")
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--interval", type=float, default=10.0, help="RSS phase, seconds")
    parser.add_argument("--minutes", type=float, default=30.0, help="RSS phase length")
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--refreshes", type=int, default=3, help="`R` rounds in (b)")
    parser.add_argument("--key-gap", type=float, default=0.03, help="seconds between presses")
    parser.add_argument("--samples", action="store_true", help="include the RSS time series")
    parser.add_argument("--phase", choices=("all", "interactive", "rss"), default="all")
    args = parser.parse_args()

    if args.phase != "all":
        print(json.dumps(run_phase(args)))
        return
    report: dict = {
        "domains": args.domains,
        "delay_ms": args.delay * 1000,
        "size": list(SIZE),
        "cpus": os.cpu_count(),
    }
    base = sys.argv[1:]
    for phase in ("interactive", "rss"):
        out = subprocess.run(
            [sys.executable, __file__, *base, "--phase", phase],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            report[phase] = {"exit": out.returncode, "stderr_tail": out.stderr[-2000:]}
        else:
            report[phase] = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
