"""`[relay] preset`: the values a relay operator publishes, so the admin need not type them.

Only e-securemail for now (SPEC §9), from its help centre's DNS set-up pages: the two MX
hosts with their preferences (mail for the domain must reach the filter, so no other MX
may stay — an older MX with a lower preference lets senders go round it) and the DKIM
selector the relay signs with. Its SPF include is not published there: SPF is judged by
the relay addresses the admin configures (`spf_ips`). Keys set beside the preset win.
"""

from __future__ import annotations

from esm_tui.config.model import Relay

#: name -> the [relay] values it stands for. MX hosts in preference order (10, 20): the
#: fix proposes them with those preferences.
PRESETS: dict[str, Relay] = {
    "e-securemail": Relay(
        mx=("france.security-mail.net", "europe.security-mail.net"),
        dkim_selectors=("sec-sig-email",),
    ),
}


def apply_preset(name: str, own: dict[str, tuple[str, ...] | None]) -> Relay:
    """The preset's values, each replaced by the key the config sets beside it.

    A key is "set" when the config has it, even as an empty list (that is how an admin says
    "not this one"); `own` holds None for the keys that are absent."""
    base = PRESETS[name]
    values = {key: getattr(base, key) if value is None else value for key, value in own.items()}
    return Relay(**values, preset=name)
