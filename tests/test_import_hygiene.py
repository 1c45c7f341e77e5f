"""The headless core never loads Textual (DESIGN.md): only the dashboard (esm_tui/app/) and
the widgets (esm_tui/widgets/) may import it.

Every other module of the package is found by walking the package's files — a new module
is checked without being listed here — and loaded in a fresh interpreter of its own, so
that nothing loaded before it can hide what it imports.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import esm_tui

PACKAGE = Path(esm_tui.__file__).parent
#: The only packages that may import Textual.
UI_PACKAGES = ("esm_tui.app", "esm_tui.widgets")


def package_modules() -> list[str]:
    """Every module of esm_tui by its dotted name, read from the files (nothing imported)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def is_ui(module: str) -> bool:
    return any(module == ui or module.startswith(f"{ui}.") for ui in UI_PACKAGES)


CORE = [module for module in package_modules() if not is_ui(module)]


def _program(module: str) -> str:
    """Python code that loads `module` as it is used, then prints whether Textual came too."""
    package, _, leaf = module.rpartition(".")
    if leaf == "__main__":
        # Importing a __main__ runs its program: run it as `python -m` does, asking for
        # --help (the dashboard itself is imported only when it runs, see cli.py).
        load = (
            "import contextlib, io, runpy\n"
            f"sys.argv = [{package!r}, '--help']\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            f"    runpy.run_module({package!r}, run_name='__main__', alter_sys=True)\n"
        )
    else:
        load = f"import {module}\n"
    return f"import sys\n{load}print('textual' in sys.modules)\n"


def loads_textual(module: str) -> bool:
    """Whether loading `module` in a fresh interpreter imports Textual."""
    out = subprocess.run(
        [sys.executable, "-c", _program(module)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, f"{module} did not load:\n{out.stderr}"
    return out.stdout.split()[-1] == "True"


def test_the_core_is_every_module_but_the_dashboard_and_the_widgets() -> None:
    """The walk reaches every subpackage (one module of each, at any depth, is in the core)
    and leaves out the two UI packages only."""
    for module in (
        "esm_tui",
        "esm_tui.__main__",
        "esm_tui.cli",
        "esm_tui.engine_process",
        "esm_tui.dns.resolver",
        "esm_tui.config.load",
        "esm_tui.checks",
        "esm_tui.spf",
        "esm_tui.propagation.collect",
        "esm_tui.demo.__main__",
    ):
        assert module in CORE, module
    left_out = sorted(set(package_modules()) - set(CORE))
    assert "esm_tui.app.dashboard" in left_out and "esm_tui.widgets.record_card" in left_out
    assert all(is_ui(module) for module in left_out), left_out


@pytest.mark.slow
def test_no_core_module_loads_textual() -> None:
    # One interpreter per module, a few at a time: each import costs ~0.1 s of CPU.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        loaded = dict(zip(CORE, pool.map(loads_textual, CORE), strict=True))
    offenders = sorted(module for module, textual in loaded.items() if textual)
    assert not offenders, (
        f"these modules import Textual (see which import brings it with "
        f"`python -X importtime -c 'import MODULE'`): {offenders}"
    )


def test_the_check_sees_textual_where_it_is() -> None:
    """The same check on the dashboard and a widget says yes: a check that could not see
    Textual would pass the core for nothing."""
    assert loads_textual("esm_tui.app")
    assert loads_textual("esm_tui.widgets.record_card")


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
