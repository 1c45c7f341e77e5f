"""A real Knot DNS (`knotd`, Debian's `knot` package) on loopback for the publishing tests.

`KnotServer(zones)` writes a config with a TSIG key allowed to update and transfer the
zones, starts `knotd` in a temp dir on a free port, and waits (deadline, not a sleep)
until it answers the SOA of every zone. `secondary_of(primary)` starts a second knotd
that transfers the zones from the first and is told of changes by NOTIFY; `hold=True`
makes it ignore NOTIFY (its refresh is an hour), so a test sees a lagging server, then
`refresh()` lets it catch up. `axfr(zone)` is the whole zone, as the tests compare it
before and after a publish. Processes are stopped with the fixture, never left behind.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import dns.tsigkeyring
import dns.zone

KEY_NAME = "esm-test-key."
KEY_ALGORITHM = "hmac-sha256"
DEADLINE = 20.0


def knotd(program: str = "knotd") -> str:
    """The path of a Knot DNS program (Debian puts them in /usr/sbin)."""
    sbin = Path("/usr/sbin") / program
    path = shutil.which(program) or (str(sbin) if sbin.exists() else None)
    if path is None:
        raise AssertionError(
            "knotd is not installed: these tests run a real Knot DNS (apt-get install knot; "
            ".ci/run installs it)"
        )
    return path


def _free_port() -> int:
    """A port free for UDP and TCP on 127.0.0.1 and 127.0.0.2 (a primary and a secondary
    listen on the same port)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            if all(_bindable(kind, host, port) for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM)
                   for host in ("127.0.0.1", "127.0.0.2")):  # fmt: skip
                return port
    raise OSError("no free port for knotd")


def _bindable(kind: int, host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return kind == socket.SOCK_STREAM and host == "127.0.0.1"  # the one held above
        return True


class KnotServer:
    def __init__(
        self,
        workdir: Path,
        zones: dict[str, str],
        *,
        secret: str | None = None,
        primary: KnotServer | None = None,
        hold: bool = False,
        host: str = "127.0.0.1",
        port: int | None = None,
    ) -> None:
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.zones = zones
        self.secret = secret or base64.b64encode(secrets.token_bytes(32)).decode()
        self.primary = primary
        self.hold = hold
        self.host = host
        self.port = port or _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.conf = self.dir / "knot.conf"

    # -- what the tests use --------------------------------------------------------------

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def server(self) -> tuple[str, int]:
        return (self.host, self.port)

    def write_key_file(self, path: Path, secret: str | None = None) -> Path:
        """A BIND key file for the server's key (or for `secret`: a wrong key)."""
        path.write_text(
            f'key "{KEY_NAME}" {{\n\talgorithm {KEY_ALGORITHM};\n'
            f'\tsecret "{secret or self.secret}";\n}};\n',
            encoding="utf-8",
        )
        return path

    def keyring(self) -> dict:
        return dns.tsigkeyring.from_text({KEY_NAME: (KEY_ALGORITHM, self.secret)})

    def axfr(self, zone: str) -> dict[tuple[str, str], list[str]]:
        """Every record set of the zone: (name, type) → sorted rdata texts."""
        xfr = dns.query.xfr(
            self.host, zone, port=self.port, keyring=self.keyring(), keyname=KEY_NAME,
            lifetime=10, relativize=False,
        )  # fmt: skip
        found = dns.zone.from_xfr(xfr, relativize=False)
        out: dict[tuple[str, str], list[str]] = {}
        for name, node in found.nodes.items():
            for rds in node.rdatasets:
                key = (name.to_text().lower(), dns.rdatatype.to_text(rds.rdtype))
                out[key] = sorted(r.to_text() for r in rds)
        return out

    def serial(self, zone: str) -> int | None:
        query = dns.message.make_query(zone, "SOA")
        try:
            reply = dns.query.udp(query, self.host, port=self.port, timeout=1.0)
        except (OSError, dns.exception.DNSException):
            return None
        if reply.rcode() != dns.rcode.NOERROR or not reply.answer:
            return None
        return next(iter(reply.answer[0])).serial  # type: ignore[attr-defined]

    def refresh(self) -> None:
        """A held secondary: transfer the zones now."""
        for zone in self.zones:
            self._knotc("zone-refresh", zone)

    # -- life ----------------------------------------------------------------------------

    def start(self) -> KnotServer:
        for zone, text in self.zones.items():
            if self.primary is None:
                (self.dir / f"{zone.rstrip('.')}.zone").write_text(text, encoding="utf-8")
        self.conf.write_text(self._config(), encoding="utf-8")
        self.process = subprocess.Popen(
            [knotd(), "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=(self.dir / "knotd.log").open("wb"),
        )
        deadline = time.monotonic() + DEADLINE
        while any(self.serial(zone) is None for zone in self.zones):
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.dir / "knotd.log").read_text(errors="replace")
                self.stop()
                raise AssertionError(f"knotd did not start serving in {DEADLINE:g} s:\n{log}")
            time.sleep(0.05)  # polling a server's readiness, bounded by the deadline
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> KnotServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _knotc(self, *args: str) -> None:
        subprocess.run(
            [knotd("knotc"), "-c", str(self.conf), *args],
            check=True,
            capture_output=True,
            timeout=20,
        )

    def _config(self) -> str:
        lines = [
            "server:",
            f"    rundir: {self.dir}",
            f"    listen: {self.host}@{self.port}",
            "database:",
            f"    storage: {self.dir}",
            "log:",
            "  - target: stderr",
            "    any: info",
            "key:",
            f"  - id: {KEY_NAME}",
            f"    algorithm: {KEY_ALGORITHM}",
            f"    secret: {self.secret}",
            "acl:",
            "  - id: keyed",
            f"    key: {KEY_NAME}",
            "    action: [update, transfer]",
        ]
        if self.primary is not None:
            lines += [
                "  - id: notify_from_primary",
                f"    address: {self.primary.host}",
                "    action: notify",
                "remote:",
                "  - id: primary",
                f"    address: {self.primary.host}@{self.primary.port}",
                f"    key: {KEY_NAME}",
            ]
        elif self.secondaries:
            lines += ["remote:"]
            for index, (host, port) in enumerate(self.secondaries):
                lines += [f"  - id: secondary{index}", f"    address: {host}@{port}"]
        lines += ["template:", "  - id: default", f"    storage: {self.dir}",
                  "    zonefile-sync: 0", "    journal-content: changes",
                  "    semantic-checks: off"]  # fmt: skip
        lines += ["zone:"]
        for zone in self.zones:
            lines += [f"  - domain: {zone}", "    acl: [keyed]"]
            if self.primary is not None:
                lines += ["    master: primary"]
                if not self.hold:
                    lines[-2] = "    acl: [keyed, notify_from_primary]"
            elif self.secondaries:
                names = ", ".join(f"secondary{i}" for i in range(len(self.secondaries)))
                lines += [f"    notify: [{names}]"]
        return "\n".join(lines) + "\n"

    #: (host, port) of the secondaries the primary notifies (set before it starts).
    secondaries: tuple[tuple[str, int], ...] = ()


def secondary_of(primary: KnotServer, workdir: Path, *, hold: bool = False) -> KnotServer:
    """A secondary of `primary` on 127.0.0.2 and the same port (the zone's NS records can
    then name both, and esm-tui asks both on one port), created before the primary starts
    so the primary notifies it."""
    return KnotServer(workdir, primary.zones, secret=primary.secret, primary=primary, hold=hold,
                      host="127.0.0.2", port=primary.port)  # fmt: skip


@contextlib.contextmanager
def knot_pair(workdir: Path, zones: dict[str, str], *, hold: bool = False):
    """A primary and a secondary that NOTIFY reaches (or, `hold`, does not)."""
    primary = KnotServer(workdir / "primary", zones)
    secondary = secondary_of(primary, workdir / "secondary", hold=hold)
    primary.secondaries = (secondary.server,)
    with primary, secondary:
        yield primary, secondary
