"""Hostile-record benchmark (issue 19): how long the real `esm-tui check --json` takes on
domains whose records are 60 KB of the shapes that make backtracking parsers blow up.

    .venv/bin/python benchmarks/hostile_records.py [--size 61440]

Serves one domain per shape from the loopback DNS server (TXT over TCP: a 60 KB record
does not fit in UDP), runs `esm-tui check --json DOMAIN` as a subprocess for each, and
prints the wall time and each check's status. The first row is the issue's own case:
`v=spf1 a:` + 30,000 colons + `x -all` (more than 60 s before the fix).

Not part of the test suite: the numbers depend on the machine. The tests hold the bound
(tests/test_bounded_parsers.py, tests/test_bounded_check.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from tests.hostile_inputs import spf_with_run


def cases(size: int) -> dict[str, dict[str, str]]:
    """domain -> {owner prefix: TXT value}."""
    run = "a" * 50
    colons = "v=spf1 a:" + ":" * 30_000 + "x -all"
    return {
        "colons30k.example": {"": colons},
        "spf-a-colons.example": {"": spf_with_run("a:", ":", size)},
        "spf-include-colons.example": {"": spf_with_run("include:", ":", size)},
        "spf-exp-colons.example": {"": spf_with_run("exp=", "a:", size)},
        "spf-toplabel.example": {"": spf_with_run("a:x.", "a", size)},
        "spf-macros.example": {"": spf_with_run("a:", "%{", size)},
        "spf-spaces.example": {"": spf_with_run("a:", "a ", size)},
        "dmarc-commas.example": {"_dmarc.": "v=DMARC1; p=none; rua=" + "," * size},
        "dmarc-semicolons.example": {"_dmarc.": "v=DMARC1; p=none" + ";" * size},
        "dmarc-mailto.example": {"_dmarc.": "v=DMARC1; p=none; rua=mailto:" + run * (size // 50)},
        "dkim-equals.example": {"esm._domainkey.": "v=DKIM1; p=" + "=" * size},
        "dkim-semicolons.example": {"esm._domainkey.": "v=DKIM1;" + " ;" * (size // 2)},
        "bimi-dots.example": {"default._bimi.": "v=BIMI1; l=https://" + "." * size},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=60 * 1024)
    args = parser.parse_args()
    records = Records()
    table = cases(args.size)
    for domain, owners in table.items():
        records.add_zone(f"{domain}.")
        records.add(f"{domain}.", "MX", f"10 mx.{domain}.")
        records.add(f"mx.{domain}.", "A", "192.0.2.10")
        for prefix, value in owners.items():
            records.add_txt(f"{prefix}{domain}.", value)
    with DnsServer(records) as server, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text(
            "[settings]\ntimeout = 2.0\nretries = 0\nhistory = false\n"
            f'nameservers = ["{server.address}"]\n[relay]\ndkim_selectors = ["esm"]\n',
            encoding="utf-8",
        )
        env = {**os.environ, "ESM_TUI_DATA_DIR": tmp}
        env.pop("ESM_TUI_CONFIG", None)
        print(f"{'domain':28} {'seconds':>8}  statuses")
        for domain in table:
            start = time.perf_counter()
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "esm_tui",
                    "check",
                    "--json",
                    "--config",
                    str(config),
                    domain,
                ],
                capture_output=True,
                env=env,
                check=False,
            )
            elapsed = time.perf_counter() - start
            try:
                checks = json.loads(proc.stdout)["domains"][0]["checks"]
                statuses = " ".join(f"{k}={v['status']}" for k, v in checks.items())
            except (ValueError, KeyError, IndexError):
                statuses = f"exit {proc.returncode}: {proc.stderr.decode()[-200:]}"
            print(f"{domain:28} {elapsed:8.2f}  {statuses}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
