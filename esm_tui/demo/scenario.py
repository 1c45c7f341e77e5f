"""The demo: bundled zones served on loopback, a config that points at them, and one
DMARC record that appears ~20 s after start so a newcomer watches a card turn green.
"""

from __future__ import annotations

import tempfile
import threading
from importlib import resources
from pathlib import Path

from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from esm_tui.demo.update import DEMO_KEY_ALGORITHM, DEMO_KEY_NAME, keyring, new_demo_secret

DEMO_DOMAINS = ("good.example", "shop.example", "broken.example", "late.example")
DELAYED_NAME = "_dmarc.late.example."
DELAYED_VALUE = "v=DMARC1; p=quarantine; rua=mailto:dmarc@late.example"
DELAY_SECONDS = 20.0

_CONFIG = """\
# esm-tui demo configuration (written to a temporary directory; your own config is untouched)
[settings]
interval = {interval}
timeout = 2.0
retries = 1
nameservers = ["{nameserver}"]
history = false
port = {port}

[relay]
mx = ["*.esm-relay.example"]
spf_include = ["_spf.esm-relay.example"]
spf_ips = ["192.0.2.25"]
dkim_selectors = ["esm"]

[publish]
# The demo server accepts RFC 2136 updates signed with this run's key: `p`, then Publish.
provider = "rfc2136"
server = "{nameserver}"
tsig_key_file = "{key_file}"
{domains}"""


def demo_records() -> Records:
    """Every bundled zone file, loaded into a fresh record store."""
    records = Records()
    zones = resources.files("esm_tui.demo") / "zones"
    for entry in sorted(zones.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".zone"):
            with resources.as_file(entry) as path:
                records.load_zone_file(path)
    return records


class Demo:
    """The running demo: server, temporary config file and the delayed-record timer."""

    def __init__(self, *, delay: float = DELAY_SECONDS, interval: int = 10) -> None:
        self.records = demo_records()
        #: A key made for this run: the demo accepts updates signed with it (SPEC §6).
        self.key_secret = new_demo_secret()
        self.server = DnsServer(
            self.records, update_keyring=keyring(DEMO_KEY_NAME, self.key_secret)
        )
        self.delay = delay
        self.interval = interval
        self._tmp = tempfile.TemporaryDirectory(prefix="esm-tui-demo-")
        self.config_path = Path(self._tmp.name) / "config.toml"
        self.key_path = Path(self._tmp.name) / "demo-tsig.key"
        self._timer: threading.Timer | None = None

    def start(self) -> Demo:
        self.server.start()
        domains = "".join(f'\n[[domains]]\nname = "{d}"\n' for d in DEMO_DOMAINS)
        self.key_path.write_text(
            f'key "{DEMO_KEY_NAME}" {{ algorithm {DEMO_KEY_ALGORITHM}; '
            f'secret "{self.key_secret}"; }};\n',
            encoding="utf-8",
        )
        self.key_path.chmod(0o600)
        self.config_path.write_text(
            _CONFIG.format(
                interval=self.interval,
                nameserver=self.server.address,
                port=self.server.port,
                domains=domains,
                key_file=self.key_path,
            ),
            encoding="utf-8",
        )
        self._timer = threading.Timer(self.delay, self.publish_delayed_record)
        self._timer.daemon = True
        self._timer.start()
        return self

    def publish_delayed_record(self) -> None:
        """The 'admin fixed it at the registrar' moment of the demo."""
        self.records.replace(DELAYED_NAME, "TXT", f'"{DELAYED_VALUE}"')

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.server.stop()
        self._tmp.cleanup()

    def __enter__(self) -> Demo:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
