"""The README documents what the code does: finding codes, config keys, CLI flags."""

from __future__ import annotations

import re
from pathlib import Path

from esm_tui.codes import all_codes, markdown_table
from esm_tui.config import Relay, Settings

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def test_codes_table_is_current() -> None:
    """Regenerate with: python -m esm_tui.codes, pasted between the codes markers."""
    block = re.search(r"<!-- codes:begin -->\n(.*?)<!-- codes:end -->", README, re.S)
    assert block is not None
    assert block.group(1) == markdown_table()


def test_every_code_is_check_prefixed() -> None:
    for code in all_codes():
        check, _, slug = code.partition(".")
        assert check in {"mx", "spf", "dkim", "dmarc", "bimi"} and slug, code


def test_every_config_key_is_documented() -> None:
    for key in Settings.__dataclass_fields__:
        assert f"`[settings] {key}`" in README, key
    for key in Relay.__dataclass_fields__:
        assert f"`[relay] {key}`" in README, key


def test_every_cli_flag_is_documented() -> None:
    for flag in [
        "--config",
        "--nameserver",
        "--demo",
        "--selector",
        "--json",
        "--propagation",
        "--ip",
        "--sender",
        "--helo",
        "--version",
    ]:
        assert f"{flag}" in README, flag
