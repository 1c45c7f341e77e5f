"""What a loaded config is: `Config` with its `Settings`, `Relay` and `DomainConfig`s —
frozen values, with what each domain is expected to have (`domain_settings`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from esm_tui.config.names import normalize_domain, unique
from esm_tui.config.notify_section import NotifySettings
from esm_tui.config.publish_section import PublishSettings
from esm_tui.dns import Server
from esm_tui.dnssec.anchors import Anchors
from esm_tui.model import DomainSettings


@dataclass(frozen=True)
class Settings:
    """[settings]. Not validated here (tests may inject a short interval); load_config is."""

    interval: int = 300
    timeout: float = 5.0
    retries: int = 2
    concurrency: int = 64
    nameservers: tuple[Server, ...] = ()
    history: bool = True
    port: int = 53
    compare_resolvers: tuple[Server, ...] = ()
    #: `trust_anchors`, loaded; None: the root's built-in anchors (esm_tui.dnssec).
    trust_anchors: Anchors | None = None
    #: `https_port`: where MTA-STS policies are fetched (443 but in a test lab).
    https_port: int = 443


@dataclass(frozen=True)
class Relay:
    """[relay]: what the e-securemail relay needs of every domain."""

    mx: tuple[str, ...] = ()
    spf_include: tuple[str, ...] = ()
    spf_ips: tuple[str, ...] = ()
    dkim_selectors: tuple[str, ...] = ()
    #: The `preset` its values came from ("" for none): config/presets.py.
    preset: str = ""


@dataclass(frozen=True)
class DomainConfig:
    """One [[domains]] table. None = inherit [relay]; a tuple, even empty, replaces it."""

    name: str
    dkim_selectors: tuple[str, ...] = ()
    bimi: bool = False
    mta_sts: bool = False
    tls_rpt: bool = False
    dnssec: bool = False
    mx: tuple[str, ...] | None = None
    spf_include: tuple[str, ...] | None = None
    spf_ips: tuple[str, ...] | None = None
    #: `publish = {...}`: this domain's own way to publish (replaces `[publish]`).
    publish: PublishSettings | None = None


@dataclass(frozen=True)
class Config:
    settings: Settings = field(default_factory=Settings)
    relay: Relay = field(default_factory=Relay)
    domains: tuple[DomainConfig, ...] = ()
    path: Path | None = None
    #: sha256 of the file bytes as loaded; None when there was no file.
    fingerprint: str | None = None
    notify: NotifySettings = field(default_factory=NotifySettings)
    #: `[publish]`; None: publishing is not configured (the plan is a guide).
    publish: PublishSettings | None = None

    def publish_for(self, name: str) -> PublishSettings | None:
        """How to publish `name`'s changes: its own `publish = {...}`, else `[publish]`."""
        entry = self.domain(name)
        if entry is not None and entry.publish is not None:
            return entry.publish
        return self.publish

    def domain(self, name: str) -> DomainConfig | None:
        """The configured entry for `name` (any spelling normalize_domain accepts)."""
        found = self._by_name.get(name)  # the common case: the name as configured
        if found is None:
            found = self._by_name.get(normalize_domain(name))
        return found

    @cached_property
    def _by_name(self) -> dict[str, DomainConfig]:
        # The dashboard asks for each domain's settings at each check: a scan of the
        # list each time was quadratic at 1,000 domains. (Names are unique: validated.)
        return {d.name: d for d in reversed(self.domains)}  # the first one wins

    def domain_settings(self, name: str, extra_selectors: Sequence[str] = ()) -> DomainSettings:
        """What is expected of `name`: [relay] values, replaced by the domain's own lists where
        it sets them; selectors are [relay] + domain + `extra_selectors`, without repeats.
        A name not in the config gets the [relay] defaults. Raises DomainNameError."""
        entry = self.domain(name) or DomainConfig(normalize_domain(name))
        relay = self.relay
        extra = (s.strip().lower().rstrip(".") for s in extra_selectors)
        selectors = unique([*relay.dkim_selectors, *entry.dkim_selectors, *extra])
        return DomainSettings(
            name=entry.name,
            relay_mx=relay.mx if entry.mx is None else entry.mx,
            spf_include=relay.spf_include if entry.spf_include is None else entry.spf_include,
            spf_ips=relay.spf_ips if entry.spf_ips is None else entry.spf_ips,
            dkim_selectors=selectors,
            bimi_expected=entry.bimi,
            mta_sts_expected=entry.mta_sts,
            tls_rpt_expected=entry.tls_rpt,
            dnssec_expected=entry.dnssec,
        )

    def with_domains(self, names: Iterable[str], *, replace_configured: bool = False) -> Config:
        """The config with command-line domains: after the configured ones (or, with
        `replace_configured`, only those). A configured domain keeps its own settings.
        Raises DomainNameError for an invalid name."""
        wanted = unique(normalize_domain(n) for n in names)
        known = {d.name: d for d in self.domains}
        extra = tuple(known.get(n) or DomainConfig(n) for n in wanted)
        if replace_configured:
            return replace(self, domains=extra)
        added = tuple(d for d in extra if d not in self.domains)
        return replace(self, domains=self.domains + added)
