"""The footer of every screen: the keys, and the command-palette hint where it fits.

In 80 columns the dashboard's nine keys take the whole line; the `^p palette` hint would
push `q Quit` off it. ctrl+p works everywhere anyway, and `?` lists it.
"""

from __future__ import annotations

from textual.events import Resize
from textual.widgets import Footer

from esm_tui.widgets.watchers import is_live, prune_watchers

PALETTE_HINT_WIDTH = 100


class KeysFooter(Footer):
    """Textual's footer, with the palette hint only from PALETTE_HINT_WIDTH columns, and
    without its leak.

    Textual's Footer rebuilds its keys whenever the bindings change, and each key binds
    its `compact` to the footer's: that adds a watcher (the key and a setter) to the
    footer that only goes away when `compact` changes, which it never does here. So every
    rebuild kept the old keys alive (measured: ~1.5 keys per rebuild, without end, over
    a soak of the dashboard). After each rebuild, the watchers of removed keys go.
    """

    def on_resize(self, event: Resize) -> None:
        self.show_command_palette = event.size.width >= PALETTE_HINT_WIDTH

    async def recompose(self) -> None:
        await super().recompose()  # the old keys are removed (closed) by now
        prune_watchers(self, is_live)
