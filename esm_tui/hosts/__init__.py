"""Where a domain's zone is hosted, and how to change a record there in that host's words.

- catalogue.toml / catalogue.py: the DNS hosts as data (`DnsHost`), loaded and validated
- detect.py: `detect_host(domain, ctx)`, the host named from the zone's NS records
- steps.py: `host_steps(...)`, a record change as the host's own steps, the zone-file line
  and the `dig` command that verifies it (pure; its module docstring has the signature)
- attach.py: `with_host_steps(report, settings)`, those steps on every fix that publishes
- words.py: one line naming the host, for the table and the dashboard
- guide.py: docs/hosts/*.md generated from the catalogue

Nothing here imports Textual; `check_domain` runs the detection beside the five checks.
"""

from esm_tui.hosts.catalogue import OTHER, CatalogueError, DnsHost, catalogue, host_by_id, match
from esm_tui.hosts.steps import dig_command, host_steps, txt_strings, zone_line

__all__ = [
    "OTHER",
    "CatalogueError",
    "DnsHost",
    "catalogue",
    "dig_command",
    "host_by_id",
    "host_steps",
    "match",
    "txt_strings",
    "zone_line",
]
