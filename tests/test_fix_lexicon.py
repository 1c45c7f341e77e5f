"""`esm-tui fix --apply` through a dns-lexicon provider (issue 14 item 4): lexicon's
zone-file provider (localzone) on a zone file the loopback DNS server serves. Only the
planned record set changes in the file, a second SPF string is never made of the value,
and `--undo` puts it back.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dns.zone
import pytest

from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer

ZONE = """$ORIGIN lexi.example.
$TTL 300
@ IN SOA ns1 hostmaster 1 3600 600 86400 300
@ IN NS ns1
ns1 IN A 127.0.0.1
@ IN MX 10 mx
mx IN A 192.0.2.10
@ IN TXT "v=spf1 +all"
@ IN TXT "keep=me"
www IN A 192.0.2.80
"""


def _sets(path: Path) -> dict[tuple[str, str], list[str]]:
    zone = dns.zone.from_file(str(path), origin="lexi.example.", relativize=False)
    return {
        (name.to_text(), dns.rdatatype.to_text(rds.rdtype)): sorted(r.to_text() for r in rds)
        for name, node in zone.nodes.items()
        for rds in node.rdatasets
    }


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, DnsServer]]:
    path = tmp_path / "lexi.example.zone"
    path.write_text(ZONE, encoding="utf-8")
    records = Records()
    records.load_zone_file(path, "lexi.example.")
    with DnsServer(records) as server:
        yield path, server


def esm(tmp: Path, server: DnsServer, zone_file: Path, *args: str) -> subprocess.CompletedProcess:
    creds = tmp / "lexicon.toml"
    creds.write_text(f'filename = "{zone_file}"\n', encoding="utf-8")
    creds.chmod(0o600)
    config = tmp / "config.toml"
    config.write_text(
        f'[settings]\nnameservers = ["{server.address}"]\nport = {server.port}\ntimeout = 2.0\n'
        f'[publish]\nprovider = "localzone"\ncredentials_file = "{creds}"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "ESM_TUI_DATA_DIR": str(tmp)}
    env.pop("ESM_TUI_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "esm_tui", *args, "--config", str(config)],
        capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_apply_through_lexicon_changes_only_the_planned_set_and_undo_restores(
    served: tuple[Path, DnsServer], tmp_path: Path
) -> None:
    path, server = served
    before = _sets(path)
    out = esm(tmp_path, server, path, "fix", "lexi.example", "--only", "spf", "--apply",
              "--yes", "--wait", "0")  # fmt: skip
    assert "Traceback" not in out.stderr, out.stderr
    assert "Applied: localzone applied 1 change(s)" in out.stdout, out.stdout + out.stderr
    # The DNS server still serves the old file: "applied, not yet on every server".
    assert out.returncode == 3
    after = _sets(path)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed == {("lexi.example.", "TXT")}, changed
    txt = after[("lexi.example.", "TXT")]
    assert '"keep=me"' in txt
    [spf] = [t for t in txt if t.startswith('"v=spf1')]
    assert '" "' not in spf and "+all" not in spf  # one string, as the value was meant

    undo = esm(tmp_path, server, path, "fix", "lexi.example", "--undo", "--yes", "--wait", "0")
    assert "Applied:" in undo.stdout, undo.stdout + undo.stderr
    assert _sets(path)[("lexi.example.", "TXT")] == before[("lexi.example.", "TXT")]


def test_a_set_changed_since_the_plan_is_not_touched(
    served: tuple[Path, DnsServer], tmp_path: Path
) -> None:
    path, server = served
    # Someone edits the zone file at the host after esm-tui read the zone (over DNS).
    path.write_text(ZONE + '@ IN TXT "someone=else"\n', encoding="utf-8")
    before = _sets(path)
    out = esm(tmp_path, server, path, "fix", "lexi.example", "--only", "spf", "--apply", "--yes")
    assert out.returncode == 2, out.stdout + out.stderr
    assert "changed since the plan was read" in out.stderr
    assert "Nothing was applied" in out.stderr
    # (localzone rewrites the file when it only reads it: the records are compared.)
    assert _sets(path) == before
