"""Wide terminals use their width (SPEC §9, issue 17 item 5); 80×24 stays as it was.

The real app on the demo over the loopback DNS server. At 200×60 the card grid has three
columns (three card titles on one line), the sidebar is wider, and a failing card shows its
findings and the record to publish; the 80×24 and 120×40 screens are held by the snapshot
tests, unchanged by this.
"""

from __future__ import annotations

from pathlib import Path

from test_tui_app import config_path, demo_server, screen_text, select, settled_app  # noqa: F401

from esm_tui.demo.server import DnsServer


async def test_at_200_columns_three_cards_stand_on_one_line(
    config_path: Path,  # noqa: F811
    demo_server: DnsServer,  # noqa: F811
) -> None:
    async with settled_app(config_path, (200, 60)) as (app, pilot):
        await select(pilot, app, "broken.example")
        await pilot.pause()
        text = screen_text(app)
        rows = [line for line in text.splitlines() if "─ MX ─" in line]
        assert rows and "─ SPF ─" in rows[0] and "─ DKIM ─" in rows[0]
        assert app.query_one("#sidebar").size.width == 44
        dmarc = app.query_one("#card-dmarc")
        body = dmarc.content().plain  # type: ignore[attr-defined]
        assert "publish TXT _dmarc.broken.example." in body
        assert "v=DMARC1" in body


async def test_at_80_columns_two_columns_and_no_record_on_the_cards(
    config_path: Path,  # noqa: F811
    demo_server: DnsServer,  # noqa: F811
) -> None:
    async with settled_app(config_path, (80, 24)) as (app, pilot):
        await select(pilot, app, "broken.example")
        await pilot.pause()
        rows = [line for line in screen_text(app).splitlines() if "─ MX ─" in line]
        assert rows and "─ SPF ─" in rows[0] and "─ DKIM ─" not in rows[0]
        assert app.query_one("#sidebar").size.width == 26
        assert "publish TXT" not in app.query_one("#card-dmarc").content().plain  # type: ignore[attr-defined]
