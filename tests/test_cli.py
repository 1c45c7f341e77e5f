"""`esm-tui check`, `init` and the argument errors, run as the real program (subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from esm_tui import __version__
from esm_tui.demo.scenario import demo_records
from esm_tui.demo.server import DnsServer
from esm_tui.model import CHECK_NAMES

ESM = [sys.executable, "-m", "esm_tui"]


@pytest.fixture(scope="module")
def demo_server() -> Iterator[DnsServer]:
    with DnsServer(demo_records()) as server:
        yield server


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment whose default config path is inside tmp_path."""
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    env["HOME"] = str(tmp_path / "home")
    env.pop("ESM_TUI_CONFIG", None)
    return env


def write_config(tmp_path: Path, server: DnsServer, body: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[settings]\ntimeout = 0.5\nretries = 0\nnameservers = ["{server.address}"]\n'
        '[relay]\nmx = ["*.esm-relay.example"]\nspf_include = ["_spf.esm-relay.example"]\n'
        'spf_ips = ["192.0.2.25"]\ndkim_selectors = ["esm"]\n' + body,
        encoding="utf-8",
    )
    return path


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(ESM + args, capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.parametrize(
    ("domain", "code", "status"),
    [
        ("good.example", 0, "ok"),
        ("shop.example", 1, "warn"),
        ("broken.example", 2, "fail"),
    ],
)
def test_check_json_and_exit_code(tmp_path, env, demo_server, domain, code, status) -> None:
    config = write_config(tmp_path, demo_server)
    out = run(["check", "--config", str(config), "--json", domain], env)
    assert out.returncode == code, out.stderr
    doc = json.loads(out.stdout)
    assert doc["schema"] == 1
    assert doc["tool"] == f"esm-tui {__version__}"
    assert doc["nameservers"] == [demo_server.address]
    assert doc["status"] == status
    [entry] = doc["domains"]
    assert entry["domain"] == domain and entry["status"] == status
    assert list(entry["checks"]) == list(CHECK_NAMES)
    for result in entry["checks"].values():
        assert set(result) == {
            "status",
            "summary",
            "query",
            "records",
            "ttl",
            "findings",
            "fix",
            "details",
        }
        assert set(result["query"]) == {"name", "type"}
        assert result["status"] in {"ok", "warn", "fail", "unknown", "none"}
        if result["status"] in ("ok", "none"):
            assert result["fix"] is None
        for finding in result["findings"]:
            assert set(finding) == {"severity", "code", "message", "ref"}
    assert out.stderr == ""


def test_check_unknown_exit_3_when_resolver_is_dead(tmp_path, env) -> None:
    config = tmp_path / "fast.toml"
    config.write_text("[settings]\ntimeout = 0.3\nretries = 0\n", encoding="utf-8")
    out = run(
        ["check", "--config", str(config), "--nameserver", "127.0.0.1:9", "--json", "example.com"],
        env,
    )
    assert out.returncode == 3, out.stderr
    doc = json.loads(out.stdout)
    assert doc["status"] == "unknown"
    assert all(r["status"] in ("unknown", "none") for r in doc["domains"][0]["checks"].values())


def test_check_table_fits_80_columns(tmp_path, env, demo_server) -> None:
    config = write_config(
        tmp_path,
        demo_server,
        '[[domains]]\nname = "good.example"\n'
        '[[domains]]\nname = "shop.example"\n[[domains]]\nname = "broken.example"\n',
    )
    out = run(["check", "--config", str(config)], env)
    assert out.returncode == 2
    lines = out.stdout.splitlines()
    assert lines[0].split() == [
        "DOMAIN", "MX", "SPF", "DKIM", "DMARC", "BIMI", "MTA-STS", "TLS-RPT", "DNSSEC", "STATUS"
    ]  # fmt: skip
    assert any(line.startswith("broken.example") and "FAIL" in line for line in lines)
    # Every line but the literal records to publish fits 80 columns.
    assert all(len(line) <= 80 for line in lines if "publish:" not in line)


def test_bad_config_exits_64_with_location(tmp_path, env) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[settings]\ninterval = \n", encoding="utf-8")
    out = run(["check", "--config", str(config), "example.com"], env)
    assert out.returncode == 64
    assert f"{config}:2:" in out.stderr
    assert "Traceback" not in out.stderr


def test_invalid_domain_is_named(tmp_path, env) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    out = run(["check", "--config", str(empty), "exa mple..com"], env)
    assert out.returncode == 64
    assert "exa mple..com" in out.stderr and "Traceback" not in out.stderr


def test_bad_nameserver_and_bad_flag(tmp_path, env) -> None:
    out = run(["check", "--nameserver", "dns.google", "example.com"], env)
    assert out.returncode == 64 and "dns.google" in out.stderr
    out = run(["check", "--frobnicate"], env)
    assert out.returncode == 64 and "Traceback" not in out.stderr


@pytest.mark.parametrize("jobs", ["0", "-1", "two", "1.5"])
def test_jobs_must_be_a_whole_number_of_one_or_more(env, jobs: str) -> None:
    out = run(["check", "--jobs", jobs, "example.com"], env)
    assert out.returncode == 64 and "Traceback" not in out.stderr
    assert "--jobs" in out.stderr and "whole number of 1 or more" in out.stderr


def test_no_domains_is_a_usage_error(tmp_path, env) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    out = run(["check", "--config", str(empty)], env)
    assert out.returncode == 64 and "no domains" in out.stderr


def test_check_refuses_a_named_config_that_does_not_exist(tmp_path, env) -> None:
    """A typo in --config must not run with no relay expectations (a false green)."""
    out = run(["check", "--config", str(tmp_path / "typo.toml"), "example.com"], env)
    assert out.returncode == 64
    assert "typo.toml" in out.stderr and "Traceback" not in out.stderr
    env["ESM_TUI_CONFIG"] = str(tmp_path / "typo2.toml")
    out = run(["check", "example.com"], env)
    assert out.returncode == 64 and "typo2.toml" in out.stderr


def test_config_from_environment_variable(tmp_path, env, demo_server) -> None:
    config = write_config(tmp_path, demo_server, '[[domains]]\nname = "good.example"\n')
    env["ESM_TUI_CONFIG"] = str(config)
    out = run(["check", "--json"], env)
    assert out.returncode == 0, out.stderr
    assert [d["domain"] for d in json.loads(out.stdout)["domains"]] == ["good.example"]


def test_init_writes_the_example_once(tmp_path, env) -> None:
    out = run(["init"], env)
    assert out.returncode == 0, out.stderr
    written = tmp_path / "xdg" / "esm-tui" / "config.toml"
    assert written.exists() and "[settings]" in written.read_text(encoding="utf-8")
    again = run(["init"], env)
    assert again.returncode == 64 and "exists" in again.stderr


def test_version(env) -> None:
    out = run(["--version"], env)
    assert out.returncode == 0 and out.stdout.strip() == f"esm-tui {__version__}"


def test_check_leaves_the_garbage_collector_as_it_found_it(
    tmp_path, env, demo_server, monkeypatch, capsys
) -> None:
    """In process (as a library caller would): the check's collector settings (frozen
    objects, thresholds, off while printing) are undone afterwards."""
    import gc

    from esm_tui.cli import main

    config = write_config(tmp_path, demo_server, '[[domains]]\nname = "good.example"\n')
    monkeypatch.setenv("HOME", env["HOME"])
    monkeypatch.setenv("XDG_CONFIG_HOME", env["XDG_CONFIG_HOME"])
    before = (gc.get_threshold(), gc.isenabled(), gc.get_freeze_count())
    assert main(["check", "--config", str(config), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "ok"
    assert (gc.get_threshold(), gc.isenabled(), gc.get_freeze_count()) == before
