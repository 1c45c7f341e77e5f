"""A local HTTP server that records what Apprise's `json://` posts to it (tests only)."""

from __future__ import annotations

import http.server
import json
import queue
import threading
from typing import Any


class Receiver:
    """Started on a free loopback port; `requests` holds (path, JSON body) per POST."""

    def __init__(self, status: int = 200) -> None:
        self.requests: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        received = self.requests
        reply = status

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                received.put((self.path, json.loads(self.rfile.read(length))))
                self.send_response(reply)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def next(self, timeout: float = 15.0) -> dict[str, Any]:
        path, body = self.requests.get(timeout=timeout)
        assert path == "/hook"
        return body

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
