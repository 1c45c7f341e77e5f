"""The footer of every screen: the keys, and the command-palette hint where it fits.

In 80 columns the dashboard's nine keys take the whole line; the `^p palette` hint would
push `q Quit` off it. ctrl+p works everywhere anyway, and `?` lists it.
"""

from __future__ import annotations

from textual.events import Resize
from textual.widgets import Footer

PALETTE_HINT_WIDTH = 100


class KeysFooter(Footer):
    """Textual's footer, with the palette hint only from PALETTE_HINT_WIDTH columns."""

    def on_resize(self, event: Resize) -> None:
        self.show_command_palette = event.size.width >= PALETTE_HINT_WIDTH
