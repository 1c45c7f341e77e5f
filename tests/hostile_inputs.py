"""Pathological inputs for the parsers of untrusted text (issue 19), shared by the bounded-
work tests and `benchmarks/hostile_records.py`.

Each shape is a long run of one character that a grammar repeats — `:` `.` `%` `{` `-`
`=` `;` `,` and spaces — or of a letter/digit pair, followed by a character the grammar
rejects, so that a backtracking matcher would try every split of the run before failing.
"""

from __future__ import annotations

from collections.abc import Iterator

#: A TXT record over TCP holds about 64 KB; the longest input worth trying.
SIZE = 64 * 1024

#: The characters whose long runs the grammars repeat, with `a`/`0` pairs for label runs.
RUNS = (
    ":", ".", "%", "{", "-", "=", ";", ",", " ", "/", "a", "0",
    "a.", "a-", "%{", "a:", ":1", "a ", "a=;", "a=1; ", "a,", "@", "%{d}",
)  # fmt: skip

#: What ends each run: a character no grammar accepts there.
BAD_ENDS = ("!", "\x7f", "x -all")


def runs(size: int = SIZE) -> Iterator[tuple[str, str]]:
    """(label, text): every run shape, `size` characters long, with each bad end."""
    for run in RUNS:
        body = run * (size // len(run))
        for end in BAD_ENDS:
            yield f"{run!r}*{len(body)}+{end!r}", body[: size - len(end)] + end


def spf_with_run(prefix: str, run: str, size: int = SIZE) -> str:
    """`v=spf1 PREFIX` + a run + `x -all`: a hostile SPF record of about `size` characters."""
    head = f"v=spf1 {prefix}"
    body = run * ((size - len(head) - 6) // len(run))
    return f"{head}{body}x -all"
