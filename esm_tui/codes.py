"""Every finding code esm-tui can emit, with a line of description: the README's table.

`python -m esm_tui.codes` prints the Markdown table; a test holds the README to it.
"""

from __future__ import annotations

import importlib

from esm_tui.model import CHECK_NAMES

#: Codes every check shares: emitted by checks/context.py and checks/__init__.py.
COMMON = {
    "dns-failure": "A query the verdict depends on could not be answered (timeout, "
    "SERVFAIL, REFUSED, network error): the record is `unknown`, never red.",
    "internal-error": "esm-tui itself failed while checking this record (a bug: please "
    "report it); the other records are still checked.",
}


def all_codes() -> dict[str, str]:
    """`<check>.<slug>` → description, in check order, then alphabetically."""
    codes: dict[str, str] = {}
    for check in CHECK_NAMES:
        module = importlib.import_module(f"esm_tui.checks.{check}")
        own: dict[str, str] = dict(getattr(module, "CODES", {}))
        for slug, text in COMMON.items():
            own.setdefault(f"{check}.{slug}", text)
        codes.update(sorted(own.items()))
    return codes


def markdown_table() -> str:
    rows = ["| code | meaning |", "| --- | --- |"]
    for code, text in all_codes().items():
        cell = text.replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `{code}` | {cell} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
