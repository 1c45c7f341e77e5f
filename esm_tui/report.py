"""What `esm-tui check` prints: a table for people (80 columns) or JSON per SPEC §3."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from esm_tui import __version__
from esm_tui.model import CHECK_LABELS, CHECK_NAMES, DomainReport, Status, json_default, worst
from esm_tui.text import display_safe

SCHEMA = 1
_LABELS = CHECK_LABELS


def overall(reports: Sequence[DomainReport]) -> Status:
    return worst(r.status for r in reports)


def to_json(
    reports: Sequence[DomainReport],
    nameservers: Sequence[str],
    checked_at: datetime,
    *,
    copy: bool = True,
) -> dict[str, Any]:
    """The document of SPEC §3 (strings from DNS stay raw: JSON escapes control characters).

    `copy=False`: the reports' details are not copied into plain types (see dumps).
    """
    return {
        **_head(overall(reports), nameservers, checked_at),
        "domains": [r.to_json(copy=copy) for r in reports],
    }


def _head(status: Status, nameservers: Sequence[str], checked_at: datetime) -> dict[str, Any]:
    """The document's keys before "domains" (its last)."""
    return {
        "schema": SCHEMA,
        "tool": f"esm-tui {__version__}",
        "checked_at": checked_at.isoformat(timespec="seconds"),
        "nameservers": list(nameservers),
        "status": str(status),
    }


def dumps(
    reports: Sequence[DomainReport],
    nameservers: Sequence[str],
    checked_at: datetime,
    indent: int | None = None,
) -> str:
    """`json.dumps(to_json(...))`, without first copying every report's details into
    lists and dicts: the encoder writes tuples, StrEnums and mappings as the copy would
    hold them (a third of the output's CPU time at 1,000 domains, profiled)."""
    return _encode(lambda copy: to_json(reports, nameservers, checked_at, copy=copy), indent)


def fragment(report: DomainReport) -> str:
    """One domain's entry of the compact document, as `dumps` writes it (see there)."""
    return _encode(lambda copy: report.to_json(copy=copy), None)


def _encode(document: Callable[[bool], Any], indent: int | None) -> str:
    """`document(copy=False)` encoded; should a detail be something neither the encoder
    nor json_default knows, the copied `document(copy=True)` decides, as before."""
    try:
        return json.dumps(document(False), indent=indent, default=json_default)
    except (TypeError, ValueError):
        return json.dumps(document(True), indent=indent)


def dumps_fragments(
    fragments: Sequence[str],
    status: Status,
    nameservers: Sequence[str],
    checked_at: datetime,
) -> str:
    """The compact document of `dumps(indent=None)` from each domain's `fragment` and
    the overall status: the same text, byte for byte (tests hold it to that), from parts
    that check processes encoded each for their own domains."""
    head = json.dumps(_head(status, nameservers, checked_at))
    # "domains" is the document's last key: json.dumps' own separators around it.
    return head[:-1] + ', "domains": [' + ", ".join(fragments) + "]}"


def render_table(reports: Sequence[DomainReport], width: int = 80) -> str:
    """One line per domain with the five statuses, then what is wrong and how to fix it."""
    # A column is its label and a space wide ("DKIM   ", "MTA-STS "), at least 6.
    cols = {c: max(6, len(_LABELS[c]) + 1) for c in CHECK_NAMES}
    name_width = max([len("DOMAIN"), *(len(r.domain) for r in reports)])
    name_width = max(len("DOMAIN"), min(name_width, width - sum(cols.values()) - 7))
    header = (
        f"{'DOMAIN':<{name_width}} "
        + "".join(f"{_LABELS[c]:<{cols[c]}}" for c in CHECK_NAMES)
        + "STATUS"
    )
    lines = [header, "-" * min(width, len(header))]
    for report in reports:
        cells = "".join(
            f"{report.checks[c].status.word:<{cols[c]}}" if c in report.checks else " " * cols[c]
            for c in CHECK_NAMES
        )
        domain = _clip(display_safe(report.domain), name_width)
        lines.append(f"{domain:<{name_width}} {cells}{report.status.word}")
    lines.extend(_hosts(reports, name_width, width))
    for report in reports:
        lines.extend(_problems(report, width))
    return "\n".join(lines) + "\n"


def _hosts(reports: Sequence[DomainReport], name_width: int, width: int) -> list[str]:
    """A line per domain naming its zone's DNS host (esm_tui.hosts), NS names escaped."""
    from esm_tui.hosts.words import host_line

    out = ["", f"{'DOMAIN':<{name_width}} DNS HOST"]
    for report in reports:
        domain = _clip(display_safe(report.domain), name_width)
        text = display_safe(host_line(report.dns_host))
        out.extend(_wrap(text, width, f"{domain:<{name_width}} ", " " * (name_width + 1)))
    return out


def _problems(report: DomainReport, width: int) -> list[str]:
    out: list[str] = []
    for name in CHECK_NAMES:
        result = report.checks.get(name)
        if result is None or result.status in (Status.OK, Status.NONE):
            continue
        if not out:
            out.append("")
            out.append(display_safe(report.domain))
        summary = display_safe(result.summary)
        out.append(f"  {_LABELS[name]} {result.status.word}: {summary}")
        for finding in result.findings:
            # Codes and references are ours today; escaped anyway, so that no future
            # finding built from DNS data can reach the terminal raw through them.
            ref = f" ({display_safe(finding.ref)})" if finding.ref else ""
            message, code = display_safe(finding.message), display_safe(finding.code)
            text = f"{finding.severity}: {message}{ref} [{code}]"
            out.extend(_wrap(text, width, "    - ", "      "))
        if result.fix is not None:
            for step in result.fix.steps:
                out.extend(_wrap(f"fix: {display_safe(step)}", width, "    > ", "      "))
            if result.fix.record is not None:
                rec = result.fix.record
                # The record on one line, never wrapped: admins copy it as it is.
                out.append(
                    f"    publish: {display_safe(rec.name)} {display_safe(rec.type)} "
                    f"{display_safe(rec.value)}"
                )
    return out


def _wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=True,
        break_on_hyphens=False,
    ) or [first.rstrip()]


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
