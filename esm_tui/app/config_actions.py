"""The dashboard's config actions: add and remove a domain (saved to the config file,
atomically with a `.bak`), and reload the file when it changes on disk.

A mixin of `EsmApp` (kept apart so the app module stays readable): it uses the app's
`config`, `monitor`, `_extra`, `_config_stamp`, `notify`, `push_screen` and
`_sync_domains()`, and calls `_settings_changed(old, new)` when the settings moved.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from esm_tui.config import (
    Config,
    ConfigChangedError,
    ConfigError,
    add_domain,
    load_config,
    normalize_domain,
    remove_domain,
)
from esm_tui.widgets.dialogs import AddDomainScreen, ConfirmScreen


class ConfigActions:
    """`a`, `d` and config reloads, mixed into EsmApp (which provides the rest)."""

    config: Config
    _extra: list[str]
    _config_stamp: tuple[int, int] | None

    # -- adding and removing (saved to the config file) ------------------------------------------

    def action_add_domain(self) -> None:
        where = str(self.config.path) if self.config.path else ""
        self.push_screen(
            AddDomainScreen(normalize_domain, self.monitor.domains, where), self._add_domain
        )

    def _add_domain(self, name: str | None) -> None:
        if not name:
            return
        if self._edit_config(add_domain, name, "add"):
            self.notify(f"Added {name} (saved to {self.config.path}).", markup=False)
        else:
            self._extra.append(name)
            why = "no config file" if self.config.path is None else "the file was not changed"
            self.notify(f"Added {name} for this session only ({why}).", markup=False)
        self._sync_domains()
        domains = self.domain_list
        domains.select(name)
        domains.focus()

    def action_remove_domain(self) -> None:
        name = self.selected
        if name is None:
            return
        configured = self.config.domain(name) is not None and self.config.path is not None
        where = f"from {self.config.path}" if configured else "from this session"
        question = f"Remove {name} {where}?\nIts checks stop now."
        self.push_screen(
            ConfirmScreen("Remove domain", question), partial(self._remove_domain, name)
        )

    def _remove_domain(self, name: str, confirmed: bool | None) -> None:
        if not confirmed:
            return
        if name in self._extra:
            self._extra.remove(name)
        if self.config.domain(name) is not None and not self._edit_config(
            remove_domain, name, "remove"
        ):
            return
        self._sync_domains()
        self.notify(f"Removed {name}.", markup=False)

    def _edit_config(self, edit: Callable[[Config, str], Config], name: str, verb: str) -> bool:
        """Apply `edit` to the config file; on a concurrent change reload and try once more."""
        if self.config.path is None:
            return False
        for attempt in (1, 2):
            try:
                self._apply_config(edit(self.config, name))
                self._config_stamp = stamp(self.config.path)
                return True
            except ConfigChangedError:
                if attempt == 2 or not self._reload_config():
                    break
                self.notify(
                    f"{self.config.path} had changed on disk: reloaded it before the {verb}.",
                    markup=False,
                )
            except ConfigError as exc:
                self.notify(
                    f"Could not {verb} {name}: {exc}", severity="error", markup=False, timeout=15
                )
                return False
        self.notify(f"Could not {verb} {name}: the config keeps changing.", severity="error")
        return False

    # -- config reloads --------------------------------------------------------------------------

    def _poll_config(self) -> None:
        now = stamp(self.config.path)
        if now != self._config_stamp:
            self._config_stamp = now
            if self._reload_config():
                self._sync_domains()

    def _reload_config(self) -> bool:
        """Read the config file again; on an error keep the current one and say why."""
        path = self.config.path
        if path is None:
            return False
        try:
            new = load_config(path)
        except ConfigError as exc:
            self.notify(
                f"Config not reloaded: {exc}",
                title="Config error",
                severity="error",
                markup=False,
                timeout=15,
            )
            return False
        if new.fingerprint != self.config.fingerprint:
            self._apply_config(new)
            self.notify(f"Reloaded {path}.", markup=False, timeout=4)
        return True

    def _apply_config(self, new: Config) -> None:
        old, self.config = self.config, new
        if old.settings != new.settings:
            self._settings_changed(old.settings, new.settings)
        self._sync_domains()


def stamp(path: Path | None) -> tuple[int, int] | None:
    if path is None:
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size
