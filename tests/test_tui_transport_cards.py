"""The MTA-STS, TLS-RPT and DNSSEC cards on the real dashboard (issue 16 item 4).

At 80×24 the five seed cards come first and whole; the new cards are reached with the
arrow keys and scroll into view. At 120×40 every card is on screen at once.
"""

from __future__ import annotations

from textual.pilot import Pilot
from waiting import until

from esm_tui.app import EsmApp
from esm_tui.model import CHECK_NAMES
from esm_tui.widgets.record_card import RecordCard
from tests.test_tui_snapshots import settle, snapshot_app


def _on_screen(app: EsmApp, widget: RecordCard) -> bool:
    """The whole card is inside the screen's visible part of the grid."""
    grid = app.query_one("#cards")
    visible = grid.region.intersection(app.screen.region)
    return visible.contains_region(widget.region)


async def _ready(pilot: Pilot, app: EsmApp) -> None:
    await settle(pilot, app, len(app.monitor.domains))
    app.query_one("#domains").select("broken.example")  # type: ignore[attr-defined]
    await until(
        pilot,
        lambda: app.query_one("#card-mta_sts", RecordCard).view is not None,
        "the cards of broken.example",
    )
    await until(
        pilot,
        lambda: app.query_one("#card-mx", RecordCard).region.height > 0,
        "the cards laid out",
    )


async def test_at_80x24_the_seed_cards_are_whole_and_the_new_ones_scroll_into_view() -> None:
    app, _clock = snapshot_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot, app)
        cards = {name: app.query_one(f"#card-{name}", RecordCard) for name in CHECK_NAMES}
        assert [c.check for c in app.query(RecordCard)] == list(CHECK_NAMES)
        for name in CHECK_NAMES[:5]:
            assert _on_screen(app, cards[name]), name
        assert not _on_screen(app, cards["dnssec"])
        cards["mx"].focus()
        for _ in range(3):  # down, down, down: MX → DKIM → BIMI → TLS-RPT
            await pilot.press("down")
        await until(pilot, lambda: app.focused is cards["tls_rpt"], "TLS-RPT focused")
        await until(pilot, lambda: _on_screen(app, cards["tls_rpt"]), "TLS-RPT scrolled in")
        await pilot.press("right")
        await until(pilot, lambda: app.focused is cards["dnssec"], "DNSSEC focused")
        assert _on_screen(app, cards["dnssec"])


async def test_at_120x40_every_card_is_on_screen_and_the_mta_sts_detail_opens() -> None:
    app, _clock = snapshot_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, app)
        for name in CHECK_NAMES:
            assert _on_screen(app, app.query_one(f"#card-{name}", RecordCard)), name
        card = app.query_one("#card-mta_sts", RecordCard)
        card.focus()
        await pilot.press("enter")
        await until(pilot, lambda: app.screen.id != "_default", "the detail screen")
        text = "\n".join(str(s.render()) for s in app.screen.query("Static"))
        assert "matches no mx: pattern" in text
        # The fetched policy, line by line, its control and bidi characters escaped.
        assert "Policy file (https://mta-sts.broken.example/.well-known/mta-sts.txt)" in text
        assert "mx: *.esm-relay.example\nmax_age: 604800" in text
        assert "\x1b" not in text and "\u202e" not in text
        assert "\\x1b[2Jhidden" in text
