"""The headless core never loads Textual (DESIGN.md): checked in fresh interpreters."""

from __future__ import annotations

import subprocess
import sys

import pytest

CORE = [
    "esm_tui.config",
    "esm_tui.dns",
    "esm_tui.checks",
    "esm_tui.checks.mx",
    "esm_tui.checks.spf",
    "esm_tui.checks.dkim",
    "esm_tui.checks.dmarc",
    "esm_tui.checks.bimi",
    "esm_tui.model",
    "esm_tui.report",
    "esm_tui.monitor",
    "esm_tui.cli",
    "esm_tui.history",
    "esm_tui.history_cli",
    "esm_tui.propagation",
    "esm_tui.text",
    "esm_tui.watch",
    "esm_tui.codes",
]


@pytest.mark.parametrize("module", CORE)
def test_core_module_does_not_import_textual(module: str) -> None:
    code = f"import sys, {module}; print('textual' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"


def test_check_command_runs_without_textual(tmp_path, dns_server, records) -> None:
    records.add_zone("example.test.")
    records.add("example.test.", "MX", "0 .")
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    code = (
        "import sys\n"
        "from esm_tui.cli import main\n"
        f"rc = main(['check', '--config', {str(tmp_path / 'none.toml')!r},"
        f" '--nameserver', {dns_server.address!r}, '--json', 'example.test'])\n"
        "print('TEXTUAL' if 'textual' in sys.modules else 'NO-TEXTUAL', rc, file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stderr.strip().splitlines()[-1].startswith("NO-TEXTUAL"), out.stderr
    assert '"domain": "example.test"' in out.stdout
