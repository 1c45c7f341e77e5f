"""The official RFC 7208 suite through the real `esm-tui spf-eval … --json` command.

test_spf_conformance.py runs every case through `check_host()`; a receiver-like command
line can still differ from it (the command once refused malformed names with a usage error,
exit 64, where §4.3 makes the result `none`: 5 cases of initial-processing). Here:

- every case goes through the command's entry point, `esm_tui.cli.main(["spf-eval", …])`,
  in-process with its stdout captured (argument parsing, name handling, JSON output);
- every case also runs as its own `python -m esm_tui spf-eval` process (the whole set,
  203 processes, costs about a minute on one core: docs/performance.md).

The case's MAIL FROM goes to `--sender` as a receiver would see it (empty for the null
reverse-path) and its HELO to `--helo`; DOMAIN is the identity check_host starts from
(RFC 7208 §2.4: the MAIL FROM domain, else the HELO).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rfc7208_suite import CASES, Case, Servers

from esm_tui.cli import main
from esm_tui.spf.evaluate import spf_identity

#: The five cases that once exited 64 instead of answering `none` (issue 18 item 8).
MALFORMED = {"toolonglabel", "emptylabel", "helo-not-fqdn", "helo-domain-literal", "domain-literal"}
IDS = [f"{c.section}/{c.name}" for c in CASES]


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    running = Servers()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """No retries: a TIMEOUT case waits one 0.3 s attempt (--timeout), not three."""
    path = tmp_path_factory.mktemp("spf-eval") / "config.toml"
    path.write_text("[settings]\nretries = 0\n")
    return path


def _argv(case: Case, servers: Servers, config: Path) -> list[str]:
    _, domain = spf_identity(case.mailfrom, case.helo)
    server = servers[case.scenario]
    return [
        "spf-eval", domain, "--ip", case.host, "--sender", case.mailfrom, "--helo", case.helo,
        "--nameserver", server.address, "--timeout", "0.3", "--config", str(config), "--json",
    ]  # fmt: skip


def _check(case: Case, code: int, stdout: str, stderr: str) -> None:
    assert code in (0, 1), (code, stderr)  # never 64: every case is a valid question
    data = json.loads(stdout)
    assert data["result"] in case.results, (
        f"{case.name}: got {data['result']} ({data['reason']}; chain {data['chain']}), "
        f"expected {' or '.join(case.results)}"
    )
    assert code == (0 if data["result"] == "pass" else 1)
    if case.explanation is not None:
        expected = None if case.explanation == "DEFAULT" else case.explanation
        assert data["explanation"] == expected


def test_the_malformed_name_cases_are_in_the_suite() -> None:
    assert {c.name for c in CASES if c.section == "Initial processing"} >= MALFORMED


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_case_through_main(
    case: Case, servers: Servers, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(_argv(case, servers, config))
    out, err = capsys.readouterr()
    _check(case, code, out, err)
    if case.name in MALFORMED:
        data = json.loads(out)
        assert data["result"] == "none" and "§4.3" in data["reason"], data


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_case_as_a_process(case: Case, servers: Servers, config: Path) -> None:
    env = {**os.environ, "ESM_TUI_CONFIG": str(config)}
    done = subprocess.run(
        [sys.executable, "-m", "esm_tui", *_argv(case, servers, config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    _check(case, done.returncode, done.stdout, done.stderr)
