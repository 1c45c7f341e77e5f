"""One card of the grid: a record's status (glyph, colour, word), summary and timing.

The card is given a `CardView` (from the Monitor) and draws it; it never asks for
anything. A click or `enter` posts `RecordCard.Opened`; the app opens the detail.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.events import Click
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from esm_tui.model import PropagationState, Severity, Status
from esm_tui.monitor import LABELS, CardView, duration, timing
from esm_tui.propagation.text import card_line
from esm_tui.text import display_safe
from esm_tui.widgets.status import ALL_CLASSES, GLYPH, STYLE, badge, css_class

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
#: The classes the card sets from its view (status, stale, checking).
_MANAGED = frozenset({*ALL_CLASSES.split(), "-stale", "-checking"})

#: How the propagation line looks: quiet when all is in place, louder while it moves.
PROPAGATION_STYLE: dict[PropagationState, str] = {
    PropagationState.PUBLISHED: "$text-muted",
    PropagationState.PROPAGATING: "$text-accent",
    PropagationState.NOT_PUBLISHED: "$text-muted",
    PropagationState.INCONSISTENT: "$text-warning",
}


def lines_of(text: str, width: int, limit: int, style: str = "") -> list[Content]:
    """Untrusted `text` wrapped to at most `limit` lines of `width`, the last one cut with …"""
    if limit <= 0 or width <= 0:
        return []
    content = Content.styled(display_safe(text), style) if style else Content(display_safe(text))
    wrapped = [line.rstrip() for line in content.wrap(width)]
    if len(wrapped) > limit:
        wrapped = wrapped[:limit]
        last = wrapped[-1]
        wrapped[-1] = last.truncate(min(last.cell_length, width - 1)) + Content("…")
    return [line.truncate(width, ellipsis=True) for line in wrapped]


class RecordCard(Widget, can_focus=True):
    """A record type of the selected domain: MX, SPF, DKIM, DMARC or BIMI."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # Not in the footer (it pushed `q Quit` off 80 columns): the summary card says it.
        Binding("enter", "open", "Detail", id="card.open", show=False, tooltip="Open the detail"),
    ]

    # No repaint of the card itself: its parts redraw what changed (see `_replan`); a
    # repaint of the whole card (border included) on every view or spinner frame was
    # most of the dashboard's CPU during a refresh.
    view: reactive[CardView | None] = reactive(None, layout=False, repaint=False)
    """What to show; None before a domain is selected."""

    frame: reactive[int] = reactive(0, repaint=False)
    """The spinner's frame while a check is in flight."""

    class Opened(Message):
        """The user asked for this card's detail (enter or a click)."""

        def __init__(self, card: RecordCard) -> None:
            super().__init__()
            self.card = card

        @property
        def check(self) -> str:
            return self.card.check

    def __init__(self, check: str, *, id: str | None = None) -> None:
        super().__init__(id=id or f"card-{check}")
        self.check = check
        self.border_title = LABELS.get(check, check.upper())

    def on_mount(self) -> None:
        self._spinner = self.set_interval(1 / 8, self._spin, pause=True)

    def _spin(self) -> None:
        self.frame = (self.frame + 1) % len(SPINNER)

    def compose(self) -> ComposeResult:
        yield CardHead()
        yield CardMain()
        yield CardFoot()

    def watch_view(self, view: CardView | None) -> None:
        status = css_class(view.status if view else None)
        stale = "-stale" if view and view.stale_reason else None
        checking = bool(view and view.checking)
        wanted = {status, stale, "-checking" if checking else None} - {None}
        have = set(self.classes)
        # Only a real change, and in one step: each change of classes restyles the card
        # (profiled: half of the dashboard's idle CPU went to removing and adding back
        # the same classes).
        if have & _MANAGED != wanted:
            self.set_classes((have - _MANAGED) | wanted)
        if checking:
            self._spinner.resume()
        else:
            self._spinner.pause()
        self._replan()

    def watch_frame(self) -> None:
        self._replan()

    def on_resize(self) -> None:
        self._replan()

    def action_open(self) -> None:
        self.post_message(self.Opened(self))

    def on_click(self, event: Click) -> None:
        event.stop()
        self.focus()
        self.post_message(self.Opened(self))

    # -- drawing ----------------------------------------------------------------------------

    def content(self) -> Content:
        """The whole card as text: the status line, the body, then the foot."""
        head, body, foot = self._plan(self.content_size.width, self.content_size.height)
        return Content("\n").join([*head, *body, *foot])

    def _replan(self) -> None:
        """Lay the card out again; redraw only the part whose text changed.

        The foot ("checked 12 s ago · next in 4 min") changes every second, the status
        line with the spinner eight times a second while a check runs, the body only
        with a new result. Three parts, so the 1 s tick and the spinner repaint a line,
        not the card (profiled: repainting five whole cards each second was most of the
        idle CPU).
        """
        if not self.is_mounted or not self.children:
            return
        plan = self._plan(self.content_size.width, self.content_size.height)
        for part, lines in zip(self.query(CardPart), plan, strict=True):
            if part.fixed and part.lines_height != len(lines):
                part.lines_height = len(lines)
                part.styles.height = len(lines)
            part.show(lines)

    def _plan(self, width: int, height: int) -> tuple[list[Content], list[Content], list[Content]]:
        """(the status line; body and padding: `height - 1 - len(foot)` lines; the foot)."""
        view = self.view
        if view is None or width < 4 or height < 1:
            return [], [], []
        head = self._status_line(view)
        checked, upcoming = timing(view)
        one_line = f"{checked} · {upcoming}" if upcoming else checked
        short = short_timing(view)
        if len(one_line) <= width:
            foot = [Content.styled(one_line, "$text-muted")]
        elif short is not None and len(short) <= width:
            foot = [Content.styled(short, "$text-muted")]
        else:
            foot = [
                Content.styled(t, "$text-muted").truncate(width, ellipsis=True)
                for t in (checked, upcoming)
                if t
            ]
        room = max(0, height - 1 - len(foot))
        body = self._body(view, width, room)
        if height < 1 + len(foot) + len(body):
            foot = foot[: max(0, height - 1 - len(body))]
        body += [Content("")] * max(0, height - 1 - len(body) - len(foot))
        return [head.truncate(width, ellipsis=True)], body, foot

    def _status_line(self, view: CardView) -> Content:
        # Each gap ends a span rather than starting the next (see `badge`).
        parts: list[Content] = []
        if view.stale_reason:
            parts.append(Content.styled("· stale", "$text-warning"))
        if view.checking:
            parts.append(Content.styled(f"{SPINNER[self.frame]} checking", "$text-muted"))
        head = badge(view.status, gap=1 if parts else 0)
        spaced = [part + Content(" ") for part in parts[:-1]] + parts[-1:]
        return Content("").join([head, *spaced])

    def _propagation(self, view: CardView, width: int, limit: int) -> list[Content]:
        """`published on 2/2 servers · cached at your resolver until 14:32` (or that the
        authoritative servers are being asked)."""
        shown = view.shown
        if shown is None or limit <= 0:
            return []
        if view.propagation_pending and view.stale_reason is None:
            return lines_of("propagation: asking…", width, 1, "$text-muted")
        propagation = shown.propagation
        if propagation is None and not view.propagation_asked:
            return []  # propagation is off (or not asked yet)
        if (
            shown.status == Status.NONE
            and propagation is not None
            and propagation.state == PropagationState.NOT_PUBLISHED
        ):
            # An optional record nobody expects (no BIMI, no MTA-STS…) is not "not in the
            # zone yet": that would read as a change on its way.
            return []
        style = PROPAGATION_STYLE[propagation.state] if propagation else "$text-muted"
        return lines_of(card_line(propagation), width, limit, style)

    def _body(self, view: CardView, width: int, room: int) -> list[Content]:
        shown = view.shown
        if shown is None:
            message = "checking…" if view.checking else "waiting for the first check"
            return lines_of(message, width, room, "$text-muted")
        stale: list[Content] = []
        if view.stale_reason:
            reason = view.stale_reason.removeprefix("DNS query failed: ")
            stale = lines_of(f"stale: {reason}", width, 1 if room < 4 else 2, "$text-warning")
        # After the summary, the propagation line: two lines where the summary leaves room.
        wanted = len(lines_of(shown.summary, width, 2))
        propagation = self._propagation(view, width, max(1, min(2, room - len(stale) - wanted)))
        spare = room - len(stale) - len(propagation)
        summary = lines_of(shown.summary, width, max(1, min(2, spare)))
        body = [*summary, *stale, *propagation][:room]
        # Where there is room (a tall terminal), the findings that matter: two lines each
        # while that leaves every later finding at least one.
        findings = [f for f in shown.findings if f.severity != Severity.INFO]
        for index, finding in enumerate(findings):
            left = room - len(body)
            if left <= 0:
                break
            limit = max(1, min(2, left - (len(findings) - index - 1)))
            status = Status.FAIL if finding.severity == Severity.FAIL else Status.WARN
            text = lines_of(finding.message, width - 2, limit)
            body.append(Content.assemble((f"{GLYPH[status]} ", STYLE[status]), text[0]))
            # A styled indent: its own span, so the text after it keeps its place in SVG.
            body.extend(Content.styled("  ", STYLE[status]) + line for line in text[1:])
        # Still room (a wide, tall terminal): the record to publish, as `c` copies it.
        fix = shown.fix
        left = room - len(body)
        if (
            left >= 2
            and fix is not None
            and fix.record is not None
            and view.status
            not in (
                Status.OK,
                Status.NONE,
            )
        ):
            record = fix.record
            head = f"publish {record.type} {record.name}"
            body.extend(lines_of(head, width, 1, "bold $text-accent"))
            body.extend(lines_of(record.value, width, min(3, left - 1), "$text-accent"))
        return body


def short_timing(view: CardView) -> str | None:
    """`12 s ago · next 5 min`: the foot in one line on a narrow card (80 columns)."""
    if view.checking or view.checked_ago is None or view.next_in is None:
        return None
    upcoming = "due now" if view.next_in < 1 else duration(view.next_in)
    return f"{duration(view.checked_ago)} ago · next {upcoming}"


class CardPart(Widget):
    """Lines of a card, drawn as planned by the card; redrawn only when they change."""

    DEFAULT_CSS = """
    CardPart { height: 1fr; }
    """
    #: As high as its lines (set by the card), rather than the room left.
    fixed = False

    def __init__(self) -> None:
        super().__init__()
        self._lines: list[Content] = []
        self._key: list[tuple[str, tuple[object, ...]]] = []
        self.lines_height = -1

    def show(self, lines: list[Content]) -> None:
        key = [(line.plain, tuple(line.spans)) for line in lines]
        if key != self._key:
            self._lines, self._key = lines, key
            self.refresh()

    def render(self) -> Content:
        return Content("\n").join(self._lines)


class CardHead(CardPart):
    """`✓ OK`, `· stale`, the spinner while a check runs."""

    DEFAULT_CSS = """
    CardHead { height: 1; }
    """
    fixed = True


class CardMain(CardPart):
    """The summary, stale reason, propagation and findings."""


class CardFoot(CardPart):
    """`checked 12 s ago · next in 4 min`: one or two lines."""

    DEFAULT_CSS = """
    CardFoot { height: 1; }
    """
    fixed = True
