"""The chosen theme is remembered (issue 17 item 7), beside the history database."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from waiting import until

from esm_tui.app import EsmApp
from esm_tui.config import Config, DomainConfig, Settings
from esm_tui.model import CHECK_NAMES, DomainReport, DomainSettings, RecordResult, Status
from esm_tui.ui_state import state_path


async def _checker(settings: DomainSettings, fresh: bool) -> DomainReport:
    result = RecordResult("spf", Status.OK, "fine", f"{settings.name}.", "TXT")
    checks = {c: replace(result, check=c) for c in CHECK_NAMES}
    return DomainReport(settings.name, checks, datetime.now(UTC))


def _app() -> EsmApp:
    config = Config(
        path=None, settings=Settings(history=False), domains=(DomainConfig(name="a.example"),)
    )
    return EsmApp(config, checker=_checker, watch_config=False)


async def test_a_theme_chosen_is_the_theme_of_the_next_run() -> None:
    first = _app()
    async with first.run_test(size=(80, 24)) as pilot:
        default = first.theme
        assert default != "textual-light"
        first.theme = "textual-light"
        await until(pilot, lambda: state_path().exists(), "the theme saved")
    assert json.loads(state_path().read_text()) == {"theme": "textual-light"}
    second = _app()
    async with second.run_test(size=(80, 24)):
        assert second.theme == "textual-light"


async def test_a_bad_state_file_is_ignored() -> None:
    for text in ("not json", '{"theme": "no-such-theme"}', '{"theme": 3}', "[]"):
        state_path().parent.mkdir(parents=True, exist_ok=True)
        state_path().write_text(text)
        app = _app()
        async with app.run_test(size=(80, 24)):
            assert app.theme == "textual-dark"  # the default, and no error
