"""`python -m esm_tui` and the `esm-tui` console script are the same program.

The README promises it; the two are built differently (`__main__.py` vs the script that pip
writes from `[project.scripts]`), so each case runs both and compares everything they say.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from esm_tui import __version__
from esm_tui.demo.scenario import demo_records
from esm_tui.demo.server import DnsServer

#: pip puts the console script beside the interpreter of the venv it installs into.
SCRIPT = Path(sys.executable).parent / "esm-tui"


@pytest.fixture(scope="module")
def demo_server() -> Iterator[DnsServer]:
    with DnsServer(demo_records()) as server:
        yield server


def both(args: list[str], tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], ...]:
    assert SCRIPT.exists(), f"no console script at {SCRIPT}: pip install -e '.[test]' first"
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    env.pop("ESM_TUI_CONFIG", None)
    runs = ([sys.executable, "-m", "esm_tui"], [str(SCRIPT)])
    return tuple(
        subprocess.run([*run, *args], capture_output=True, text=True, env=env, timeout=60)
        for run in runs
    )


def assert_same(module: subprocess.CompletedProcess[str], script: subprocess.CompletedProcess[str]):
    assert (module.returncode, module.stdout, module.stderr) == (
        script.returncode,
        script.stdout,
        script.stderr,
    )


def test_version(tmp_path: Path) -> None:
    module, script = both(["--version"], tmp_path)
    assert_same(module, script)
    assert module.returncode == 0 and module.stdout == f"esm-tui {__version__}\n"


@pytest.mark.parametrize("command", [[], ["check"], ["init"], ["spf-eval"], ["history"]])
def test_help(command: list[str], tmp_path: Path) -> None:
    module, script = both([*command, "--help"], tmp_path)
    assert_same(module, script)
    assert module.returncode == 0
    assert module.stdout.startswith(f"usage: {' '.join(['esm-tui', *command])} ")


def test_a_usage_error_exits_64(tmp_path: Path) -> None:
    module, script = both(["check", "--jobs", "0", "example.com"], tmp_path)
    assert_same(module, script)
    assert module.returncode == 64 and "--jobs" in module.stderr and module.stdout == ""


def test_a_check_gives_the_same_table_and_exit_code(tmp_path: Path, demo_server) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[settings]\ntimeout = 2.0\nretries = 1\nnameservers = ["{demo_server.address}"]\n'
        "history = false\n"
        '[relay]\nmx = ["*.esm-relay.example"]\nspf_include = ["_spf.esm-relay.example"]\n'
        'spf_ips = ["192.0.2.25"]\ndkim_selectors = ["esm"]\n',
        encoding="utf-8",
    )
    module, script = both(
        ["check", "--config", str(config), "good.example", "shop.example", "broken.example"],
        tmp_path,
    )
    assert_same(module, script)
    assert module.returncode == 2  # broken.example fails
    assert [line.split()[0] for line in module.stdout.splitlines()[2:5]] == [
        "good.example", "shop.example", "broken.example",
    ]  # fmt: skip
