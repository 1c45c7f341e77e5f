"""The dashboard: the Textual app (`EsmApp`) and the `esm-tui` command that runs it.

The one package besides `esm_tui.widgets` that imports Textual (tests/test_import_hygiene.py).
`cli.py` imports it only when the dashboard is asked for, so `esm-tui check` stays headless.
"""

from esm_tui.app.dashboard import EsmApp
from esm_tui.app.run import run_dashboard

__all__ = ["EsmApp", "run_dashboard"]
