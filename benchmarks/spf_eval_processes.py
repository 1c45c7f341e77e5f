"""What one `esm-tui spf-eval` process per RFC 7208 suite case costs.

    .venv/bin/python benchmarks/spf_eval_processes.py --runs 40

tests/test_spf_eval_conformance.py runs each of the suite's 203 cases as its own
`python -m esm_tui spf-eval … --json` process (besides in-process through `main()`). This
times N such processes against the loopback DNS server (a record with one include, the
shape of most suite cases) and reports the wall time per process — interpreter start,
imports, one evaluation — and that times 203, the cost of the whole set. Not part of the
test suite: the number depends on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer

CASES = 203


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="processes to time")
    args = parser.parse_args()
    records = Records()
    records.add_zone("example.com.")
    records.add_txt("example.com.", "v=spf1 include:_spf.example.com -all")
    records.add_txt("_spf.example.com.", "v=spf1 ip4:192.0.2.0/24 -all")
    with DnsServer(records) as server, tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ESM_TUI_CONFIG": str(Path(tmp) / "absent.toml")}
        argv = [
            sys.executable, "-m", "esm_tui", "spf-eval", "example.com", "--ip", "192.0.2.7",
            "--nameserver", server.address, "--json",
        ]  # fmt: skip
        subprocess.run(argv, env=env, capture_output=True, check=True)  # warm the .pyc files
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run(argv, env=env, capture_output=True, check=True)
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"processes:        {args.runs}")
    print(f"per process:      median {median * 1000:.0f} ms, best {min(times) * 1000:.0f} ms")
    print(f"x {CASES} cases:    {median * CASES:.1f} s (median)")


if __name__ == "__main__":
    main()
