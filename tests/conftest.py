"""Shared fixtures: a real authoritative DNS server on loopback and a Dns client for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from esm_tui.dns import Dns


@pytest.fixture(autouse=True)
def _private_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep every test (and the programs it starts) away from the user's config and history."""
    base = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("ESM_TUI_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "share"))
    monkeypatch.delenv("ESM_TUI_CONFIG", raising=False)


@pytest.fixture
def records() -> Records:
    """An empty record store; add zones and records in the test."""
    return Records()


@pytest.fixture
def dns_server(records: Records) -> Iterator[DnsServer]:
    """The loopback server answering from `records`, over real UDP and TCP sockets."""
    with DnsServer(records) as server:
        yield server


@pytest.fixture
def dns(dns_server: DnsServer) -> Dns:
    """A client of `dns_server` with short timeouts, so failure tests stay fast."""
    return Dns([dns_server.server], timeout=0.4, retries=0, concurrency=64)
