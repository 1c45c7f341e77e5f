"""What `a` (add a domain) writes for the name: a TOML string that reads back as exactly it.

config.edit.toml_string replaced tomli-w, whose one use in the program was this string.
"""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from esm_tui.config.edit import toml_string


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"])))
def test_any_text_reads_back_as_itself(text: str) -> None:
    assert tomllib.loads(f"name = {toml_string(text)}\n")["name"] == text


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("new.example", '"new.example"'),
        ("bücher.example", '"bücher.example"'),  # IDN stays readable, as the user typed it
        ('a"b\\c', '"a\\"b\\\\c"'),
        ("tab\there", '"tab\there"'),  # TOML allows a tab
        ("\x1b[2J\n\x7f", '"\\u001b[2J\\u000a\\u007f"'),
    ],
)
def test_only_what_toml_forbids_is_escaped(text: str, written: str) -> None:
    assert toml_string(text) == written
