"""`esm-tui spf-eval DOMAIN --ip IP`: RFC 7208 check_host() for one address, as a receiver.

Prints the result, the exp= explanation (for fail) and the chain of terms that decided it;
exit 0 on pass, 1 on any other result, 64 on bad arguments or a bad config. Everything that
came from DNS is printed through display_safe(): records may hold terminal escapes.

A malformed DOMAIN or HELO name (an empty label, a label over 63 characters, a single
label, a domain literal such as `[192.0.2.1]`) is not a usage error: RFC 7208 §4.3 makes
check_host() return `none` for it, and a receiver given that name would do the same, so
the command prints that result and its reason (exit 1). `--sender` is read as a MAIL FROM
is (§2.4, §4.3): empty means the null reverse-path (postmaster@HELO), a missing
local-part becomes "postmaster".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from esm_tui.dns import Dns, NameserverError, Server, format_server, parse_nameserver
from esm_tui.spf.evaluate import SpfResult, check_host, client_address, spf_identity
from esm_tui.text import display_safe

EX_USAGE = 64


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse, but bad arguments exit 64 (EX_USAGE) like the rest of esm-tui, not 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EX_USAGE, f"{self.prog}: error: {message}\n")


def _parser() -> _Parser:
    parser = _Parser(
        prog="esm-tui spf-eval",
        description="Evaluate DOMAIN's SPF record for one client address (RFC 7208 "
        "check_host), as a receiving mail server would.",
    )
    parser.add_argument("domain", metavar="DOMAIN", help="the domain whose SPF record to evaluate")
    parser.add_argument("--ip", required=True, metavar="IP", help="the connecting client address")
    parser.add_argument(
        "--sender", metavar="ADDR", help="MAIL FROM address (default: postmaster@DOMAIN)"
    )
    parser.add_argument("--helo", metavar="NAME", help="HELO/EHLO name (default: DOMAIN)")
    parser.add_argument(
        "--nameserver",
        action="append",
        default=[],
        metavar="NS",
        help="resolver to ask: IP, IP:PORT or [IPv6]:PORT (repeatable; replaces the config's)",
    )
    parser.add_argument("--config", metavar="PATH", help="config file (for its nameservers)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--timeout", type=float, metavar="S", help="seconds per DNS query attempt (default: 5)"
    )
    return parser


def run_spf_eval(argv: Sequence[str]) -> int:
    """The sub-command; returns the exit code (never raises for bad input)."""
    try:
        args = _parser().parse_args(list(argv))
    except SystemExit as exc:  # --help (0) or a usage error (64)
        return int(exc.code) if isinstance(exc.code, int) else EX_USAGE
    try:
        domain, ip, nameservers, timeout, retries = _settings(args)
    except _UsageError as exc:
        print(f"esm-tui spf-eval: {exc}", file=sys.stderr)
        return EX_USAGE
    helo = args.helo if args.helo is not None else domain
    sender = f"postmaster@{domain}" if args.sender is None else spf_identity(args.sender, helo)[0]
    resolver = Dns(nameservers, timeout=timeout, retries=retries)
    try:
        result = asyncio.run(check_host(ip, domain, sender, helo, resolver))
    except KeyboardInterrupt:
        return 130
    if args.json:
        data: dict[str, Any] = {
            **result.to_json(),
            "sender": sender,
            "helo": helo,
            "nameservers": [format_server(s) for s in resolver.nameservers],
        }
        print(json.dumps(data, indent=2))
    else:
        print(render(result, sender))
    return 0 if result.result == "pass" else 1


def _settings(args: argparse.Namespace) -> tuple[str, str, list[Server], float, int]:
    from esm_tui.config import ConfigError, DomainNameError, normalize_domain

    try:
        domain = normalize_domain(args.domain)
    except DomainNameError:
        # §4.3: check_host() itself answers `none` (with the reason) for a malformed name.
        domain = args.domain.strip()
    try:
        ip = str(client_address(args.ip.strip()))
    except ValueError:
        raise _UsageError(f"--ip {args.ip!r} is not an IPv4 or IPv6 address") from None
    try:
        nameservers = [parse_nameserver(ns) for ns in args.nameserver]
    except NameserverError as exc:
        raise _UsageError(f"--nameserver {exc}") from None
    if args.timeout is not None and not 0 < args.timeout <= 120:
        raise _UsageError("--timeout must be more than 0 and at most 120 seconds")
    try:
        settings = _config_settings(args.config)
    except ConfigError as exc:
        raise _UsageError(str(exc)) from None
    timeout = args.timeout if args.timeout is not None else settings.timeout
    # --nameserver replaces the configured resolvers; neither means the system resolver.
    return domain, ip, nameservers or list(settings.nameservers), timeout, settings.retries


def _config_settings(path_arg: str | None) -> Any:
    from esm_tui.config import load_config, resolve_config_path

    path = resolve_config_path(path_arg)
    # An explicit --config must exist; the default location may be absent.
    return load_config(path, missing_ok=path_arg is None).settings


def render(result: SpfResult, sender: str) -> str:
    """The human-readable report; every DNS-derived string goes through display_safe()."""
    safe = display_safe
    if result.chain:
        chain = " → ".join(safe(t) for t in result.chain)
        decided = f"{chain} matched" if result.result not in ("permerror", "temperror") else chain
    elif result.result == "neutral":
        decided = "no term matched: neutral is the default result (§4.7)"
    else:
        decided = "no term (see reason)"
    lines = [
        f"{safe(result.domain)}: {result.result} for {result.ip} (sender {safe(sender)})",
        f"result:      {result.result}",
        f"chain:       {decided}",
        f"reason:      {safe(result.reason)}",
    ]
    if result.explanation is not None:
        lines.append(f"explanation: {safe(result.explanation)}")
    lines.append(
        f"lookups:     {result.dns_lookups} of 10 DNS-querying terms, "
        f"{result.void_lookups} of 2 void lookups"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(run_spf_eval(sys.argv[1:]))
