"""`spf-eval` by subprocess against the loopback server: output, JSON, exit codes 0/1/64."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer


@pytest.fixture
def zone(records: Records) -> Records:
    records.add_zone("example.com.")
    records.add_zone("relay.example.")
    records.add_txt("_spf.relay.example.", "v=spf1 ip4:192.0.2.0/24 -all")
    records.add_txt("example.com.", "v=spf1 include:_spf.relay.example -all exp=why.example.com")
    records.add_txt("why.example.com.", "%{i} may not send for %{d} (%{l})")
    return records


def _run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ESM_TUI_CONFIG": str(tmp_path / "absent.toml")}
    return subprocess.run(
        [sys.executable, "-m", "esm_tui.spf.spf_eval_cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_pass_prints_the_chain(zone: Records, dns_server: DnsServer, tmp_path: Path) -> None:
    done = _run(
        "example.com", "--ip", "192.0.2.10", "--nameserver", dns_server.address, tmp_path=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "result:      pass" in done.stdout
    assert "include:_spf.relay.example → ip4:192.0.2.0/24 matched" in done.stdout
    assert "explanation" not in done.stdout


def test_fail_prints_the_escaped_explanation(
    zone: Records, dns_server: DnsServer, tmp_path: Path
) -> None:
    done = _run(
        "example.com", "--ip", "198.51.100.1", "--timeout", "2",
        "--sender", "\x1b[2Jbob@example.com", "--nameserver", dns_server.address,
        tmp_path=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "result:      fail" in done.stdout and "chain:       -all matched" in done.stdout
    # The sender's local part reaches the output through %{l}: its ESC is shown, not sent.
    assert "explanation: 198.51.100.1 may not send for example.com (\\x1b[2Jbob)" in done.stdout
    assert "\x1b" not in done.stdout


def test_json(zone: Records, dns_server: DnsServer, tmp_path: Path) -> None:
    done = _run(
        "Example.COM.", "--ip", "::ffff:192.0.2.1", "--sender", "alice@example.com",
        "--helo", "mta.example.org", "--json", "--nameserver", dns_server.address,
        tmp_path=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data == {
        "result": "pass",
        "domain": "example.com",
        "ip": "192.0.2.1",
        "chain": ["include:_spf.relay.example", "ip4:192.0.2.0/24"],
        "reason": data["reason"],
        "explanation": None,
        "dns_lookups": 1,
        "void_lookups": 0,
        "sender": "alice@example.com",
        "helo": "mta.example.org",
        "nameservers": [dns_server.address],
    }


def test_results_other_than_pass_exit_1(
    records: Records, dns_server: DnsServer, tmp_path: Path
) -> None:
    records.add_zone("example.com.")
    done = _run(
        "example.com",
        "--ip",
        "192.0.2.1",
        "--json",
        "--nameserver",
        dns_server.address,
        tmp_path=tmp_path,
    )
    assert done.returncode == 1
    assert json.loads(done.stdout)["result"] == "none"


def test_nameservers_from_config(zone: Records, dns_server: DnsServer, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[settings]\nnameservers = ["{dns_server.address}"]\ntimeout = 2.0\n')
    done = _run("example.com", "--ip", "192.0.2.1", "--config", str(config), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["example.com"],  # --ip is required
        ["example.com", "--ip", "300.1.1.1"],
        ["example.com", "--ip", "192.0.2.1", "--nameserver", "dns.example"],
        ["example.com", "--ip", "192.0.2.1", "--frobnicate"],
        ["example.com", "--ip", "192.0.2.1", "--timeout", "-1"],
        ["example.com", "--ip", "192.0.2.1", "--config", "/nonexistent/esm.toml"],
    ],
)
def test_bad_arguments_exit_64(args: list[str], tmp_path: Path) -> None:
    done = _run(*args, tmp_path=tmp_path)
    assert done.returncode == 64, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and done.stderr.strip()
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("domain", "helo"),
    [
        ("not a domain", None),
        ("192.0.2.1", None),
        ("[192.0.2.1]", None),
        ("a..example.com", None),
        ("x" * 64 + ".example.com", None),
        ("localhost", "localhost"),
    ],
)
def test_malformed_names_give_none_not_a_usage_error(
    domain: str, helo: str | None, dns_server: DnsServer, tmp_path: Path
) -> None:
    """RFC 7208 §4.3: check_host() answers `none` for a malformed name; so does the command."""
    extra = ["--helo", helo] if helo else []
    done = _run(
        domain, "--ip", "192.0.2.1", "--sender", "", *extra,
        "--nameserver", dns_server.address, "--json", tmp_path=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1, (done.stdout, done.stderr)
    data = json.loads(done.stdout)
    assert data["result"] == "none" and "not a valid domain name (§4.3)" in data["reason"]
    assert data["dns_lookups"] == 0


def test_sender_is_read_as_a_mail_from(
    zone: Records, dns_server: DnsServer, tmp_path: Path
) -> None:
    """An empty --sender is the null reverse-path (postmaster@HELO); "@d" gets "postmaster"."""
    for sender, expected in (
        ("", "postmaster@mail.example.com"),
        ("@example.com", "postmaster@example.com"),
    ):
        done = _run(
            "example.com", "--ip", "192.0.2.1", "--sender", sender, "--helo", "mail.example.com",
            "--nameserver", dns_server.address, "--json", tmp_path=tmp_path,
        )  # fmt: skip
        assert json.loads(done.stdout)["sender"] == expected, done.stderr


def test_malformed_config_exits_64_with_location(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[settings]\nnameservers = [\n")
    done = _run("example.com", "--ip", "192.0.2.1", "--config", str(config), tmp_path=tmp_path)
    assert done.returncode == 64 and str(config) in done.stderr
    assert "Traceback" not in done.stderr


def test_help_exits_0(tmp_path: Path) -> None:
    done = _run("--help", tmp_path=tmp_path)
    assert done.returncode == 0 and "--ip" in done.stdout
