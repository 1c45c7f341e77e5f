"""The plan of a domain's fixes, from `p` (SPEC §6 "Dashboard"): each change before →
after with the DNS host's steps, and a Publish button when `[publish]` is configured.
Without it the same screen is the guide. Replacing MX records asks to type the domain.

The screen shows text it is given (made by esm_tui.publish.render, DNS data escaped) and
escapes each line again; it computes nothing and publishes nothing: it answers True
(publish) or False to the app, which does the rest.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from esm_tui.text import display_safe
from esm_tui.widgets.keys_footer import KeysFooter


class PlanScreen(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="dialog.close"),
        Binding("P", "publish", "Publish", id="dialog.publish"),
    ]

    def __init__(
        self,
        title: str,
        text: str,
        *,
        can_publish: bool,
        confirm: str | None = None,
        note: str = "",
    ) -> None:
        super().__init__()
        self._title = title
        self._text = text
        self.can_publish = can_publish
        self._confirm = confirm
        self._note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog plan") as box:
            box.border_title = self._title
            with VerticalScroll(id="plan-text"):
                lines = [Content(display_safe(line)) for line in self._text.splitlines()]
                yield Static(Content("\n").join(lines), id="plan")
            if self._note:
                yield Static(Content.styled(self._note, "$text-muted"), id="plan-note")
            if self.can_publish and self._confirm:
                yield Input(placeholder=f"type {self._confirm} to replace its MX records",
                            id="confirm")  # fmt: skip
            with Horizontal(classes="buttons"):
                if self.can_publish:
                    yield Button("Publish (P)", variant="warning", id="publish",
                                 disabled=bool(self._confirm))  # fmt: skip
                yield Button("Close (escape)", id="close")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#plan-text", VerticalScroll).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action != "publish" or self.can_publish

    def on_input_changed(self, event: Input.Changed) -> None:
        ok = event.value.strip().lower().rstrip(".") == (self._confirm or "")
        self.query_one("#publish", Button).disabled = not ok

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "publish":
            self.action_publish()
        else:
            self.dismiss(False)

    def action_publish(self) -> None:
        if not self.can_publish:
            return
        if any(b.disabled for b in self.query("#publish").results(Button)):
            self.notify(f"Type {self._confirm} first: the plan replaces its MX records.",
                        markup=False)  # fmt: skip
            return
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)
