"""Dropping the reactive watchers that Textual keeps for widgets that are gone.

`Widget.watch(other, name, callback)` and `data_bind` add `(widget, callback)` to a list
on `other` that Textual prunes only when that reactive changes. For reactives that never
change, the removed widget stays alive with everything it drew: the Header of every
detail screen opened (it watches the app's `title`) and the keys of every footer rebuilt
(they bind the footer's `compact`). Measured in the soak: a steady climb of the
dashboard's memory, one detail screen or footer at a time.
"""

from __future__ import annotations

from collections.abc import Callable

#: Where Textual keeps them (set with setattr, so not name-mangled):
#: {reactive name: [(watching node, callback), ...]}.
_ATTRIBUTE = "__watchers"


def prune_watchers(owner: object, keep: Callable[[object], bool]) -> int:
    """Drop the watchers on `owner` whose node `keep` rejects; how many went."""
    watchers: dict[str, list[tuple[object, object]]] = getattr(owner, _ATTRIBUTE, {})
    dropped = 0
    for entries in watchers.values():
        kept = [(node, callback) for node, callback in entries if keep(node)]
        dropped += len(entries) - len(kept)
        entries[:] = kept
    return dropped


def is_live(node: object) -> bool:
    """Not closed or closing: a removed widget (or a popped screen's) is closed."""
    return not (getattr(node, "_closed", False) or getattr(node, "_closing", False))
