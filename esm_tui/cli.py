"""The command line: `esm-tui` (dashboard), `check`, `init`, `spf-eval`, `--version`.

Results go to stdout, diagnostics to stderr, exit codes from `ExitCode`. The dashboard
(and with it Textual) is imported only when the dashboard is asked for, so `check` stays
light enough for cron and monitoring plugins.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, NoReturn

from esm_tui import __version__

if TYPE_CHECKING:  # imported where used: `--version` and `--help` stay fast
    from esm_tui.history import Transition
    from esm_tui.model import DomainReport, Status


class ExitCode(IntEnum):
    """The monitoring-plugin convention (Nagios/Icinga), plus EX_USAGE for bad input."""

    OK = 0
    WARN = 1
    FAIL = 2
    UNKNOWN = 3
    USAGE = 64
    SOFTWARE = 70


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit 64, never a traceback."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {message}\n")


SUBCOMMANDS = ("check", "init", "spf-eval", "history", "monitor", "fix")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $ESM_TUI_CONFIG or the user config dir)",
    )
    parser.add_argument(
        "--nameserver",
        metavar="NS",
        action="append",
        default=[],
        help="resolver: IP, IP:PORT or [IPv6]:PORT (repeatable; replaces the configured ones)",
    )


def _dashboard_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="esm-tui",
        description="The e-securemail DNS verification panel: MX, SPF, DKIM, DMARC and BIMI, live.",
        epilog="sub-commands: check, init, spf-eval, history, monitor (esm-tui COMMAND --help)",
    )
    parser.add_argument("--version", action="version", version=f"esm-tui {__version__}")
    parser.add_argument(
        "--demo", action="store_true", help="built-in demo: loopback DNS server, no config needed"
    )
    _common(parser)
    parser.add_argument(
        "--notify",
        action="append",
        default=[],
        metavar="URL",
        help="Apprise URL to notify of status changes (repeatable; needs esm-tui[notify])",
    )
    parser.add_argument("domains", nargs="*", metavar="DOMAIN", help="domains to show this run")
    return parser


def _check_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="esm-tui check",
        description="Check once and exit with the worst status: 0 ok, 1 warn, 2 fail, 3 unknown.",
    )
    _common(parser)
    parser.add_argument(
        "--selector", metavar="SEL", action="append", default=[], help="DKIM selector (repeatable)"
    )
    parser.add_argument("--json", action="store_true", help="JSON output (docs/json.md)")
    from esm_tui import check_options

    check_options.add_arguments(parser)
    parser.add_argument(
        "--propagation",
        action="store_true",
        help="also ask every authoritative server of each zone (state and ETA per record)",
    )
    parser.add_argument(
        "--jobs",
        type=_positive,
        metavar="N",
        help="processes to check with (default: one per core, for 250 domains or more each)",
    )
    parser.add_argument("domains", nargs="*", metavar="DOMAIN", help="check only these domains")
    return parser


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


def _init_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="esm-tui init",
        description="Write a commented starter config file (never over an existing one) "
        "and say where it is; then edit it, or add domains with `a` in the dashboard.",
    )
    parser.add_argument("--config", metavar="PATH", help="where to write it")
    parser.add_argument(
        "--yes",
        action="store_true",
        help="ask nothing: write the commented example as it is (also when stdin is no terminal)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] == "check":
            return _run_check(_check_parser().parse_args(args[1:]))
        if args and args[0] == "init":
            return _run_init(_init_parser().parse_args(args[1:]))
        if args and args[0] == "spf-eval":
            from esm_tui.spf.spf_eval_cli import run_spf_eval

            return run_spf_eval(args[1:])
        if args and args[0] == "monitor":
            from esm_tui.monitor_cli import run_monitor

            return run_monitor(args[1:])
        if args and args[0] == "fix":
            from esm_tui.fix_cli import run_fix

            return run_fix(args[1:])
        if args and args[0] == "history":
            from esm_tui.history_cli import run_history

            return run_history(args[1:])
        return _run_dashboard(_dashboard_parser().parse_args(args))
    except UsageError as exc:
        print(f"esm-tui: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _reader_gone()


#: The exit status of a program killed by SIGPIPE (128 + 13), as `head` leaves `cat`:
#: shells and monitoring read it as "the reader left", never as a check's warn (1).
READER_GONE = 141


def _reader_gone() -> int:
    """stdout's reader closed early (`esm-tui check | head -1`): end quietly, as other
    command-line tools do. stdout is pointed at /dev/null so that the interpreter's last
    flush at exit does not raise the same error again (Python's documented recipe)."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is no real file (tests): nothing to flush
        pass
    return READER_GONE


def _load(path_arg: str | None, *, strict: bool = False):
    """Load the config; with `strict`, a file named explicitly must exist.

    `check` is strict: a typo in `--config` (or $ESM_TUI_CONFIG) must not silently run
    with no relay expectations and show green where the real config would show red. The
    dashboard is not: `esm-tui --config new.toml` starts empty and `a` creates the file.
    """
    import os

    from esm_tui.config import ENV_VAR, ConfigError, load_config, resolve_config_path

    named = path_arg is not None or bool(os.environ.get(ENV_VAR))
    try:
        return load_config(resolve_config_path(path_arg), missing_ok=not (strict and named))
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _nameservers(values: Sequence[str]) -> list[tuple[str, int]]:
    from esm_tui.dns import NameserverError, parse_nameserver

    try:
        return [parse_nameserver(v) for v in values]
    except NameserverError as exc:
        raise UsageError(f"--nameserver {exc}") from None


def _domains(values: Sequence[str]) -> list[str]:
    from esm_tui.config import DomainNameError, normalize_domain

    names: list[str] = []
    for value in values:
        try:
            name = normalize_domain(value)
        except DomainNameError as exc:
            raise UsageError(str(exc)) from None
        if name not in names:
            names.append(name)
    return names


def _run_check(args: argparse.Namespace) -> int:
    from esm_tui.check_options import demo_config, output_format

    try:
        args.output = output_format(args)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(str(exc)) from None
    args.json = args.output == "json"
    with demo_config(args):
        return _check(args)


def _check(args: argparse.Namespace) -> int:
    from esm_tui import check_jobs, report
    from esm_tui.checks import check_domain
    from esm_tui.checks.context import CheckContext
    from esm_tui.dns import Dns, format_server
    from esm_tui.model import worst

    if args.propagation:
        from esm_tui.propagation import attach_propagation

    config = _load(args.config, strict=True)
    nameservers = _nameservers(args.nameserver) or list(config.settings.nameservers)
    names = _domains(args.domains) or [d.name for d in config.domains]
    if not names:
        raise UsageError(
            f"no domains to check: none configured in {config.path} and none given "
            "(esm-tui check DOMAIN..., or esm-tui init to start a config)"
        )
    selectors = [s.strip() for s in args.selector if s.strip()]
    settings = config.settings
    dns = Dns(
        nameservers,
        timeout=settings.timeout,
        retries=settings.retries,
        concurrency=settings.concurrency,
    )

    async def one(name: str) -> DomainReport:
        report_ = await check_domain(
            config.domain_settings(name, selectors),
            CheckContext(dns, trust_anchors=settings.trust_anchors, https_port=settings.https_port),
        )
        if args.propagation:
            report_ = await attach_propagation(
                report_,
                dns,
                port=settings.port,
                compare_resolvers=settings.compare_resolvers,
            )
        return report_

    if args.until_ok:
        from esm_tui.until_ok_cli import NotifyUsageError, run_until_ok_cli

        try:
            return _exit_for(run_until_ok_cli(args, names, one, dns, config))
        except NotifyUsageError as exc:
            raise UsageError(str(exc)) from None
    checked_at = datetime.now(UTC)
    jobs = check_jobs.plan(len(names), args.jobs)
    servers = [format_server(s) for s in dns.nameservers]
    with _few_collections():
        if args.json and not sys.stdout.isatty():
            # Compact JSON for a script or a file: each domain encoded where it was
            # checked (check_jobs), the document put together from the parts.
            entries = check_jobs.check_all(names, one, _entry_maker(settings.history), dns, jobs)
            gc.disable()  # output: what is built now is kept until printed (_few_collections)
            if settings.history:
                _record_transitions([t for e in entries for t in e.transitions])
            status = worst(e.status for e in entries)
            fragments = [e.json for e in entries]
            sys.stdout.write(report.dumps_fragments(fragments, status, servers, checked_at))
            sys.stdout.write("\n")
            return _exit_for(status)
        reports = check_jobs.check_all(names, one, _same, dns, jobs)
        gc.disable()
        if settings.history:
            _record_history(reports)
        if args.output == "nagios":
            from esm_tui import nagios

            sys.stdout.write(nagios.render(reports))
        elif args.json:
            # Indented, for people at a terminal.
            sys.stdout.write(report.dumps(reports, servers, checked_at, 2))
            sys.stdout.write("\n")
        else:
            sys.stdout.write(report.render_table(reports))
    return _exit_for(report.overall(reports))


class _Entry(NamedTuple):
    """What `esm-tui check --json` needs of one domain's report, made in the process that
    checked it (see check_jobs): its JSON text, its status and its history candidates."""

    json: str
    status: Status
    transitions: tuple[Transition, ...]


def _entry_maker(history: bool) -> Callable[[DomainReport], _Entry]:
    from esm_tui import report
    from esm_tui.history import transitions

    def entry(domain_report: DomainReport) -> _Entry:
        return _Entry(
            report.fragment(domain_report),
            domain_report.status,
            tuple(transitions(domain_report)) if history else (),
        )

    return entry


def _same(domain_report: DomainReport) -> DomainReport:
    return domain_report


@contextlib.contextmanager
def _few_collections() -> Iterator[None]:
    """Run a bulk check with the cyclic garbage collector mostly out of the way.

    A check allocates millions of short-lived objects (DNS messages, parse results) and
    keeps every domain's report until the end; with the default thresholds the collector
    ran over that growing heap again and again: about 45 % of the CPU time at 1,000
    domains (profiled). Reference counting frees nearly everything at once; a full
    collection after a 1,000-domain run finds nothing left to free (measured).

    So the collector is kept to what could be garbage: the objects of the imports and
    the config are frozen out of its reach, and so is what each finished domain left
    (its report and the cached answers: check_jobs._check_in_order; freezing is O(1)). A
    young collection runs every 200,000 net allocations, which only the domains in
    flight at once can now reach: none did at 1,000 domains and 256 queries in flight
    (it was 26 collections, ≈ 9 % of the CPU time, with 50,000 and no freezing), while
    hostile data that makes garbage cycles still gets them collected. Building the
    report makes no cycles: the collector is off for it (`output`).
    """
    thresholds = gc.get_threshold()
    enabled = gc.isenabled()
    gc.freeze()
    gc.set_threshold(200_000, 20, 100)
    try:
        yield
    finally:
        # Everything into the oldest generation (freeze, then unfreeze: both O(1)), so
        # that restoring the thresholds does not start a young collection over it all.
        gc.freeze()
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        if enabled:
            gc.enable()


def _record_history(reports: Sequence[DomainReport]) -> None:
    """Keep the transitions for `esm-tui history`; a broken database only warns."""
    from esm_tui.history import transitions

    _record_transitions([t for r in reports for t in transitions(r)])


def _record_transitions(candidates: Sequence[Transition]) -> None:
    """Store the new ones of `candidates` (history.transitions of each report)."""
    from esm_tui.history import History, HistoryError

    history = History.open()
    if isinstance(history, HistoryError):
        print(f"esm-tui: history not recorded: {history}", file=sys.stderr)
        return
    try:
        result = history.record_transitions(candidates)
        if isinstance(result, HistoryError):
            print(f"esm-tui: history not recorded: {result}", file=sys.stderr)
    finally:
        history.close()


def _exit_for(status: object) -> int:
    from esm_tui.model import Status

    return {
        Status.OK: ExitCode.OK,
        Status.NONE: ExitCode.OK,
        Status.WARN: ExitCode.WARN,
        Status.FAIL: ExitCode.FAIL,
        Status.UNKNOWN: ExitCode.UNKNOWN,
    }[status]


def _run_init(args: argparse.Namespace) -> int:
    from esm_tui.config import ConfigError, resolve_config_path, write_starter_config

    path = resolve_config_path(args.config)
    try:
        if sys.stdin.isatty() and not args.yes:
            from esm_tui.init_cli import run_interactive

            run_interactive(path)
            return ExitCode.OK
        write_starter_config(path)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    except EOFError:  # Ctrl-D at a question: nothing was written
        print("\nesm-tui init: stopped; nothing written", file=sys.stderr)
        return ExitCode.USAGE
    print(f"wrote a starter config to {path}; edit it, then run esm-tui")
    return ExitCode.OK


def _run_dashboard(args: argparse.Namespace) -> int:
    nameservers = _nameservers(args.nameserver) or None
    domains = _domains(args.domains)
    config_path: Path | None = None
    if not args.demo:
        config = _load(args.config)  # fail fast, before the screen switches
        config_path = config.path
    from esm_tui.app import run_dashboard

    return run_dashboard(config_path, nameservers, domains, args.demo, args.notify)


if __name__ == "__main__":
    raise SystemExit(main())
