"""`esm-tui check --demo`, `--format table|json|nagios` and the duration parser, run as the
real program against the demo's loopback DNS server (SPEC §7)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from esm_tui import nagios
from esm_tui.demo.records import Records
from esm_tui.demo.scenario import DEMO_DOMAINS
from esm_tui.demo.server import DnsServer
from esm_tui.duration import DurationError, parse_duration
from esm_tui.model import DomainReport, RecordResult, Status

ESM = [sys.executable, "-m", "esm_tui"]
STATES = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}
# monitoring-plugins guidelines: 'label'=value[UOM];[warn];[crit];[min];[max]
PERFDATA = re.compile(
    r"(?P<label>'[^'=]+'|[^'=\s]+)=(?P<value>-?\d+(?:\.\d+)?)(?P<uom>s|ms|us|%|B|KB|MB|TB|c)?"
    r"(?:;(?P<warn>[-\d.:~@]*))?(?:;(?P<crit>[-\d.:~@]*))?(?:;(?P<min>-?[\d.]*))?(?:;(?P<max>-?[\d.]*))?"
)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    env.pop("ESM_TUI_CONFIG", None)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(ESM + args, capture_output=True, text=True, env=env, timeout=60)


def parse_plugin_output(text: str) -> tuple[str, str, dict[str, int], list[str]]:
    """Split plugin output per the guidelines: state, text, perfdata, long-output lines."""
    first, *rest = text.rstrip("\n").split("\n")
    match = re.fullmatch(r"ESM-TUI (OK|WARNING|CRITICAL|UNKNOWN) - ([^|]+) \| (.+)", first)
    assert match, first
    perf: dict[str, int] = {}
    for item in match.group(3).split(" "):
        data = PERFDATA.fullmatch(item)
        assert data, f"invalid perfdata {item!r}"
        assert data.group("min") == "0"
        perf[data.group("label").strip("'")] = int(data.group("value"))
    assert all("|" not in line for line in rest)  # no second perfdata block
    return match.group(1), match.group(2), perf, rest


def test_check_demo_json_lists_the_four_demo_domains(env) -> None:
    result = run(["check", "--demo", "--json"], env)
    document = json.loads(result.stdout)
    assert [d["domain"] for d in document["domains"]] == list(DEMO_DOMAINS)
    assert result.returncode == 2 and document["status"] == "fail"
    same = run(["check", "--demo", "--format", "json", "good.example"], env)
    assert [d["domain"] for d in json.loads(same.stdout)["domains"]] == ["good.example"]
    assert same.returncode == 0


def test_nagios_output_follows_the_plugin_guidelines(env) -> None:
    result = run(["check", "--demo", "--format", "nagios"], env)
    state, text, perf, rest = parse_plugin_output(result.stdout)
    assert result.returncode == STATES[state] == 2
    assert len(result.stdout.split("\n")[0]) <= 300
    assert text.startswith("2 of 4 domains failing: broken.example (MX, SPF, DKIM, DMARC), ")
    assert "late.example (DMARC)" in text
    # The counts are the records' statuses, as the JSON output gives them.
    document = json.loads(run(["check", "--demo", "--json"], env).stdout)
    statuses = Counter(c["status"] for d in document["domains"] for c in d["checks"].values())
    assert perf == {k: statuses[k] for k in ("ok", "warn", "fail", "unknown")}
    not_ok = sum(statuses[k] for k in ("warn", "fail", "unknown"))
    assert len(rest) == not_ok
    assert "broken.example MX CRITICAL: no MX record" in rest
    assert any(line.startswith("shop.example DKIM WARNING: ") for line in rest)


def test_nagios_ok_and_warning(env) -> None:
    good = run(["check", "--demo", "--format", "nagios", "good.example"], env)
    state, text, perf, rest = parse_plugin_output(good.stdout)
    assert (state, good.returncode, text, rest) == ("OK", 0, "all 1 domains ok", [])
    shop = run(["check", "--demo", "--format", "nagios", "shop.example"], env)
    state, text, perf, rest = parse_plugin_output(shop.stdout)
    assert (state, shop.returncode) == ("WARNING", 1)
    assert text == "1 of 1 domains warning: shop.example (MX, SPF, DKIM, DMARC)"
    assert perf["warn"] == 4 == len(rest)


def test_nagios_keeps_dns_data_out_of_the_status_syntax(tmp_path, env) -> None:
    records = Records()
    records.add_zone("evil.test.")
    records.add("evil.test.", "MX", "10 mx\\|\\027x.evil.test.")
    with DnsServer(records) as server:
        config = tmp_path / "c.toml"
        config.write_text(
            f'[settings]\ntimeout = 0.5\nretries = 0\nnameservers = ["{server.address}"]\n',
            encoding="utf-8",
        )
        result = run(["check", "--config", str(config), "--format", "nagios", "evil.test"], env)
    assert "\x1b" not in result.stdout and "\x17" not in result.stdout
    state, _, _, rest = parse_plugin_output(result.stdout)
    assert result.returncode == STATES[state]
    assert any("(mx/\\027x.evil.test.)" in line for line in rest), rest


def test_nagios_escapes_control_characters_and_pipes_in_summaries() -> None:
    result = RecordResult("dmarc", Status.FAIL, "bad p=x|\x1b[31m\nred", "_dmarc.e.test", "TXT")
    report = DomainReport("e.test", {"dmarc": result}, datetime.now(UTC))
    text = nagios.render([report])
    assert "\x1b" not in text and text.count("|") == 1
    assert text.split("\n")[1] == "e.test DMARC CRITICAL: bad p=x/\\x1b[31m\\x0ared"


def test_many_failing_domains_keep_the_first_line_short(tmp_path, env) -> None:
    records = Records()
    names = [f"d{i:02d}-with-a-rather-long-name.test" for i in range(12)]
    for name in names:
        records.add_zone(f"{name}.")
    with DnsServer(records) as server:
        config = tmp_path / "c.toml"
        config.write_text(
            f'[settings]\ntimeout = 0.5\nretries = 0\nnameservers = ["{server.address}"]\n',
            encoding="utf-8",
        )
        result = run(["check", "--config", str(config), "--format", "nagios", *names], env)
    state, text, _, _ = parse_plugin_output(result.stdout)
    assert state == "CRITICAL" and result.returncode == 2
    assert text.startswith("12 of 12 domains failing: d00-") and text.endswith(", …")
    assert len(text) <= 200


def test_json_and_another_format_disagree(env) -> None:
    result = run(["check", "--demo", "--json", "--format", "nagios"], env)
    assert result.returncode == 64 and "disagree" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("90", 90), ("15m", 900), ("2h", 7200), ("24h", 86400)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0s", "-5s", "2 hours", "h", "1w", "1.5.2h"])
def test_bad_durations(text: str, env) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)


def test_bad_timeout_is_a_usage_error(env) -> None:
    result = run(["check", "--demo", "--until-ok", "--timeout", "soon"], env)
    assert result.returncode == 64 and "not a duration" in result.stderr
    assert "Traceback" not in result.stderr
