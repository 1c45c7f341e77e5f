"""Bulk benchmark: N synthetic, realistic domains checked by `esm-tui check --json`.

    .venv/bin/python benchmarks/bulk.py --domains 1000 --delay 0.02 --concurrency 256

Generates the domains (seeded, reproducible), serves them from the loopback DNS server
in a separate process with a per-response delay (a resolver's cache miss), runs the real
`esm-tui check --json` as a subprocess and reports wall time, CPU time, peak RSS,
queries sent vs unique queries needed, and the latency lower bound. One untimed warm-up
run comes first: the Python server renders each answer once (DnsServer memo), so that
its own ~1 ms per answer is not part of what is measured. The runs keep their history
database (`ESM_TUI_DATA_DIR`) in a temporary directory: the warm-up records every result,
the measured runs find them unchanged (as any cron run after the first does). CPU time
is each measured run's own (wait4), its check processes included; peak RSS is the sum
over its processes, sampled every 25 ms. PSS is sampled in one more run after the
measured ones, not timed (`memory_run`): reading it costs the machine too much CPU to do
during a timed run (see MemorySampler).

`--runs N` (default 3) measured runs, each with its own query counts: this machine's
speed drifts by 10-20 % from minute to minute, so each run is listed with the best and
the median. esm_tui is byte-compiled first (see compile_package).

`calibration` says what this machine is: the CPU time dnspython itself needs to encode
a query and decode its reply (the issue's targets assume ≈ 70 µs), esm-tui's own codec
for the same sample, and a plain-Python yardstick. Compare per-query CPU with those
numbers from the same run: the machine's speed varies from run to run.

With `--profile PATH`, one more untimed run (after the warm-up, before the measured
ones, so that the server's counts stay those of the measured runs) goes through
pyinstrument (`.venv/bin/pip install pyinstrument`), whose call tree is written to PATH
as text; with a PATH ending in `.html`, as pyinstrument's HTML page.

With `--reference VENV_PYTHON` it also runs checkdmarc (installed in its own venv, never
a dependency of esm-tui) against the same server, on the first `--reference-domains`
domains; checkdmarc only talks to port 53, so that mode binds 127.0.0.1:53 and must run
as root. Its warm-up and measured runs take a few minutes (it asks one query at a time).

Not part of the test suite: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

RELAY = "relay.bench"
REPORTS = "dmarc-service.bench"
PROVIDERS = 20  # shared SPF include pool
KEY_POOL = 24  # distinct 2048-bit keys, reused across domains (generation is slow)


def _keys(rng: random.Random, count: int) -> list[str]:
    keys = []
    for _ in range(count):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        keys.append(base64.b64encode(der).decode())
    return keys


def build_zone_data(n: int, seed: int) -> tuple[list[tuple[str, str, str]], list[str], dict]:
    """(name, type, presentation value) triples, the domain names, and generation facts."""
    rng = random.Random(seed)
    rows: list[tuple[str, str, str]] = []
    add = rows.append
    # The relay: MX hosts and its SPF include, shared by every customer domain.
    add((f"{RELAY}.", "SOA", f"ns1.{RELAY}. hostmaster.{RELAY}. 1 3600 600 86400 300"))
    for i in (1, 2):
        add((f"mx{i}.{RELAY}.", "A", f"192.0.2.{i}"))
        add((f"mx{i}.{RELAY}.", "AAAA", f"2001:db8::{i}"))
    add((f"_spf.{RELAY}.", "TXT", '"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"'))
    # Provider includes, some nested one level.
    for p in range(PROVIDERS):
        zone = f"provider{p}.bench"
        add((f"{zone}.", "SOA", f"ns1.{zone}. hostmaster.{zone}. 1 3600 600 86400 300"))
        if p % 4 == 0:
            value = f"v=spf1 include:_net1.{zone} include:_net2.{zone} ~all"
            add((f"_net1.{zone}.", "TXT", f'"v=spf1 ip4:198.51.{p}.0/24 -all"'))
            add((f"_net2.{zone}.", "TXT", f'"v=spf1 ip6:2001:db8:{p:x}::/48 -all"'))
        else:
            value = f"v=spf1 ip4:203.0.{p}.0/24 ip4:198.18.{p}.0/24 ~all"
        add((f"_spf.{zone}.", "TXT", f'"{value}"'))
    # The DMARC report service authorizes every domain (RFC 9990 §3.2.3) with a wildcard.
    add((f"{REPORTS}.", "SOA", f"ns1.{REPORTS}. hostmaster.{REPORTS}. 1 3600 600 86400 300"))
    add((f"*._report._dmarc.{REPORTS}.", "TXT", '"v=DMARC1"'))
    keys = _keys(rng, KEY_POOL)
    domains = []
    selectors_total = 0
    for d in range(n):
        name = f"customer{d:05d}.bench"
        domains.append(name)
        add((f"{name}.", "SOA", f"ns1.{name}. hostmaster.{name}. 1 3600 600 86400 300"))
        add((f"{name}.", "MX", f"10 mx1.{RELAY}."))
        add((f"{name}.", "MX", f"20 mx2.{RELAY}."))
        includes = [
            f"_spf.provider{p}.bench" for p in rng.sample(range(PROVIDERS), rng.randint(2, 4))
        ]
        terms = " ".join(f"include:{i}" for i in [*includes, f"_spf.{RELAY}"])
        add((f"{name}.", "TXT", f'"v=spf1 {terms} -all"'))
        add((f"{name}.", "TXT", f'"google-site-verification={rng.getrandbits(64):x}"'))
        for s in range(rng.randint(1, 2)):
            selectors_total += 1
            key = keys[rng.randrange(len(keys))]
            chunks = " ".join(f'"{c}"' for c in _chunks(f"v=DKIM1; k=rsa; p={key}", 250))
            add((f"sel{s}._domainkey.{name}.", "TXT", chunks))
        add((f"_dmarc.{name}.", "TXT", f'"v=DMARC1; p=reject; rua=mailto:r@{REPORTS}"'))
        if d % 3 == 0:
            add(
                (
                    f"default._bimi.{name}.",
                    "TXT",
                    f'"v=BIMI1; l=https://{name}/logo.svg; a=https://{name}/vmc.pem"',
                )
            )
    facts = {"domains": n, "selectors": selectors_total, "providers": PROVIDERS}
    return rows, domains, facts


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _records(rows):
    from esm_tui.demo.records import Records

    records = Records()
    grouped: dict[tuple[str, str], list[str]] = {}
    for name, rtype, value in rows:
        if rtype == "SOA":
            records.add_zone(name, value)
        else:
            grouped.setdefault((name, rtype), []).append(value)
    for (name, rtype), values in grouped.items():
        records.add(name, rtype, *values, ttl=3600)
    return records


def _serve(rows, host, port, delay, ready, commands) -> None:
    from esm_tui.demo.server import DnsServer

    try:
        server = DnsServer(_records(rows), host, port, delay=delay, memo=True).start()
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
        ready.put(f"error: {type(exc).__name__}: {exc}")
        return
    ready.put(server.port)
    cpu = time.process_time()
    while True:
        command = commands.get()
        if command == "reset":
            # Before each measured run.
            server.queries.clear()
            cpu = time.process_time()
            ready.put("ok")
        elif command == "counts":
            ready.put(
                {
                    "sent": sum(server.queries.values()),
                    "unique": len(server.queries),
                    "server_cpu_s": round(time.process_time() - cpu, 2),
                }
            )
        else:
            ready.put(
                {
                    "sent": sum(server.queries.values()),
                    "unique": len(server.queries),
                    "server_cpu_s": round(time.process_time() - cpu, 2),
                    "asked": sorted(server.queries),
                }
            )
            server.stop()
            return


class Server:
    """The loopback DNS server in its own process (its CPU is not the client's)."""

    def __init__(self, rows, host: str, port: int, delay: float) -> None:
        ctx = multiprocessing.get_context("fork")
        self.ready, self.commands = ctx.Queue(), ctx.Queue()
        self.proc = ctx.Process(
            target=_serve, args=(rows, host, port, delay, self.ready, self.commands)
        )
        self.proc.start()
        self.port = self.ready.get(timeout=120)
        if isinstance(self.port, str):
            self.proc.join(5)
            raise OSError(f"DNS server on {host}:{port}: {self.port}")

    def reset(self) -> None:
        self.commands.put("reset")
        self.ready.get(timeout=30)

    def counts(self) -> dict:
        self.commands.put("counts")
        return self.ready.get(timeout=30)

    def stop(self) -> dict:
        self.commands.put("stop")
        stats = self.ready.get(timeout=30)
        self.proc.join(30)
        return stats


def write_config(domains: list[str], port: int, concurrency: int, workdir: Path) -> Path:
    config = workdir / "bulk.toml"
    lines = [
        "[settings]",
        f"concurrency = {concurrency}",
        "timeout = 5.0",
        f'nameservers = ["127.0.0.1:{port}"]',
        "[relay]",
        f'mx = ["*.{RELAY}"]',
        f'spf_include = ["_spf.{RELAY}"]',
        'spf_ips = ["192.0.2.0/24"]',
        'dkim_selectors = ["sel0"]',
    ]
    lines += [f'[[domains]]\nname = "{d}"' for d in domains]
    config.write_text("\n".join(lines) + "\n")
    return config


def compile_package() -> None:
    """Byte-compile esm_tui, as a wheel install does and as any run does where Python may
    write __pycache__: otherwise, with PYTHONDONTWRITEBYTECODE set (as on these machines)
    and an editable install, every run would compile every module again (≈ 0.1 s)."""
    import compileall

    import esm_tui

    compileall.compile_dir(Path(esm_tui.__file__).parent, quiet=1)


def _esm() -> Path:
    return Path(sys.executable).parent / "esm-tui"


def _env(workdir: Path) -> dict[str, str]:
    """The environment of the esm-tui runs: its history database in the run's temporary
    directory, not the user's (which grows with every run and would make the numbers
    depend on how many came before). The warm-up run records; the measured one finds
    each record unchanged, as a cron job's run after the first does."""
    return {**os.environ, "ESM_TUI_DATA_DIR": str(workdir / "data")}


def profile_esm(
    domains: list[str], port: int, concurrency: int, workdir: Path, output: Path
) -> None:
    """`esm-tui check --json` under pyinstrument; its report goes to `output`."""
    config = write_config(domains, port, concurrency, workdir)
    renderer = "html" if output.suffix == ".html" else "text"
    command = [sys.executable, "-m", "pyinstrument", "-r", renderer, "-o", str(output)]
    command += [str(_esm()), "check", "--config", str(config), "--json"]
    output.unlink(missing_ok=True)
    out = subprocess.run(command, capture_output=True, text=True, env=_env(workdir))
    if not output.exists():
        raise SystemExit(f"pyinstrument did not run (pip install pyinstrument?): {out.stderr}")


def run_esm(
    domains: list[str],
    port: int,
    concurrency: int,
    workdir: Path,
    jobs: int | None = None,
    *,
    pss: bool = False,
) -> dict:
    config = write_config(domains, port, concurrency, workdir)
    command = [str(_esm()), "check", "--config", str(config), "--json"]
    if jobs is not None:
        command += ["--jobs", str(jobs)]
    output = workdir / "bulk.json"
    with output.open("w") as stdout:
        start = time.perf_counter()
        proc = subprocess.Popen(
            command, stdout=stdout, stderr=subprocess.DEVNULL, env=_env(workdir)
        )
        sampler = MemorySampler(proc.pid, pss=pss)
        # wait4: this child's own CPU time, with that of the processes it forked and
        # reaped (its check processes), and its peak RSS (RUSAGE_CHILDREN's peak would be
        # the largest of every child so far, the profiled run's included).
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        sampler.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    doc = json.loads(output.read_text())
    statuses: dict[str, int] = {}
    for entry in doc["domains"]:
        statuses[entry["status"]] = statuses.get(entry["status"], 0) + 1
    return {
        "exit": proc.returncode,
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        # wait4's peak is the largest single process; with check processes the sampled
        # sum over all of them is the honest figure (it counts shared pages once per
        # process: an upper bound), PSS splits shared pages between them.
        "peak_rss_mb": round(max(usage.ru_maxrss / 1024, sampler.peak_rss_mb), 1),
        "peak_pss_mb": round(sampler.peak_pss_mb, 1) if pss else None,
        "processes": sampler.processes,
        "statuses": statuses,
    }


def proc_kb(path: str, name: str) -> int:
    """The kB value of the line starting with `name` in a /proc file (VmRSS: of status,
    Pss: of smaps_rollup); 0 when the process is gone."""
    key = name.encode()
    try:
        for line in _read(path).splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class MemorySampler:
    """The peak summed RSS (with `pss`, also PSS) of a process and its children, sampled.

    RSS comes from /proc/PID/statm (~30 µs a read here). PSS comes from smaps_rollup, which
    walks the page tables: ~3.5 ms a read for a 100 MB process on this machine. Sampled
    every 5 ms in the timed runs, as it once was, it took ~40 % of a core from the run it
    measured (0.4–1.2 s of CPU per 3 s, measured): so the timed runs sample RSS only, every
    25 ms (≈ 1 % of a core), and PSS is sampled in one more run that is not timed."""

    def __init__(self, pid: int, *, pss: bool = False) -> None:
        import threading

        self.pid = pid
        self.pss = pss
        self.interval = 0.02 if pss else 0.025
        self.peak_rss_mb = 0.0
        self.peak_pss_mb = 0.0
        self.processes = 1
        self._page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(self.interval):
            pids = [self.pid, *self._children(self.pid)]
            self.processes = max(self.processes, len(pids))
            rss = sum(self._rss_kb(p) for p in pids)
            self.peak_rss_mb = max(self.peak_rss_mb, rss / 1024)
            if self.pss:
                pss = sum(proc_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids)
                self.peak_pss_mb = max(self.peak_pss_mb, pss / 1024)

    def _rss_kb(self, pid: int) -> int:
        try:
            return int(_read(f"/proc/{pid}/statm").split()[1]) * self._page_kb
        except (OSError, IndexError, ValueError):
            return 0  # the process is gone

    @staticmethod
    def _children(pid: int) -> list[int]:
        try:
            text = _read(f"/proc/{pid}/task/{pid}/children")
        except OSError:
            return []
        return [int(p) for p in text.split()]


def _read(path: str) -> bytes:
    """A /proc file, with less overhead than Path.read_text (the sampler's CPU is taken
    from the run it measures)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = []
        while chunk := os.read(fd, 8192):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def run_reference(python: str, domains: list[str]) -> dict:
    """checkdmarc, one domain after another as it is used, against 127.0.0.1:53.

    Its BIMI check downloads the logo and certificate named in the record; the generated
    hosts do not exist, so those requests go to a proxy address that refuses at once
    (no outside lookups, and the time measured is its DNS work, as for esm-tui).
    """
    script = (
        "import sys, time, resource, checkdmarc\n"
        "names = sys.argv[1:]\n"
        "t = time.perf_counter()\n"
        "results = checkdmarc.check_domains(names, nameservers=['127.0.0.1'], timeout=5)\n"
        "results = results if isinstance(results, list) else [results]\n"
        "spf = sum(1 for r in results if r['spf'].get('valid'))\n"
        "dmarc = sum(1 for r in results if r['dmarc'].get('valid'))\n"
        "print(len(results), spf, dmarc, time.perf_counter() - t)\n"
    )
    env = {
        **os.environ,
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
    }
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([python, "-c", script, *domains], capture_output=True, text=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    checked, spf_valid, dmarc_valid = (out.stdout.split() + ["?"] * 3)[:3]
    return {
        "exit": out.returncode,
        "wall_s": round(time.perf_counter() - start, 1),
        "cpu_s": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
        "checked": checked,
        "spf_valid": spf_valid,
        "dmarc_valid": dmarc_valid,
        "stderr_tail": out.stderr[-300:],
    }


def calibrate(rows, asked: list[tuple[str, str]], sample: int = 600) -> dict:
    """What one query costs on this machine in dnspython itself, and in esm-tui's codec.

    Replies to a sample of the run's own questions, from the same server code; then the
    CPU time (best of 3) of dnspython's make_query + to_wire and from_wire, and of
    esm-tui's encode_query and dns_reply.decode, per query; and a plain-Python yardstick.
    """
    import socket
    import timeit

    import dns.message
    import dns.rdatatype

    from esm_tui.demo.server import DnsServer
    from esm_tui.dns import reply as dns_reply
    from esm_tui.dns.messages import EDNS_PAYLOAD, encode_query
    from esm_tui.dns.names import name_from_text

    picked = random.Random(1).sample(asked, min(sample, len(asked)))
    replies = []
    with DnsServer(_records(rows)) as server, socket.socket(type=socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        for name, rtype in picked:
            query = dns.message.make_query(name, rtype, use_edns=0, payload=EDNS_PAYLOAD)
            sock.sendto(query.to_wire(), server.server)
            replies.append(sock.recv(65535))
    questions = [(name, dns.rdatatype.from_text(rtype)) for name, rtype in picked]

    def per_query(job) -> float:
        best = min(timeit.repeat(job, number=1, repeat=3, timer=time.process_time))
        return round(best * 1e6 / len(picked), 1)

    dnspython_encode = per_query(
        lambda: [
            dns.message.make_query(n, t, use_edns=0, payload=EDNS_PAYLOAD).to_wire()
            for n, t in questions
        ]
    )
    dnspython_decode = per_query(lambda: [dns.message.from_wire(r) for r in replies])
    ours_encode = per_query(lambda: [encode_query(name_from_text(n), t) for n, t in questions])
    ours_decode = per_query(lambda: [dns_reply.decode(r) for r in replies])
    yardstick = min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000
    return {
        "queries_sampled": len(picked),
        "dnspython_encode_us": dnspython_encode,
        "dnspython_decode_us": dnspython_decode,
        "dnspython_encode_decode_us": round(dnspython_encode + dnspython_decode, 1),
        "esm_encode_decode_us": round(ours_encode + ours_decode, 1),
        "python_sum_range_1000_us": round(yardstick * 1e6, 1),
    }


def _server_counts(counts: dict) -> dict:
    return {
        "queries_sent": counts["sent"],
        "queries_unique": counts["unique"],
        "server_cpu_s": counts["server_cpu_s"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=0.02, help="seconds per DNS answer")
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reference", metavar="PYTHON", help="python of a venv with checkdmarc")
    parser.add_argument("--reference-domains", type=int, default=200)
    parser.add_argument("--profile", metavar="PATH", help="also profile a run (pyinstrument)")
    parser.add_argument("--runs", type=int, default=3, help="measured runs (best and median)")
    parser.add_argument("--jobs", type=int, help="esm-tui check --jobs (default: its own choice)")
    args = parser.parse_args()

    rows, domains, facts = build_zone_data(args.domains, args.seed)
    compile_package()
    server = Server(rows, "127.0.0.1", 0, args.delay)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        # Untimed warm-up: the server renders each answer once (see DnsServer.memo).
        run_esm(domains, server.port, args.concurrency, Path(tmp), args.jobs)
        if args.profile:
            profile_esm(domains, server.port, args.concurrency, Path(tmp), Path(args.profile))
        for _ in range(args.runs):
            server.reset()
            run = run_esm(domains, server.port, args.concurrency, Path(tmp), args.jobs)
            counts = server.counts()
            run.update(
                server_cpu_s=counts["server_cpu_s"],
                queries_sent=counts["sent"],
                queries_unique=counts["unique"],
                cpu_us_per_query=round(run["cpu_s"] * 1e6 / max(counts["sent"], 1), 1),
            )
            runs.append(run)
        # PSS needs the sampler that would slow a timed run down (see MemorySampler).
        memory_run = run_esm(domains, server.port, args.concurrency, Path(tmp), args.jobs, pss=True)
    counts = server.stop()
    asked = counts.pop("asked")
    # Dependent chain: SPF apex → include → nested include → its record, and check_host
    # walks the same tree (answers cached); DMARC: _dmarc → report authorization.
    chain = 4
    unique = runs[-1]["queries_unique"]
    bound = max(chain * args.delay, unique * args.delay / args.concurrency)
    by_wall = sorted(runs, key=lambda r: r["wall_s"])
    report = {
        **facts,
        "delay_ms": args.delay * 1000,
        "concurrency": args.concurrency,
        "jobs": args.jobs or "auto",
        "runs": runs,
        "wall_s": {"best": by_wall[0]["wall_s"], "median": by_wall[len(runs) // 2]["wall_s"]},
        "cpu_s": {
            "best": min(r["cpu_s"] for r in runs),
            "median": sorted(r["cpu_s"] for r in runs)[len(runs) // 2],
        },
        "cpu_us_per_query": {
            "best": min(r["cpu_us_per_query"] for r in runs),
            "median": sorted(r["cpu_us_per_query"] for r in runs)[len(runs) // 2],
        },
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "memory_run": {
            key: memory_run[key] for key in ("wall_s", "peak_rss_mb", "peak_pss_mb", "processes")
        },
        "queries_sent": max(r["queries_sent"] for r in runs),
        "queries_unique": unique,
        "sent_over_unique": round(max(r["queries_sent"] for r in runs) / unique, 4),
        "latency_lower_bound_s": round(bound, 3),
        "calibration": calibrate(rows, asked),
    }
    if args.reference:
        ref_domains = domains[: args.reference_domains]
        ref_server = Server(rows, "127.0.0.1", 53, args.delay)
        run_reference(args.reference, ref_domains)  # the same warm-up
        ref_server.reset()
        report["reference"] = {
            "tool": "checkdmarc",
            "domains": len(ref_domains),
            **run_reference(args.reference, ref_domains),
            **_server_counts(ref_server.stop()),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
