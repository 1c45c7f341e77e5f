"""The light theme keeps every status readable (issue 17 item 7): the selected FAIL row's
text stands out from its highlight, and every card's border from the background.

Measured on what the real app renders (Textual pilot): the highlighted row's segments and
the cards' border colours, as WCAG contrast ratios (relative luminance).
"""

from __future__ import annotations

from textual.color import Color

from esm_tui.widgets.domain_list import DomainList
from esm_tui.widgets.record_card import RecordCard
from tests.test_tui_snapshots import settle, snapshot_app


def _luminance(color: Color) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)


def contrast(a: Color, b: Color) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


async def test_the_selected_fail_row_and_every_card_border_read_in_the_light_theme() -> None:
    app, clock = snapshot_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.theme = "textual-light"
        await settle(pilot, app, 3)
        domains = app.query_one("#domains", DomainList)
        domains.select("broken.example")
        domains.focus()
        clock.now += 12
        await pilot.pause()
        row = domains.visible.index("broken.example")
        strip = domains.render_line(row)
        texts = [s for s in strip if s.text.strip() and s.style and s.style.color]
        assert any("FAIL" in s.text for s in texts)
        for segment in texts:
            fg = Color.from_rich_color(segment.style.color)
            bg = Color.from_rich_color(segment.style.bgcolor)
            assert contrast(fg, bg) >= 3.0, (segment.text, fg.hex, bg.hex)
        background = app.screen.styles.background
        for card in app.query(RecordCard):
            border = card.styles.border_top[1]
            assert contrast(border, background) >= 1.8, (card.check, border.hex)
