"""Triage at scale (SPEC §9, issue 17 item 3): counts, sort, next problem, status filter, vi keys.

The real app on the demo's domains over its loopback DNS server (tests/test_tui_app.py's
fixtures), and esm_tui/triage.py's rules on their own.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from test_tui_app import DEMO, config_path, demo_server, screen_text, settled_app  # noqa: F401

from esm_tui.demo.server import DnsServer
from esm_tui.model import Status
from esm_tui.triage import counts_title, filtered, next_problem, sorted_rows, status_filter
from esm_tui.widgets.domain_list import DomainList


def test_status_words_and_name_filters() -> None:
    rows = [("a.example", Status.OK), ("b.example", Status.FAIL), ("fail.example", Status.OK)]
    name, status = (lambda r: r[0]), (lambda r: r[1])
    assert filtered(rows, "fail", name, status) == [rows[1]]  # a word, not a part of a name
    assert filtered(rows, " FAIL ", name, status) == [rows[1]]
    assert filtered(rows, "fail.", name, status) == [rows[2]]
    assert filtered(rows, "?", name, status) == []
    assert status_filter("warn") == {Status.WARN} and status_filter("shop") is None


def test_worst_first_keeps_the_configured_order_among_equals() -> None:
    rows = [
        ("a", Status.OK),
        ("b", Status.WARN),
        ("c", Status.FAIL),
        ("d", None),
        ("e", Status.FAIL),
    ]
    worst = sorted_rows(rows, "worst", lambda r: r[0], lambda r: r[1])
    assert [r[0] for r in worst] == ["c", "e", "b", "d", "a"]
    by_name = sorted_rows(rows[::-1], "name", lambda r: r[0], lambda r: r[1])
    assert [r[0] for r in by_name] == ["a", "b", "c", "d", "e"]


def test_next_problem_wraps_and_skips_ok() -> None:
    statuses = {"a": Status.OK, "b": Status.FAIL, "c": Status.OK, "d": Status.UNKNOWN}
    names = list(statuses)
    assert next_problem(names, statuses.get, "a", 1) == "b"
    assert next_problem(names, statuses.get, "b", 1) == "d"
    assert next_problem(names, statuses.get, "d", 1) == "b"  # wraps
    assert next_problem(names, statuses.get, "b", -1) == "d"
    assert next_problem(["a", "c"], statuses.get, "a", 1) is None


def test_the_header_counts_only_what_there_is() -> None:
    counts = Counter({Status.FAIL: 2, Status.OK: 5, Status.WARN: 0})
    assert counts_title(counts, 7) == "Domains 7 ✗2 ✓5"


# -- the real app ---------------------------------------------------------------------------


async def test_the_demo_at_80x24(config_path: Path, demo_server: DnsServer) -> None:  # noqa: F811
    async with settled_app(config_path, (80, 24)) as (app, pilot):
        domains = app.query_one("#domains", DomainList)
        statuses = {d: app.monitor.domain_status(d) for d in DEMO}
        expected = counts_title(Counter(statuses.values()), len(DEMO))
        assert str(domains.border_title) == expected
        assert expected in screen_text(app)  # fits the 80-column sidebar's border
        bad = [d for d in DEMO if statuses[d] in (Status.FAIL, Status.WARN, Status.UNKNOWN)]
        fine = [d for d in DEMO if statuses[d] == Status.OK]
        assert bad and fine

        # n from an OK domain goes to the next one that is not OK, N comes back around
        domains.select(fine[0])
        await pilot.pause()
        await pilot.press("n")
        after = DEMO[DEMO.index(fine[0]) + 1 :] + DEMO[: DEMO.index(fine[0])]
        first_bad = next(d for d in after if d in bad)
        assert app.selected == first_bad
        await pilot.press("N")
        assert app.selected in bad

        # /fail leaves only the failing domains; escape brings every one back
        await pilot.press("slash", *"fail")
        assert domains.visible == [d for d in DEMO if statuses[d] == Status.FAIL]
        await pilot.press("escape")
        assert domains.visible == DEMO

        # s: by name, worst first, as configured
        await pilot.press("s")
        assert domains.visible == sorted(DEMO)
        assert str(domains.border_subtitle) == "by name"
        await pilot.press("s")
        rank = [Status.FAIL, Status.UNKNOWN, Status.WARN, None, Status.OK, Status.NONE]
        assert [rank.index(statuses[d]) for d in domains.visible] == sorted(
            rank.index(statuses[d]) for d in DEMO
        )
        await pilot.press("s")
        assert domains.visible == DEMO and not domains.border_subtitle

        # j k g G in the list
        domains.focus()
        await pilot.press("g")
        assert app.selected == DEMO[0]
        await pilot.press("j")
        assert app.selected == DEMO[1]
        await pilot.press("G")
        assert app.selected == DEMO[-1]
        await pilot.press("k")
        assert app.selected == DEMO[-2]
