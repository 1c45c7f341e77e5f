"""`esm-tui init` when a person is at the terminal: ask, then write a working config.

SPEC §9 / issue 17 item 2. With stdin a terminal (and no `--yes`), it asks for the domains
(each validated as typed, an IDN shown in both forms), whether their mail relays through
e-securemail (then the preset, config/presets.py), and extra DKIM selectors; then writes
the commented example config with those answers filled in, and says where. Without a
terminal, or with `--yes`, it writes the example as it is (scripts and CI keep working).

The text written is the example's, edited: its comments stay, so the file still explains
every key. It is loaded back before it is written, so an answer can never produce a file
that esm-tui then refuses.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from esm_tui.config import ConfigError, normalize_domain
from esm_tui.config.load import parse_config
from esm_tui.config.names import normalize_selector
from esm_tui.config.starter import example_config_text
from esm_tui.text import display_safe

Ask = Callable[[str], str]


class Answers:
    """What the admin said."""

    def __init__(self) -> None:
        self.domains: list[str] = []
        self.relay = False
        self.selectors: list[str] = []


def ask_answers(ask: Ask, out: TextIO) -> Answers:
    """Ask the three questions through `ask` (input()); invalid answers are asked again."""
    answers = Answers()
    out.write("Domains to watch, one per line (an empty line ends the list):\n")
    while True:
        text = ask("  domain: ").strip()
        if not text:
            if answers.domains:
                break
            out.write("  at least one domain, please (or Ctrl-C to stop)\n")
            continue
        try:
            name = normalize_domain(text)
        except ValueError as exc:
            out.write(f"  {display_safe(str(exc))}\n")
            continue
        if name in answers.domains:
            out.write(f"  {name} is already in the list\n")
            continue
        answers.domains.append(name)
        shown = display_safe(text.strip().rstrip(".").lower())
        out.write(f"  + {name}" + (f" ({shown})" if shown != name else "") + "\n")
    reply = ask("Does their mail relay through e-securemail? [Y/n] ").strip().lower()
    answers.relay = reply in ("", "y", "yes", "o", "oui")
    while True:
        text = ask("Extra DKIM selectors, separated by spaces (empty: none): ").strip()
        try:
            answers.selectors = [normalize_selector(s) for s in text.split()]
        except ValueError as exc:
            out.write(f"  {display_safe(str(exc))}\n")
            continue
        break
    return answers


def config_text(answers: Answers) -> str:
    """The example config with the answers in it (its comments kept)."""
    text = example_config_text()
    if answers.relay:
        # The preset's values apply only where the keys are absent: [] would replace them.
        text = text.replace('# preset = "e-securemail"\n', 'preset = "e-securemail"\n', 1)
        text = text.replace("\nmx = []\n", "\n", 1).replace("\ndkim_selectors = []\n", "\n", 1)
    tables = []
    for name in answers.domains:
        table = f'\n[[domains]]\nname = "{name}"\n'
        if answers.selectors:
            listed = ", ".join(f'"{s}"' for s in answers.selectors)
            table += f"dkim_selectors = [{listed}]\n"
        tables.append(table)
    return text.rstrip("\n") + "\n" + "".join(tables)


def run_interactive(path: Path, ask: Ask = input, out: TextIO = sys.stdout) -> None:
    """Ask, then write `path` (never over an existing file); ConfigError says why not."""
    if path.exists() or path.is_symlink():
        raise ConfigError(path, "already exists; not overwriting it")
    answers = ask_answers(ask, out)
    text = config_text(answers)
    parse_config(text, path)  # a ConfigError here is a bug: nothing is written
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except FileExistsError:
        raise ConfigError(path, "already exists; not overwriting it") from None
    except OSError as exc:
        raise ConfigError(path, f"cannot write it: {exc.strerror or exc}") from None
    relay = " through e-securemail (preset)" if answers.relay else ""
    out.write(
        f"Wrote {path}: {len(answers.domains)} domain(s){relay}. "
        "Start the dashboard with: esm-tui\n"
    )
