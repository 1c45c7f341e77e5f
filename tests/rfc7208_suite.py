"""The official RFC 7208 test suite (openspf.org, release 2014.04): its cases and zone data.

Shared by the conformance tests of check_host() in-process (test_spf_conformance.py) and
through the `esm-tui spf-eval` command (test_spf_eval_conformance.py). The suite lives
beside the repository in `../shared/conformance/` and is never copied in.
How the zone data is read (the suite's header comment, and the reference driver it names):
- `SPF` entries are type-99 records. RFC 7208 dropped that type, so the suite relies on
  "auto-magic duplication of SPF to TXT records by test suite drivers": a name's SPF
  entries are also served as TXT records — unless the name lists TXT entries of its own
  (`TXT: NONE` included, which means "no TXT records"). The "Selecting records" section,
  which tests that SPF-type records are not used and how duplicate or conflicting records
  are handled, gets that behaviour by listing its TXT records explicitly; this one rule
  gives every case of every section its intended data.
- `TIMEOUT` makes queries for the name time out — for the record types the name does not
  list (so `spftimeout.example.net`, with TXT + TIMEOUT, answers TXT and times out for
  SPF). A timeout is a dropped query here, seen by the client as a real timeout.
- A name absent from the data does not exist (NXDOMAIN).
- `explanation: DEFAULT` means the implementation's default explanation, i.e. no exp=
  text was used; check_host reports that as `explanation=None`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.CNAME
import dns.rdtypes.ANY.MX
import dns.rdtypes.ANY.PTR
import dns.rdtypes.ANY.SPF
import pytest
import yaml

from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer

SUITE = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "rfc7208-tests.yml"

if not SUITE.exists():
    pytest.skip(
        f"the RFC 7208 conformance suite is not at {SUITE} (it is provided beside the "
        "repository as ../shared/, which a plain clone does not have)",
        allow_module_level=True,
    )

#: Types a TIMEOUT name can be asked for during evaluation.
QUERY_TYPES = ("TXT", "SPF", "A", "AAAA", "MX", "PTR", "CNAME")


@dataclass(frozen=True)
class Case:
    scenario: int
    section: str
    name: str
    host: str
    mailfrom: str
    helo: str
    results: tuple[str, ...]
    explanation: str | None


def _load() -> tuple[list[dict[str, Any]], list[Case]]:
    scenarios = [doc for doc in yaml.safe_load_all(SUITE.read_text("utf-8")) if doc]
    cases = []
    for index, scenario in enumerate(scenarios):
        for name, test in scenario["tests"].items():
            result = test["result"]
            cases.append(
                Case(
                    scenario=index,
                    section=scenario["description"],
                    name=name,
                    host=str(test["host"]),
                    mailfrom=str(test.get("mailfrom") or ""),
                    helo=str(test.get("helo") or ""),
                    results=tuple(result) if isinstance(result, list) else (result,),
                    explanation=test.get("explanation"),
                )
            )
    return scenarios, cases


SCENARIOS, CASES = _load()


def _absolute(name: str) -> dns.name.Name:
    return dns.name.from_text(name if name.endswith(".") else name + ".")


def _strings(value: str | list[str]) -> list[bytes]:
    parts = value if isinstance(value, list) else [value]
    return [p.encode("utf-8") for p in parts]


def build_records(zonedata: dict[str, list[Any]]) -> Records:
    """The scenario's zone data as the loopback server's records (rules in the docstring)."""
    records = Records()
    for owner, entries in zonedata.items():
        listed: dict[str, list[Any]] = {}
        timeout = False
        for entry in entries:
            if entry == "TIMEOUT":
                timeout = True
                continue
            ((rtype, value),) = entry.items()
            values = listed.setdefault(rtype, [])
            if value != "NONE":
                values.append(value)
        if "TXT" not in listed and listed.get("SPF"):
            listed["TXT"] = list(listed["SPF"])
        _add(records, owner, listed)
        if timeout:
            for rtype in QUERY_TYPES:
                if not listed.get(rtype):
                    records.set_behaviour(owner, "drop", rtype)
    return records


def _add(records: Records, owner: str, listed: dict[str, list[Any]]) -> None:
    IN = dns.rdataclass.IN
    for value in listed.get("TXT", []):
        records.add_txt(owner, _strings(value))
    for value in listed.get("SPF", []):
        strings = _strings(value) or [b""]
        records.add_rdtype(owner, dns.rdatatype.SPF, dns.rdtypes.ANY.SPF.SPF(IN, 99, strings))
    for value in listed.get("A", []):
        records.add(owner, "A", value)
    for value in listed.get("AAAA", []):
        records.add(owner, "AAAA", value)
    for preference, host in listed.get("MX", []):
        exchange = _absolute(host) if host else dns.name.root
        rdata = dns.rdtypes.ANY.MX.MX(IN, dns.rdatatype.MX, preference, exchange)
        records.add_rdtype(owner, dns.rdatatype.MX, rdata)
    for value in listed.get("PTR", []):
        rdata = dns.rdtypes.ANY.PTR.PTR(IN, dns.rdatatype.PTR, _absolute(value))
        records.add_rdtype(owner, dns.rdatatype.PTR, rdata)
    for value in listed.get("CNAME", []):
        rdata = dns.rdtypes.ANY.CNAME.CNAME(IN, dns.rdatatype.CNAME, _absolute(value))
        records.add_rdtype(owner, dns.rdatatype.CNAME, rdata)


class Servers:
    """One loopback server per scenario, started when its first case runs."""

    def __init__(self) -> None:
        self._running: dict[int, DnsServer] = {}

    def __getitem__(self, scenario: int) -> DnsServer:
        if scenario not in self._running:
            records = build_records(SCENARIOS[scenario].get("zonedata") or {})
            self._running[scenario] = DnsServer(records).start()
        return self._running[scenario]

    def stop(self) -> None:
        for server in self._running.values():
            server.stop()
