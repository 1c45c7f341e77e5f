"""A real HTTPS server on loopback for the MTA-STS tests, with a certificate from a private
test CA (trustme): the check validates it exactly as it validates a public one, through
`SSL_CERT_FILE`.

Answers by the request's Host: `routes[host] = Route(status, body, headers)`; an unknown
host gets 404. `requests` records (host, path) of every request served.
"""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import trustme


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/plain"})


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        self.server.requests.append((host, self.path))
        route = self.server.routes.get(host, Route(404, b"not found\n"))
        self.send_response(route.status)
        for name, value in route.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(route.body)))
        self.end_headers()
        self.wfile.write(route.body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: pytest shows what matters


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str]] = []

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that rejects our certificate closes the handshake: expected


@dataclass
class HttpsServer:
    port: int
    ca_file: str
    routes: dict[str, Route]
    requests: list[tuple[str, str]]


@contextmanager
def https_server(names: list[str], ca_file: str, ca: trustme.CA) -> Iterator[HttpsServer]:
    """Serve HTTPS on 127.0.0.1 with a certificate for `names` signed by `ca`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    server = _Server(context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield HttpsServer(server.server_address[1], ca_file, server.routes, server.requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
