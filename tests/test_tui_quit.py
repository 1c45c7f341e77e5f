"""Keys typed in the same burst as `q` (issue 17 item 9).

Over SSH a burst such as `qa` arrives in one read: the driver posts both keys before the
app has processed the first. `a` then opened the add-domain dialog on an app that was
already tearing down, and its mount crashed with NoMatches. The keys are posted here the
way the driver does, both before the app runs again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from textual import events
from textual.css.query import NoMatches
from waiting import until

from esm_tui.app import EsmApp
from esm_tui.config import Config, DomainConfig, Settings
from esm_tui.model import CHECK_NAMES, DomainReport, DomainSettings, RecordResult, Status


async def _checker(settings: DomainSettings, fresh: bool) -> DomainReport:
    result = RecordResult("spf", Status.OK, "fine", f"{settings.name}.", "TXT")
    checks = {c: replace(result, check=c) for c in CHECK_NAMES}
    return DomainReport(settings.name, checks, datetime.now(UTC))


@pytest.mark.parametrize("burst", ["qa", "qd", "q?", "qaq"])
async def test_keys_after_quit_in_one_burst_do_not_crash(burst: str) -> None:
    config = Config(
        path=None, settings=Settings(history=False), domains=(DomainConfig(name="a.example"),)
    )
    app = EsmApp(config, checker=_checker, watch_config=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.monitor.report("a.example") is not None, "the check")
        for key in burst:  # as the driver does: all posted before any is handled
            app.post_message(events.Key(key, key))
        await until(pilot, lambda: app._exit, "quitting")
    error = getattr(app, "_exception", None)
    assert not isinstance(error, NoMatches), error
    assert error is None, error
    assert app.return_code == 0
