"""Make the README's screenshot: the app's own SVG export of `esm-tui --demo`.

    .venv/bin/python scripts/make_screenshot.py [OUT.svg] [WIDTH] [HEIGHT] [DOMAIN]

Defaults: docs/screenshot.svg, 80×24, broken.example selected. It runs the real demo (its
DNS server on loopback, the real checks and propagation), waits until every domain is
checked and its propagation is in, selects DOMAIN, clears the notifications and saves.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from esm_tui.app import EsmApp
from esm_tui.config import load_config
from esm_tui.demo.scenario import Demo

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "screenshot.svg"


def settled(app: EsmApp) -> bool:
    monitor = app.monitor
    return not monitor.running_checks() and all(
        monitor.report(d) is not None and not monitor.view(d, "mx").propagation_pending
        for d in monitor.domains
    )


async def make(out: Path, width: int, height: int, domain: str) -> None:
    with Demo() as demo:
        config = load_config(demo.config_path)  # the demo config carries the server port
        app = EsmApp(config, label="demo", watch_config=False)
        async with app.run_test(size=(width, height)) as pilot:
            deadline = time.monotonic() + 60
            while not settled(app):  # a deadline, not a number of turns (a loaded machine)
                if time.monotonic() > deadline:
                    raise SystemExit("the demo's checks did not finish in 60 s")
                await pilot.pause(0.05)
            app.domain_list.select(domain)
            await pilot.pause(0.3)
            app.clear_notifications()
            await pilot.pause(0.1)
            out.parent.mkdir(parents=True, exist_ok=True)
            app.save_screenshot(filename=out.name, path=str(out.parent))
    print(f"wrote {out}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        description="Make the README's screenshot: the app's own SVG export of the demo."
    )
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT, help="the SVG file")
    parser.add_argument("width", nargs="?", type=int, default=80)
    parser.add_argument("height", nargs="?", type=int, default=24)
    parser.add_argument("domain", nargs="?", default="broken.example", help="domain selected")
    args = parser.parse_args(argv)
    asyncio.run(make(args.out, args.width, args.height, args.domain))


if __name__ == "__main__":
    main(sys.argv[1:])
