"""`python -m esm_tui.demo [--port N] [--host IP]`: serve the demo zones until Ctrl-C."""

from __future__ import annotations

import argparse
import threading

from esm_tui.demo.scenario import DEMO_DOMAINS, demo_records
from esm_tui.demo.server import DnsServer


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m esm_tui.demo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args()
    server = DnsServer(demo_records(), args.host, args.port, delay=args.delay).start()
    print(f"serving {', '.join(DEMO_DOMAINS)} on {server.address} (Ctrl-C stops)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
