"""Publishing a plan through a dns-lexicon provider (OVH, Gandi, Cloudflare, Route 53 and
the rest lexicon has): `pip install 'esm-tui[publish]'`.

A provider's API edits one record at a time: unlike an RFC 2136 update, a plan is not
applied atomically. So before changing anything the record sets are listed through the
provider and compared with the plan's `before` (someone else's edit stops it, nothing
touched); then each change deletes the records that go and creates those that come, and
a failure says exactly which changes were applied and which were not.

The provider class is used directly with the zone esm-tui found (its SOA), rather than
through lexicon's `Client`, which guesses the zone from a public suffix list it may fetch
over the network (tldextract) — a check made offline must not stall on that.

Credentials come from the environment as lexicon reads them (`LEXICON_OVH_…`) or from
`credentials_file` (TOML, only its owner may read it); they are never printed.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from esm_tui.publish.plan import Change
from esm_tui.publish.rfc2136 import Outcome


class LexiconMissing(Exception):
    """dns-lexicon (or the provider's extra) is not installed."""


def _provider(name: str, zone: str, options: dict[str, Any]) -> Any:
    try:
        from lexicon.config import ConfigResolver
    except ImportError:
        raise LexiconMissing(
            f"publishing through {name!r} needs dns-lexicon: pip install 'esm-tui[publish]'"
        ) from None
    try:
        module = importlib.import_module(f"lexicon._private.providers.{name}")
    except ImportError as exc:
        raise LexiconMissing(
            f"dns-lexicon has no provider {name!r}, or its extra is missing "
            f"(pip install 'dns-lexicon[{name}]'): {exc}"
        ) from None
    config = (
        ConfigResolver()
        .with_env()
        .with_dict({"provider_name": name, "domain": zone.rstrip("."), name: options})
    )
    provider = module.Provider(config)
    provider.authenticate()
    return provider


#: Providers that write a new TXT value into a zone file as given: they need it in
#: zone-file form (quoted ≤ 255-byte strings). Unquoted, localzone wrote `"v=spf1" "-all"`
#: (two strings, read as `v=spf1-all`), measured. The HTTP APIs take the value itself.
_ZONE_FILE_TXT = ("localzone",)


def _content(name: str, rtype: str, value: str) -> str:
    if rtype in ("TXT", "SPF") and name in _ZONE_FILE_TXT:
        from esm_tui.publish.plan import to_rdata_text

        return to_rdata_text("TXT", value)
    return value


def credentials(path: Path | None) -> dict[str, Any]:
    """The provider's options from `credentials_file` (TOML); {} without one."""
    if path is None:
        return {}
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return {k: v for k, v in data.items() if isinstance(v, (str, int, float, bool))}


def publish_lexicon(
    name: str, zone: str, changes: Sequence[Change], options: dict[str, Any]
) -> Outcome:
    """Apply `changes` through the provider; the Outcome says what was applied."""
    try:
        provider = _provider(name, zone, options)
    except LexiconMissing as exc:
        return Outcome(False, f"{exc}. Nothing was applied.")
    except Exception as exc:  # noqa: BLE001 - a provider's own errors, stated
        return Outcome(False, f"{name}: could not sign in ({_why(exc)}). Nothing was applied.")
    try:
        for change in changes:
            now = _listed(provider, change)
            if sorted(now) != sorted(change.before):
                return Outcome(
                    False,
                    f"{name}: {change.type} {change.name} changed since the plan was read "
                    f"(now {len(now)} record(s)): run `esm-tui fix` again for a new plan. "
                    "Nothing was applied.",
                )
    except Exception as exc:  # noqa: BLE001
        return Outcome(False, f"{name}: could not list the records ({_why(exc)}). Nothing "
                       "was applied.")  # fmt: skip
    done: list[str] = []
    for change in changes:
        what = f"{change.type} {change.name}"
        try:
            for value in change.before:
                if value not in change.after:
                    # Matched as listed (lexicon shows TXT contents unquoted).
                    provider.delete_record(None, change.type, change.name, value)
            for value in change.after:
                if value not in change.before:
                    provider.create_record(
                        change.type, change.name, _content(name, change.type, value)
                    )
        except Exception as exc:  # noqa: BLE001
            left = [f"{c.type} {c.name}" for c in changes[len(done) + 1 :]]
            return Outcome(
                False,
                f"{name} failed on {what} ({_why(exc)}). Applied: "
                f"{', '.join(done) or 'nothing'}; {what} may be half applied; not applied: "
                f"{', '.join(left) or 'nothing else'}. Check it at {name} before retrying.",
            )
        done.append(what)
    return Outcome(True, f"{name} applied {len(done)} change(s)")


def _listed(provider: Any, change: Change) -> list[str]:
    records = provider.list_records(change.type, change.name, None)
    out = []
    for record in records:
        content = str(record.get("content", ""))
        if change.type in ("TXT", "SPF"):
            content = content.replace('" "', "").strip('"')
        out.append(content)
    return out


def _why(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__)[:200]
