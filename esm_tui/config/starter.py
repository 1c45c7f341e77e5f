"""The starter config: the commented `config.example.toml` shipped in this package, which
`esm-tui init` writes (never over an existing file).
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from esm_tui.config.errors import ConfigError

EXAMPLE_NAME = "config.example.toml"


def example_config_text() -> str:
    """The commented starter config shipped with the package."""
    return importlib.resources.files("esm_tui.config").joinpath(EXAMPLE_NAME).read_text("utf-8")


def write_starter_config(path: Path) -> None:
    """Write the example config to `path` (parents created); never overwrites a file."""
    path = Path(path)
    if path.exists() or path.is_symlink():
        raise ConfigError(path, "already exists; not overwriting it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(path, f"cannot create its directory: {exc.strerror or exc}") from None
    try:
        with path.open("x", encoding="utf-8", newline="") as handle:
            handle.write(example_config_text())
    except FileExistsError:
        raise ConfigError(path, "already exists; not overwriting it") from None
    except OSError as exc:
        raise ConfigError(path, f"cannot write it: {exc.strerror or exc}") from None
