"""One line naming a domain's DNS host, for `check`'s table and the dashboard.

The NS names come from DNS (escaped by the DNS layer already); the callers still pass the
line through `display_safe` before it reaches a terminal.
"""

from __future__ import annotations

from esm_tui.model import ZoneHost

#: NS names shown before "and N more" (a zone can list many).
_SHOWN = 4


def host_name(found: ZoneHost | None) -> str:
    """`OVHcloud`, `other DNS host`, or `unknown` (the NS records could not be read)."""
    if found is None:
        return "unknown"
    return found.name or "other DNS host"


def host_line(found: ZoneHost | None) -> str:
    """`OVHcloud (zone example.com., NS dns10.ovh.net., ns10.ovh.net.)`."""
    if found is None:
        return "unknown (the zone's NS records could not be read)"
    shown = ", ".join(found.nameservers[:_SHOWN])
    more = len(found.nameservers) - _SHOWN
    if more > 0:
        shown += f" and {more} more"
    return f"{host_name(found)} (zone {found.zone}, NS {shown})"
