"""A SERVFAIL or REFUSED is an answer, not an unreachable resolver (issue 18 item 4).

The loopback server answers SERVFAIL (or REFUSED) for _dmarc of a demo domain; the real
`check --json` must say what that means and how to look, never "check that the resolver
is reachable", and the record stays unknown, not red.
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

from esm_tui.demo.scenario import demo_records
from esm_tui.demo.server import DnsServer


@pytest.fixture
def server() -> Iterator[DnsServer]:
    with DnsServer(demo_records()) as srv:
        yield srv


def _dmarc(server: DnsServer, tmp_path: Path) -> dict[str, Any]:
    env = {**os.environ, "ESM_TUI_DATA_DIR": str(tmp_path)}
    env.pop("ESM_TUI_CONFIG", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "esm_tui",
            "check",
            "--json",
            "--nameserver",
            server.address,
            "good.example",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)["domains"][0]["checks"]["dmarc"]


@pytest.mark.parametrize(
    ("behaviour", "said"),
    [
        ("servfail", "could not get an answer from the domain's authoritative servers"),
        ("refused", "the server refused to answer"),
    ],
)
def test_the_failure_says_what_it_means_and_how_to_look(
    server: DnsServer, tmp_path: Path, behaviour: str, said: str
) -> None:
    server.records.set_behaviour("_dmarc.good.example.", behaviour)
    dmarc = _dmarc(server, tmp_path)
    assert dmarc["status"] == "unknown"
    text = json.dumps(dmarc)
    assert said in text
    assert "dig +cd TXT _dmarc.good.example" in text
    assert "reachable" not in text  # the resolver answered: it is reachable
