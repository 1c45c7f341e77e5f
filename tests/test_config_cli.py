"""Bad config files through the real program (subprocess): exit 64, the file with line and
column where there is one, what is wrong, nothing on stdout, never a traceback.

tests/test_config.py holds the loader to its messages in-process; this file holds every
sub-command that reads the config (check, the dashboard, history, spf-eval, init) to the
contract of SPEC §1 as a user meets it at the shell.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer

ESM = [sys.executable, "-m", "esm_tui"]

#: (id, file content, line, column or None when the error has no position, words).
CASES: list[tuple[str, bytes, int | None, int | None, str]] = [
    ("unclosed-table", b"[settings\n", 1, 10, "TOML syntax"),
    ("unterminated-string", b'[[domains]]\nname = "a.example\n', 2, None, "TOML syntax"),
    ("missing-value", b"[settings]\ninterval = \n", 2, None, "TOML syntax"),
    ("duplicate-key", b"[settings]\ninterval = 60\ninterval = 90\n", 3, None, "overwrite"),
    ("string-for-int", b'[settings]\ninterval = "300"\n', 2, 1, "settings.interval"),
    ("below-minimum", b"[settings]\ninterval = 5\n", 2, 1, "from 10"),
    ("negative-timeout", b"[settings]\ntimeout = -1.0\n", 2, 1, "settings.timeout"),
    ("float-retries", b"[settings]\nretries = 1.5\n", 2, 1, "settings.retries"),
    ("string-for-list", b'[settings]\nnameservers = "1.1.1.1"\n', 2, 1, "nameservers"),
    ("hostname-resolver", b'[settings]\nnameservers = ["dns.google"]\n', 2, None, "dns.google"),
    ("string-for-bool", b'[settings]\nhistory = "yes"\n', 2, 1, "settings.history"),
    ("typo-key", b"[settings]\nintervall = 300\n", 2, 1, "did you mean 'interval'"),
    ("unknown-table", b'[relays]\nmx = ["a.example"]\n', 1, None, "unknown key"),
    ("unknown-domain-key", b'[[domains]]\nname = "a.example"\nselector = "x"\n', 3, 1, "selector"),
    ("top-level-key", b'name = "a.example"\n', 1, 1, "unknown key"),
    ("duplicate-domain", b'[[domains]]\nname = "a.example"\n[[domains]]\nname = "a.example"\n',
     4, 1, "same domain"),
    ("duplicate-idn", "[[domains]]\nname = \"bücher.example\"\n[[domains]]\n"
     "name = \"XN--BCHER-KVA.example.\"\n".encode(), 4, 1, "same domain"),
    ("space-in-name", b'[[domains]]\nname = "exa mple.com"\n', 2, 1, "not a valid domain"),
    ("hyphen-label", b'[[domains]]\nname = "-bad.example"\n', 2, 1, "not a valid domain"),
    ("long-label", b'[[domains]]\nname = "' + b"a" * 64 + b'.example"\n', 2, 1, "domains[0]"),
    ("empty-name", b'[[domains]]\nname = ""\n', 2, 1, "domains[0].name"),
    ("no-name", b"[[domains]]\nbimi = true\n", 1, None, "name"),
    ("bad-relay-ip", b'[relay]\nspf_ips = ["192.0.2.300"]\n', 2, None, "spf_ips"),
    ("bad-selector", b'[relay]\ndkim_selectors = ["a..b"]\n', 2, None, "empty label"),
    ("invalid-utf8", b"[settings]\n# caf\xe9\n", 2, 6, "UTF-8"),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 1, 1, "UTF-8"),
    ("huge-integer", b"[settings]\ninterval = 1" + b"0" * 5000 + b"\n", None, None, "cannot parse"),
    ("deep-nesting", b"[settings]\nretries = " + b"[" * 3000 + b"\n", None, None, "cannot parse"),
]  # fmt: skip


def run(args: list[str], env: dict[str, str], timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*ESM, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,  # the dashboard must fail before it takes the terminal
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    env["HOME"] = str(tmp_path / "home")
    env.pop("ESM_TUI_CONFIG", None)
    return env


def assert_usage_error(
    out: subprocess.CompletedProcess, where: str, words: str, prefix: str = "esm-tui"
) -> None:
    assert out.returncode == 64, (out.returncode, out.stderr)
    assert "Traceback" not in out.stderr
    assert out.stdout == ""
    assert out.stderr.startswith(f"{prefix}: {where}"), out.stderr
    assert words in out.stderr
    assert out.stderr.count("\n") == 1  # one line, the way a user reads it


def _where(path: Path, line: int | None, col: int | None) -> str:
    if line is None:
        return f"{path}: "
    return f"{path}:{line}:" + (f"{col}: " if col is not None else "")


@pytest.mark.parametrize(
    ("content", "line", "col", "words"),
    [pytest.param(c, ln, col, w, id=i) for i, c, ln, col, w in CASES],
)
def test_check_rejects_the_config_with_its_location(
    tmp_path: Path, env: dict[str, str], content: bytes, line: int | None, col: int | None,
    words: str,
) -> None:  # fmt: skip
    path = tmp_path / "config.toml"
    path.write_bytes(content)
    out = run(["check", "--config", str(path), "example.com"], env)
    assert_usage_error(out, _where(path, line, col), words)


BAD = b'[settings]\ninterval = "often"\n'


@pytest.mark.parametrize(
    ("args", "prefix"),
    [
        ([], "esm-tui"),  # the dashboard: refused before the screen switches
        (["example.com"], "esm-tui"),
        (["check", "--json"], "esm-tui"),
        (["history", "example.com"], "esm-tui history"),
        (["spf-eval", "example.com", "--ip", "192.0.2.1"], "esm-tui spf-eval"),
    ],
)
def test_every_command_that_reads_the_config_refuses_it(
    tmp_path: Path, env: dict[str, str], args: list[str], prefix: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(BAD)
    out = run([*args, "--config", str(path)], env)
    assert_usage_error(out, f"{path}:2:1: ", "settings.interval", prefix)


def test_the_environment_variable_path_is_named(tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "from-env.toml"
    path.write_bytes(BAD)
    env["ESM_TUI_CONFIG"] = str(path)
    assert_usage_error(run(["check", "example.com"], env), f"{path}:2:1: ", "interval")


def test_the_default_path_is_named(tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "xdg" / "esm-tui" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_bytes(BAD)
    assert_usage_error(run(["check", "example.com"], env), f"{path}:2:1: ", "interval")


# -- files that cannot be read ---------------------------------------------------------------


def test_a_directory(tmp_path: Path, env: dict[str, str]) -> None:
    out = run(["check", "--config", str(tmp_path), "example.com"], env)
    assert_usage_error(out, f"{tmp_path}: ", "is a directory")


def test_a_path_through_a_file(tmp_path: Path, env: dict[str, str]) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    path = blocker / "config.toml"
    assert_usage_error(run(["check", "--config", str(path), "x.example"], env), f"{path}: ",
                       "cannot read it")  # fmt: skip


def test_a_pipe_is_refused_not_waited_on(tmp_path: Path, env: dict[str, str]) -> None:
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    out = run(["check", "--config", str(fifo), "example.com"], env, timeout=10)
    assert_usage_error(out, f"{fifo}: ", "pipe")


def test_an_endless_file_is_refused_not_read_to_exhaustion(env: dict[str, str]) -> None:
    out = run(["check", "--config", "/dev/zero", "example.com"], env, timeout=20)
    assert_usage_error(out, "/dev/zero: ", "larger than")


# -- configs that are fine: the CLI then works ------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[DnsServer]:
    records = Records()
    records.add_zone("xn--bcher-kva.example.")
    records.add("xn--bcher-kva.example.", "MX", "10 mx.xn--bcher-kva.example.")
    records.add("mx.xn--bcher-kva.example.", "A", "192.0.2.1")
    with DnsServer(records) as srv:
        yield srv


def _settings(server: DnsServer) -> str:
    return (
        "[settings]\ntimeout = 0.5\nretries = 0\nhistory = false\n"
        f'nameservers = ["{server.address}"]\n'
    )


def test_an_idn_domain_is_checked_under_its_ascii_name(
    tmp_path: Path, env: dict[str, str], server: DnsServer
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(_settings(server) + '[[domains]]\nname = "Bücher.example"\n', encoding="utf-8")
    out = run(["check", "--config", str(path), "--json"], env)
    assert out.returncode in (0, 1, 2), out.stderr  # a verdict, not a usage error
    assert out.stderr == ""
    [entry] = json.loads(out.stdout)["domains"]
    assert entry["domain"] == "xn--bcher-kva.example"
    assert entry["checks"]["mx"]["status"] == "ok"


def test_dev_null_is_an_empty_config(env: dict[str, str], server: DnsServer) -> None:
    out = run(["check", "--config", "/dev/null", "--nameserver", server.address, "--json",
               "xn--bcher-kva.example"], env)  # fmt: skip
    assert out.returncode in (0, 1, 2), out.stderr
    assert json.loads(out.stdout)["domains"][0]["checks"]["mx"]["status"] == "ok"


def test_a_crlf_config_with_a_bom_loads(
    tmp_path: Path, env: dict[str, str], server: DnsServer
) -> None:
    path = tmp_path / "config.toml"
    text = "\ufeff" + _settings(server) + '[[domains]]\nname = "xn--bcher-kva.example"\n'
    path.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    out = run(["check", "--config", str(path), "--json"], env)
    assert out.returncode in (0, 1, 2), out.stderr
    assert [d["domain"] for d in json.loads(out.stdout)["domains"]] == ["xn--bcher-kva.example"]


# -- init: where the starter config cannot be written ---------------------------------------


def test_init_refuses_to_overwrite_and_names_the_file(tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"# mine\n")
    assert_usage_error(run(["init", "--config", str(path)], env), f"{path}: ", "already exists")
    assert path.read_bytes() == b"# mine\n"  # nothing the user wrote is lost


def test_init_into_an_impossible_directory(tmp_path: Path, env: dict[str, str]) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory\n")
    path = blocker / "sub" / "config.toml"
    assert_usage_error(run(["init", "--config", str(path)], env), f"{path}: ",
                       "cannot create its directory")  # fmt: skip
    assert blocker.read_text() == "not a directory\n"
