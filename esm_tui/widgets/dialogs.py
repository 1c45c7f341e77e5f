"""Modal dialogs: add a domain, confirm a removal, the keys (help).

Each dialog returns its answer through `dismiss()`; the app decides what to do with it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from esm_tui.text import display_safe
from esm_tui.widgets.keys_footer import KeysFooter


class AddDomainScreen(ModalScreen[str | None]):
    """Ask for a domain name; dismisses with the normalized name, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel")
    ]

    def __init__(
        self,
        validate: Callable[[str], str],
        existing: Collection[str] = (),
        where: str = "",
    ) -> None:
        super().__init__()
        self._validate = validate
        self._existing = set(existing)
        self._where = where

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog") as box:
            box.border_title = "Add a domain"
            yield Label("Domain name (IDN allowed):")
            yield Input(placeholder="example.com", id="domain-input")
            yield Label("", id="domain-error", classes="error")
            if self._where:
                yield Label(Content(display_safe(f"Saved to {self._where}")), classes="muted")
            with Horizontal(classes="buttons"):
                yield Button("Add", variant="primary", id="add")
                yield Button("Cancel", id="cancel")
        # The dialog's own keys at the bottom (the dashboard's footer showed its own keys,
        # which do nothing here).
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def _error(self, message: str) -> None:
        self.query_one("#domain-error", Label).update(Content(display_safe(message)))

    def _submit(self) -> None:
        text = self.query_one(Input).value
        try:
            name = self._validate(text)
        except ValueError as exc:
            self._error(str(exc))
            return
        if name in self._existing:
            self._error(f"{name} is already in the list")
            return
        self.dismiss(name)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._error("")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "add":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; `y`/`enter` confirm, `n`/`escape` cancel."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="dialog.yes"),
        Binding("n,escape", "answer(False)", "No", id="dialog.no"),
    ]

    def __init__(self, title: str, question: str, yes: str = "Remove") -> None:
        super().__init__()
        self._title = title
        self._question = question
        self._yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog") as box:
            box.border_title = self._title
            # Each line made safe on its own: the question's own line breaks are text, not
            # data (display_safe would show them as a literal `\x0a`).
            lines = (display_safe(line) for line in self._question.split("\n"))
            yield Static(Content("\n".join(lines)), id="question")
            with Horizontal(classes="buttons"):
                yield Button(f"{self._yes} (y)", variant="error", id="yes")
                yield Button("Cancel (n)", id="no")
        yield KeysFooter()

    def on_mount(self) -> None:
        # `enter` answers yes, as the key line says (`y`/`enter` confirm): the question is
        # asked only after the admin pressed the key of the action.
        self.query_one("#yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class HelpScreen(ModalScreen[None]):
    """The keys, with what they do; any of escape, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close", id="dialog.close")
    ]

    def __init__(self, keys: Sequence[tuple[str, str]], notes: Sequence[str] = ()) -> None:
        super().__init__()
        self._keys = keys
        self._notes = notes

    def compose(self) -> ComposeResult:
        width = max((len(k) for k, _ in self._keys), default=1)
        lines = [
            # The gap is part of the key's span: text after it starts a span of its own
            # (SVG renderers drop a span's leading spaces; see status.badge).
            Content.assemble((key.ljust(width + 2), "bold $text-accent"), text)
            for key, text in self._keys
        ]
        lines += [Content("")] + [Content.styled(n, "$text-muted") for n in self._notes]
        with VerticalScroll(id="dialog", classes="dialog help") as box:
            box.border_title = "Keys"
            box.border_subtitle = "escape closes"
            yield Static(Content("\n").join(lines), id="help-keys")
        yield KeysFooter()

    def action_close(self) -> None:
        self.dismiss(None)
