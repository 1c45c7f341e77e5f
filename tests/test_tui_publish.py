"""`p` and Publish on the real dashboard against the demo (SPEC §6 "Demo", issue 14 item 6).

The demo server accepts updates signed with its run's key and the demo config has
`[publish]`: on broken.example, `p` shows the plan (with the DNS host's steps and the
manual changes), Publish sends it, the domain goes into watch mode, and its SPF card turns
green once the recheck sees the new record. Without `[publish]` the same screen is the
guide, with no Publish button.
"""

from __future__ import annotations

from pathlib import Path

import dns.name
import dns.rdatatype
from textual.widgets import Button, Static
from waiting import until

from esm_tui.app import EsmApp
from esm_tui.config import load_config
from esm_tui.demo.scenario import Demo
from esm_tui.model import Status
from esm_tui.widgets.plan_screen import PlanScreen
from tests.test_tui_app import settled


def _plan_text(app: EsmApp) -> str:
    return str(app.screen.query_one("#plan", Static).render())


async def test_p_publishes_the_demo_fix_and_the_spf_card_turns_green() -> None:
    with Demo(delay=3600) as demo:
        app = EsmApp(load_config(demo.config_path))
        async with app.run_test(size=(120, 40)) as pilot:
            await settled(pilot, app)
            assert app.monitor.view("broken.example", "spf").status == Status.FAIL
            app.query_one("#domains").select("broken.example")  # type: ignore[attr-defined]
            await pilot.pause()
            await pilot.press("p")
            await until(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan screen")
            text = _plan_text(app)
            assert '- "v=spf1 +all"' in text
            assert "MANUAL" in text  # what only the relay's console knows
            assert "At your DNS host" in text
            assert app.screen.query_one("#publish", Button).disabled is False
            await pilot.press("P")
            await until(
                pilot,
                lambda: app.monitor.view("broken.example", "spf").status == Status.OK,
                "the SPF card green after publishing",
                state=lambda: app.monitor.view("broken.example", "spf").status,
            )
            assert app.watches.is_watching("broken.example")
            owner = dns.name.from_text("broken.example.")
            txt = [r.to_text() for r in demo.records.rdataset(owner, dns.rdatatype.TXT)]
            assert not any("+all" in t for t in txt)


async def test_without_publish_the_plan_is_the_guide(tmp_path: Path) -> None:
    with Demo(delay=3600) as demo:
        text = demo.config_path.read_text(encoding="utf-8")
        head, _, _ = text.partition("[publish]")
        domains = text[text.index("[[domains]]") :]
        plain = tmp_path / "config.toml"
        plain.write_text(head + domains, encoding="utf-8")
        app = EsmApp(load_config(plain))
        async with app.run_test(size=(120, 40)) as pilot:
            await settled(pilot, app)
            app.query_one("#domains").select("broken.example")  # type: ignore[attr-defined]
            await pilot.pause()
            await pilot.press("p")
            await until(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan screen")
            assert not app.screen.query("#publish")
            note = str(app.screen.query_one("#plan-note", Static).render())
            assert "No [publish] configured" in note
            await pilot.press("P")  # nothing to publish with: the screen stays
            await pilot.pause()
            assert isinstance(app.screen, PlanScreen)
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, PlanScreen), "closed")
