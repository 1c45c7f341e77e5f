"""Resolver addresses: `IP`, `IP:PORT` or `[IPv6]:PORT` parsed and formatted back, and the
system's own resolvers (/etc/resolv.conf).
"""

from __future__ import annotations

import ipaddress

Server = tuple[str, int]


class NameserverError(ValueError):
    """A nameserver string that is not `IP`, `IP:PORT` or `[IPv6]:PORT`."""


def parse_nameserver(text: str, default_port: int = 53) -> Server:
    """Parse `IP`, `IP:PORT` or `[IPv6]:PORT` (a bare IPv6 address is allowed too)."""
    text = text.strip()
    host, port = text, default_port
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise NameserverError(f"{text!r}: missing ']' after the IPv6 address")
        host, rest = text[1:end], text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise NameserverError(f"{text!r}: expected ':PORT' after ']'")
            port = _parse_port(text, rest[1:])
    elif text.count(":") == 1:
        host, port_text = text.split(":")
        port = _parse_port(text, port_text)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise NameserverError(
            f"{text!r} is not an IP address (use IP, IP:PORT or [IPv6]:PORT)"
        ) from None
    return (str(address), port)


def _parse_port(text: str, port_text: str) -> int:
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise NameserverError(f"{text!r}: port must be a number from 1 to 65535")
    return int(port_text)


def format_server(server: Server) -> str:
    """`IP:PORT`, with brackets around IPv6 addresses."""
    host, port = server
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def system_nameservers() -> list[Server]:
    """The resolvers of /etc/resolv.conf (or the platform equivalent)."""
    import dns.resolver

    try:
        resolver = dns.resolver.Resolver(configure=True)
    except dns.resolver.NoResolverConfiguration:
        return []
    return [(str(ns), 53) for ns in resolver.nameservers]
