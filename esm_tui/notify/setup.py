"""Notifications as a command starts them: the URLs of `[notify]` and `--notify`, checked,
the Notifier and its UnknownGate; `feed` hands each check's reports to both."""

from __future__ import annotations

from collections.abc import Sequence

from esm_tui.config.notify_section import NotifySettings, notify_url
from esm_tui.model import DomainReport
from esm_tui.notify.gate import UnknownGate
from esm_tui.notify.sender import Notifier, NotifyError


class Notifications:
    """The gate and the notifier of one run; `feed` after each check, `close` at the end."""

    def __init__(self, notifier: Notifier, unknown_after: int) -> None:
        self.notifier = notifier
        self.gate = UnknownGate(unknown_after)

    def feed(self, reports: Sequence[DomainReport]) -> None:
        self.notifier.submit(self.gate.observe(reports))

    def close(self) -> None:
        self.notifier.close()


def start_notifications(
    settings: NotifySettings, extra_urls: Sequence[str], **notifier_options: object
) -> Notifications | None:
    """None without URLs; NotifyError (no URL text in it) for a bad URL or no Apprise."""
    urls = list(settings.urls)
    for index, url in enumerate(extra_urls, 1):
        try:
            urls.append(notify_url(url))
        except ValueError as exc:
            raise NotifyError(f"--notify URL {index} {exc}") from None
    if not urls:
        return None
    return Notifications(Notifier(urls, **notifier_options), settings.unknown_after)  # type: ignore[arg-type]
