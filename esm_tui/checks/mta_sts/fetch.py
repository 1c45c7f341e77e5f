"""Fetching an MTA-STS policy as a sending server does (RFC 8461 §3.3).

`https://mta-sts.DOMAIN/.well-known/mta-sts.txt`, with the certificate validated against
the system trust store (`ssl.create_default_context()`; OpenSSL honours `SSL_CERT_FILE`
and `SSL_CERT_DIR`) for the name `mta-sts.DOMAIN`; only a 200 counts, a redirect is not
followed (§3.3: "HTTP 3xx redirects MUST NOT be followed"); the body is capped at 64 KB
and the whole fetch at a deadline.

The host's address comes from esm-tui's own resolver (the configured nameservers, like
every other answer it shows), not from the system's: the connection goes to that
address with the name as SNI and Host. The blocking `http.client` exchange runs in a
thread: the standard library does this in ~60 lines, and no HTTP client among the
dependencies (none is one) would save them.

The outcome sorts failures as the check must report them: `definite` ones are answers
(a 404, a redirect, a certificate senders reject), the others (timeouts, refused or reset
connections, 5xx) say nothing about the policy and make the check `unknown`.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
import ssl
from dataclasses import dataclass

from esm_tui import __version__

PATH = "/.well-known/mta-sts.txt"
MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class Fetched:
    """A 200 response: the body (decoded; bad bytes as \\xNN) and its Content-Type."""

    url: str
    address: str
    body: str
    content_type: str


@dataclass(frozen=True)
class FetchError:
    """No policy. `slug` names the finding; `definite`: the server's answer, not a fault of
    the way to it."""

    url: str
    slug: str
    reason: str
    definite: bool


def policy_url(domain: str) -> str:
    return f"https://mta-sts.{domain}{PATH}"


async def fetch_policy(
    domain: str, addresses: list[str], *, port: int = 443, deadline: float = 10.0
) -> Fetched | FetchError:
    """Fetch the policy from the first of `addresses` that connects."""
    host = f"mta-sts.{domain}"
    url = policy_url(domain) if port == 443 else f"https://{host}:{port}{PATH}"
    try:
        return await asyncio.wait_for(
            asyncio.to_thread(_fetch, url, host, addresses, port, deadline), deadline
        )
    except TimeoutError:
        return FetchError(url, "policy-unreachable", f"no answer within {deadline:g} s", False)


def _fetch(
    url: str, host: str, addresses: list[str], port: int, deadline: float
) -> Fetched | FetchError:
    context = ssl.create_default_context()
    last: FetchError | None = None
    for address in addresses:
        try:
            sock = socket.create_connection((address, port), timeout=deadline)
        except OSError as exc:
            last = FetchError(
                url, "policy-unreachable", f"{address} port {port}: {_why(exc)}", False
            )
            continue
        try:
            return _exchange(url, host, address, sock, context)
        except ssl.SSLCertVerificationError as exc:
            reason = exc.verify_message or str(exc)
            return FetchError(
                url, "policy-certificate", f"the certificate of {host} is not valid: {reason}", True
            )
        except ssl.SSLError as exc:
            return FetchError(url, "policy-tls", f"TLS failed with {address}: {_why(exc)}", False)
        except (OSError, http.client.HTTPException) as exc:
            return FetchError(url, "policy-unreachable", f"{address}: {_why(exc)}", False)
        finally:
            sock.close()
    return last or FetchError(url, "policy-host-missing", f"{host} has no address", True)


def _exchange(
    url: str, host: str, address: str, sock: socket.socket, context: ssl.SSLContext
) -> Fetched | FetchError:
    tls = context.wrap_socket(sock, server_hostname=host)
    connection = http.client.HTTPSConnection(host, context=context)
    connection.sock = tls  # already connected, to the address our resolver gave
    try:
        connection.request(
            "GET",
            PATH,
            headers={
                "Host": host,
                "User-Agent": f"esm-tui/{__version__}",
                "Accept": "text/plain",
                "Connection": "close",
            },
        )
        response = connection.getresponse()
        status = response.status
        if 300 <= status < 400:
            where = response.getheader("Location") or "nowhere"
            return FetchError(
                url, "policy-redirect", f"HTTP {status} redirect to {where[:200]}", True
            )
        if status >= 500:
            return FetchError(url, "policy-unreachable", f"HTTP {status} from {address}", False)
        if status != 200:
            slug = "policy-not-found" if status in (404, 410) else "policy-http-status"
            return FetchError(url, slug, f"HTTP {status} {response.reason[:60]}", True)
        body = response.read(MAX_BYTES + 1)
        if len(body) > MAX_BYTES:
            return FetchError(
                url, "policy-too-large", f"the policy is over {MAX_BYTES // 1024} KB", True
            )
        return Fetched(
            url,
            address,
            body.decode("utf-8", "backslashreplace"),
            response.getheader("Content-Type") or "",
        )
    finally:
        connection.close()


def _why(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text[:200]
