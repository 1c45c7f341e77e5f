"""Every finding code esm-tui can emit, with a line of description: the table of docs/codes.md.

`python -m esm_tui.codes` prints the Markdown table; `python -m esm_tui.codes --write
docs/codes.md` puts it between the page's codes markers. A test holds the page to it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from esm_tui.model import CHECK_NAMES

#: Codes every check shares: emitted by checks/context.py and checks/__init__.py.
COMMON = {
    "dns-failure": "A query the verdict depends on could not be answered (timeout, "
    "SERVFAIL, REFUSED, network error): the record is `unknown`, never red.",
    "internal-error": "esm-tui itself failed while checking this record (a bug: please "
    "report it); the other records are still checked.",
    "took-too-long": "The check ran past its bound (a step over 5 s of CPU, or the whole "
    "check over 10 × the resolver's timeout × tries): the record is `unknown`, the other "
    "records and domains are still checked.",
    "findings-capped": "More findings of one code than are worth reading: the first ones are "
    "listed and this finding says how many more there were.",
}

#: The table sits between these lines of the page; the rest of the page is prose.
BEGIN = "<!-- codes:begin -->\n"
END = "<!-- codes:end -->"


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


def with_table(page: str) -> str:
    """`page` with the current table between its markers; ValueError without them."""
    head, begin, rest = page.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not (begin and end):
        raise ValueError(f"no {BEGIN.strip()} ... {END} lines to put the table between")
    return head + BEGIN + markdown_table() + END + tail


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print(markdown_table(), end="")
        return 0
    if len(args) == 2 and args[0] == "--write":
        path = Path(args[1])
        try:
            path.write_text(with_table(path.read_text(encoding="utf-8")), encoding="utf-8")
        except (OSError, ValueError) as exc:
            print(f"python -m esm_tui.codes: {path}: {exc}", file=sys.stderr)
            return 64
        return 0
    print("usage: python -m esm_tui.codes [--write PAGE.md]", file=sys.stderr)
    return 64


if __name__ == "__main__":
    raise SystemExit(main())
