"""History: transitions in SQLite (not repeats), pruning, restarts, two writers, the words."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from esm_tui.history import (
    DATA_DIR_ENV,
    History,
    HistoryError,
    Transition,
    default_path,
    duration,
    records_hash,
    render_timeline,
)
from esm_tui.history_cli import run_history
from esm_tui.model import DomainReport, RecordResult, Status

T0 = datetime(2026, 11, 27, 9, 12, tzinfo=UTC)


def report(
    at: datetime,
    status: Status = Status.OK,
    records: tuple[str, ...] = ("v=spf1 -all",),
    *,
    domain: str = "example.com",
    summary: str = "",
    checks: tuple[str, ...] = ("spf",),
) -> DomainReport:
    results = {
        c: RecordResult(c, status, summary or f"{c} {status}", f"{domain}.", "TXT", records)
        for c in checks
    }
    return DomainReport(domain, results, at)


def opened(path: Path, **kwargs: object) -> History:
    history = History.open(path, **kwargs)  # type: ignore[arg-type]
    assert isinstance(history, History), history
    return history


def spf_rows(history: History, domain: str = "example.com") -> list[Transition]:
    timeline = history.timeline(domain)
    assert not isinstance(timeline, HistoryError)
    return timeline.get("spf", [])


def test_transitions_are_stored_and_identical_repeats_are_not(tmp_path: Path) -> None:
    history = opened(tmp_path / "h.sqlite3")
    first = history.record(report(T0, Status.FAIL, ()))
    assert [t.status for t in first] == [Status.FAIL]
    assert history.record(report(T0 + timedelta(minutes=5), Status.FAIL, ())) == []
    # Only the summary changed: still the same status and data.
    assert history.record(report(T0 + timedelta(minutes=6), Status.FAIL, (), summary="x")) == []
    # Same status, new data (one broken record replaced by another): a transition.
    assert len(history.record(report(T0 + timedelta(minutes=7), Status.FAIL, ("v=spf1",)))) == 1
    assert len(history.record(report(T0 + timedelta(hours=5), Status.OK))) == 1
    rows = spf_rows(history)
    assert [r.status for r in rows] == [Status.FAIL, Status.FAIL, Status.OK]
    assert rows[0].at == T0 and rows[-1].hash == records_hash(["v=spf1 -all"])


def test_record_many_writes_what_record_would_in_one_transaction(tmp_path: Path) -> None:
    reports = [
        report(T0, Status.FAIL, (), domain="a.example"),
        report(T0, Status.OK, domain="b.example"),
        report(T0 + timedelta(minutes=1), Status.FAIL, (), domain="a.example"),  # a repeat
        report(T0 + timedelta(minutes=2), Status.OK, domain="a.example"),
    ]
    one = opened(tmp_path / "one.sqlite3")
    singly = [t for r in reports for t in one.record(r)]  # type: ignore[union-attr]
    many = opened(tmp_path / "many.sqlite3")
    statements: list[str] = []
    many._db.set_trace_callback(statements.append)
    together = many.record_many(reports)
    assert together == singly
    assert [(t.domain, t.status) for t in together] == [
        ("a.example", Status.FAIL),
        ("b.example", Status.OK),
        ("a.example", Status.OK),
    ]
    assert statements.count("BEGIN IMMEDIATE") == 1
    assert statements.count("COMMIT") == 1
    assert spf_rows(many, "a.example") == spf_rows(one, "a.example")


def test_record_order_does_not_make_a_transition(tmp_path: Path) -> None:
    history = opened(tmp_path / "h.sqlite3")
    history.record(report(T0, records=("a", "b")))
    assert history.record(report(T0 + timedelta(minutes=1), records=("b", "a"))) == []
    assert records_hash(["a", "b"]) != records_hash(["ab"])


def test_each_check_has_its_own_timeline_in_display_order(tmp_path: Path) -> None:
    history = opened(tmp_path / "h.sqlite3")
    history.record(report(T0, checks=("spf", "mx", "dmarc")))
    history.record(report(T0, domain="other.example", checks=("mx",)))
    timeline = history.timeline("example.com")
    assert list(timeline) == ["mx", "spf", "dmarc"]
    assert all(len(v) == 1 for v in timeline.values())
    assert history.domains() == ["example.com", "other.example"]
    assert history.timeline("nothing.example") == {}


def test_oldest_rows_are_pruned(tmp_path: Path) -> None:
    history = opened(tmp_path / "h.sqlite3", keep=3)
    statuses = [Status.FAIL, Status.OK, Status.WARN, Status.OK, Status.FAIL]
    for i, status in enumerate(statuses):
        history.record(report(T0 + timedelta(minutes=i), status))
    rows = spf_rows(history)
    assert [r.status for r in rows] == statuses[-3:]
    assert rows[0].at == T0 + timedelta(minutes=2)
    count = sqlite3.connect(tmp_path / "h.sqlite3").execute("SELECT count(*) FROM transitions")
    assert count.fetchone()[0] == 3


def test_history_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "h.sqlite3"
    first = opened(path)
    first.record(report(T0, Status.FAIL, ()))
    first.close()
    second = opened(path)
    assert [r.status for r in spf_rows(second)] == [Status.FAIL]
    # The new instance compares with what the old one stored.
    assert second.record(report(T0 + timedelta(minutes=5), Status.FAIL, ())) == []
    assert len(second.record(report(T0 + timedelta(minutes=9), Status.OK))) == 1


def test_two_instances_write_the_same_file_concurrently(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    a, b = opened(path), opened(path)
    start = threading.Barrier(2)
    errors: list[object] = []

    def writer(history: History, domain: str) -> None:
        start.wait()
        for i in range(40):
            status = Status.OK if i % 2 else Status.FAIL
            result = history.record(report(T0 + timedelta(seconds=i), status, domain=domain))
            if isinstance(result, HistoryError):
                errors.append(result)

    threads = [
        threading.Thread(target=writer, args=(a, "a.example")),
        threading.Thread(target=writer, args=(b, "b.example")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(spf_rows(a, "a.example")) == 40 and len(spf_rows(a, "b.example")) == 40
    journal = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert journal == "wal"


def test_the_same_change_seen_by_two_instances_is_stored_once(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    a, b = opened(path), opened(path)
    assert len(a.record(report(T0, Status.FAIL, ()))) == 1
    assert b.record(report(T0 + timedelta(seconds=3), Status.FAIL, ())) == []
    # A report older than the last stored row (a slow instance) changes nothing.
    assert len(b.record(report(T0 + timedelta(minutes=10), Status.OK))) == 1
    assert a.record(report(T0 + timedelta(minutes=5), Status.FAIL, ())) == []
    assert [r.status for r in spf_rows(a)] == [Status.FAIL, Status.OK]


def test_a_corrupt_database_is_an_error_value(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_bytes(b"this is not an SQLite database, it is a poem about MX records\n" * 20)
    result = History.open(path)
    assert isinstance(result, HistoryError)
    assert str(path) in result.message and "without history" in result.message


def test_an_unwritable_location_is_an_error_value(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = History.open(blocker / "h.sqlite3")
    assert isinstance(result, HistoryError) and str(blocker) in result.message


def test_a_database_broken_while_open_gives_errors_not_exceptions(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    history = opened(path)
    other = sqlite3.connect(path)
    other.execute("DROP TABLE transitions")
    other.commit()
    assert isinstance(history.record(report(T0)), HistoryError)
    assert isinstance(history.timeline("example.com"), HistoryError)
    assert isinstance(history.domains(), HistoryError)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    opened(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.commit()
    result = History.open(path)
    assert isinstance(result, HistoryError) and "newer esm-tui" in result.message


def test_default_path_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert default_path() == tmp_path / "history.sqlite3"
    monkeypatch.delenv(DATA_DIR_ENV)
    assert default_path().name == "history.sqlite3" and "esm-tui" in str(default_path())


# -- the words -------------------------------------------------------------------------------


def rows(*steps: tuple[Status, datetime]) -> list[Transition]:
    return [Transition("e", "spf", s, "h", "", at) for s, at in steps]


NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


def test_render_fixed_record_with_propagation_time() -> None:
    ok_at = T0 + timedelta(hours=5, minutes=19)
    text = render_timeline(rows((Status.FAIL, T0), (Status.OK, ok_at)), now=NOW, tz=UTC)
    assert text == "FAIL since 09:12 → OK at 14:31, propagated in 5 h 19 min"


def test_render_keeps_only_the_last_episode_and_merges_data_changes() -> None:
    fail = T0 + timedelta(hours=2)
    steps = rows(
        (Status.OK, T0 - timedelta(days=3)),
        (Status.FAIL, fail),
        (Status.FAIL, fail + timedelta(minutes=30)),  # same status, other data
        (Status.WARN, fail + timedelta(hours=1)),
        (Status.OK, fail + timedelta(hours=3, minutes=19)),
    )
    assert render_timeline(steps, now=NOW, tz=UTC) == (
        "FAIL since 11:12 → WARN at 12:12 → OK at 14:31, propagated in 3 h 19 min"
    )


def test_render_a_record_that_is_broken_now() -> None:
    steps = rows((Status.OK, T0 - timedelta(days=1)), (Status.FAIL, T0))
    assert render_timeline(steps, now=NOW, tz=UTC) == "OK since 2026-11-26 09:12 → FAIL at 09:12"
    assert render_timeline(rows((Status.UNKNOWN, T0)), now=NOW, tz=UTC) == "UNKNOWN since 09:12"
    assert render_timeline([], now=NOW) == "no history yet"


def test_render_a_long_flapping_stretch_is_shortened() -> None:
    flaps = [
        (Status.FAIL if i % 2 == 0 else Status.UNKNOWN, T0 + timedelta(minutes=i)) for i in range(9)
    ]
    text = render_timeline(rows(*flaps, (Status.OK, T0 + timedelta(hours=1))), now=NOW, tz=UTC)
    assert text.startswith("FAIL since 09:12 → … → ")
    assert text.count("→") == 4 and text.endswith("OK at 10:12, propagated in 1 h")


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (30, "30 s"),
        (45 * 60, "45 min"),
        (3 * 3600, "3 h"),
        (2 * 86400 + 4 * 3600 + 7, "2 d 4 h"),
        (-5, "0 s"),
    ],
)
def test_duration(seconds: int, words: str) -> None:
    assert duration(timedelta(seconds=seconds)) == words


# -- `esm-tui history` ---------------------------------------------------------------------


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        DATA_DIR_ENV: str(tmp_path / "data"),
        "ESM_TUI_CONFIG": str(tmp_path / "absent.toml"),
        "TZ": "UTC",
    }
    code = (
        "import sys; from esm_tui.history_cli import run_history; "
        "sys.exit(run_history(sys.argv[1:]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=60
    )


#: Long ago, so that the printed times carry their date whatever day the tests run.
SEED_T0 = datetime(2025, 3, 4, 9, 12, tzinfo=UTC)


def seed(tmp_path: Path) -> None:
    history = opened(tmp_path / "data" / "history.sqlite3")
    history.record(report(SEED_T0, Status.FAIL, (), summary="no SPF record \x1b[31m"))
    history.record(report(SEED_T0 + timedelta(hours=3, minutes=19), Status.OK, summary="-all"))
    history.close()


def test_cli_json(tmp_path: Path) -> None:
    seed(tmp_path)
    done = run_cli(tmp_path, "Example.COM.", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["domain"] == "example.com"
    assert list(data["checks"]) == ["spf"]
    first, second = data["checks"]["spf"]
    assert set(first) == {"status", "at", "hash", "summary"}
    assert first["status"] == "fail" and first["at"] == "2025-03-04T09:12:00+00:00"
    assert first["summary"] == "no SPF record \x1b[31m"  # raw in JSON (escaped by JSON itself)
    assert second["status"] == "ok" and second["hash"] == records_hash(["v=spf1 -all"])


def test_cli_text(tmp_path: Path) -> None:
    seed(tmp_path)
    done = run_cli(tmp_path, "example.com")
    assert done.returncode == 0, done.stderr
    assert "SPF" in done.stdout and "propagated in 3 h 19 min" in done.stdout
    assert "FAIL since 2025-03-04 09:12 → OK at 2025-03-04 12:31" in done.stdout
    assert "\x1b" not in done.stdout and "\\x1b[31m" in done.stdout


def test_cli_without_history(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "example.com")
    assert done.returncode == 0 and "no history recorded for example.com" in done.stdout
    assert not (tmp_path / "data").exists()  # reading never creates the database
    done = run_cli(tmp_path, "example.com", "--json")
    assert json.loads(done.stdout) == {"domain": "example.com", "checks": {}}


def run_here(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str
) -> tuple[int, str, str]:
    """run_history in this process (argparse's exit caught), for the cheap cases."""
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    monkeypatch.setenv("ESM_TUI_CONFIG", str(tmp_path / "absent.toml"))
    try:
        code = run_history(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    "args", [(), ("example.com", "--bogus"), ("not a domain!",), ("example.com", "--config")]
)
def test_cli_bad_arguments_exit_64(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    args: tuple[str, ...],
) -> None:
    code, _out, err = run_here(monkeypatch, capsys, tmp_path, *args)
    assert code == 64 and err.strip()


def test_cli_bad_config_exit_64(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[settings]\ninterval = \n")
    code, _out, err = run_here(monkeypatch, capsys, tmp_path, "example.com", "--config", str(bad))
    assert code == 64 and str(bad) in err


def test_cli_bad_arguments_in_a_real_process_print_no_traceback(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "not a domain!")
    assert done.returncode == 64
    assert "not a valid domain name" in done.stderr and "Traceback" not in done.stderr


def test_cli_corrupt_database(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "history.sqlite3").write_bytes(b"garbage" * 200)
    done = run_cli(tmp_path, "example.com")
    assert done.returncode == 74
    assert "history database" in done.stderr and "Traceback" not in done.stderr


def test_cli_notes_history_turned_off(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    seed(tmp_path)
    config = tmp_path / "c.toml"
    config.write_text("[settings]\nhistory = false\n")
    code, out, err = run_here(monkeypatch, capsys, tmp_path, "example.com", "--config", str(config))
    assert code == 0 and "history is off" in err
    assert "propagated in" in out
