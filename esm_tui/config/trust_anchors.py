"""`[settings] trust_anchors`: a file of DS/DNSKEY records that replaces the root's
anchors (SPEC §8), for private roots. Read and checked when the config loads."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from esm_tui.dnssec.anchors import AnchorError, Anchors, load_anchors

if TYPE_CHECKING:
    from esm_tui.config.validate import Validator


def trust_anchors(validator: Validator, table: dict) -> Anchors | None:
    """The anchors named by `trust_anchors` (a path, relative to the config file's
    folder), None when the key is absent; a ConfigError naming the key otherwise."""
    if "trust_anchors" not in table:
        return None
    value = table["trust_anchors"]
    key = ("settings", "trust_anchors")
    if not isinstance(value, str) or not value.strip():
        raise validator.error(key, "must be the path of a file of DS/DNSKEY records")
    path = Path(value).expanduser()
    if not path.is_absolute() and validator.path is not None:
        path = validator.path.parent / path
    try:
        return load_anchors(path)
    except AnchorError as exc:
        raise validator.error(key, str(exc)) from None
