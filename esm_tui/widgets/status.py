"""How a status looks: glyph + word + colour, so it reads on a monochrome terminal too.

Colours are theme variables (resolved by Textual when rendering), never fixed colours;
the glyph and the word carry the meaning on their own (NO_COLOR, a screen reader, a
colour-blind admin).
"""

from __future__ import annotations

from textual.content import Content

from esm_tui.model import Severity, Status

GLYPH: dict[Status, str] = {
    Status.OK: "✓",
    Status.WARN: "▲",
    Status.FAIL: "✗",
    Status.UNKNOWN: "◌",
    Status.NONE: "○",
}

#: Theme variables, so a light theme or a custom one keeps its own reds and greens.
STYLE: dict[Status, str] = {
    Status.OK: "bold $text-success",
    Status.WARN: "bold $text-warning",
    Status.FAIL: "bold $text-error",
    Status.UNKNOWN: "bold $text-accent",
    Status.NONE: "$text-muted",
}

SEVERITY_STATUS: dict[Severity, Status] = {
    Severity.FAIL: Status.FAIL,
    Severity.WARN: Status.WARN,
    Severity.INFO: Status.NONE,
}

PENDING_GLYPH = "…"


def css_class(status: Status | None) -> str:
    """The CSS class a widget carries for a status (`-ok`, `-warn`, …, `-pending`)."""
    return f"-{status.value}" if status is not None else "-pending"


ALL_CLASSES = " ".join(css_class(s) for s in (*Status, None))


def badge(status: Status | None, *, width: int = 0, gap: int = 0) -> Content:
    """`✓ OK`, `✗ FAIL`, `◌ ?`, `○ —`, or `… ` before the first check; padded to `width`,
    then `gap` spaces.

    The padding and the gap are part of the badge's styled span on purpose: text that
    follows should start with a visible character. An SVG export puts each span in its own
    `<text>` element, and renderers such as librsvg drop a span's leading spaces, which
    glued "✗ FAIL" to the domain name in the screenshots.
    """
    if status is None:
        text, style = f"{PENDING_GLYPH} ", "$text-muted"
    else:
        text, style = f"{GLYPH[status]} {status.word}", STYLE[status]
    return Content.styled(text.ljust(width) + " " * gap, style)


def severity_badge(severity: Severity) -> Content:
    """`✗ fail`, `▲ warn`, `· info` for a finding."""
    if severity == Severity.INFO:
        return Content.styled("· info", "$text-muted")
    status = SEVERITY_STATUS[severity]
    return Content.styled(f"{GLYPH[status]} {severity.value}", STYLE[status])
