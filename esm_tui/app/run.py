"""The `esm-tui` command without a sub-command: load the config (or start the demo), run the
dashboard until the user quits, and return its exit code."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from esm_tui.app.dashboard import EsmApp
from esm_tui.config import ConfigError, load_config, normalize_domain, resolve_config_path
from esm_tui.dns import Server
from esm_tui.text import display_safe


def run_dashboard(
    config_path: Path | None,
    nameservers: list[Server] | None,
    domains: list[str],
    demo: bool,
    notify_urls: Sequence[str] = (),
) -> int:
    """The `esm-tui` command: run the dashboard until the user quits; the exit code."""
    running = None
    label = ""
    if demo:
        from esm_tui.check_options import demo_delay
        from esm_tui.demo.scenario import Demo

        running = Demo(delay=demo_delay()).start()
        config_path, nameservers, label = running.config_path, None, "demo"
    try:
        path = config_path if config_path is not None else resolve_config_path(None)
        try:
            config = load_config(path)
            names = [normalize_domain(d) for d in domains]
        except (ConfigError, ValueError) as exc:
            print(f"esm-tui: {display_safe(str(exc))}", file=sys.stderr)
            return 64
        app = EsmApp(
            config,
            nameservers=nameservers,
            extra_domains=names,
            label=label,
            notify_urls=notify_urls,
        )
        app.run()
        return app.return_code or 0
    finally:
        if running is not None:
            running.stop()
