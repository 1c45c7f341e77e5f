"""`python -m esm_tui`: the same as the `esm-tui` command."""

from esm_tui.cli import main

raise SystemExit(main())
