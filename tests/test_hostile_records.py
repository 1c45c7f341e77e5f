"""Hostile DNS data, served over loopback sockets, through the checks and the real `check` CLI.

Every byte a zone serves is attacker-controlled. For each case: the table `esm-tui check`
prints holds no raw control, C1 or bidi character (they are shown as visible escapes);
the JSON keeps the published record exactly (SPEC §3: invalid UTF-8 as \\xNN) and parses;
nothing reaches stderr as a traceback; the run ends within its bound; and the status of
every record is the one SPEC §4 gives. Each check module's `check()` is also called
directly, so a crash cannot hide behind check_domain's "internal-error" guard.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.MX
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from esm_tui.checks import registry
from esm_tui.checks.context import CheckContext
from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from esm_tui.dns import Dns
from esm_tui.model import CHECK_NAMES, DomainSettings
from esm_tui.spf import tree

ESM = [sys.executable, "-m", "esm_tui"]
#: Seconds one whole `check` run of every hostile domain may take (it needs ~2 s): a hang,
#: or a record that makes a check ask thousands of names, blows it.
CLI_BOUND = 30.0
#: Seconds one check of one hostile domain may take, called directly.
CHECK_BOUND = 10.0

# -- payloads: what an attacker puts in a TXT record (or an MX host's label) -------------

PAYLOADS: dict[str, bytes] = {
    "ansi": b"\x1b[2J\x1b[31mred\x1b[0m\x1b[H",
    "osc52": b"\x1b]52;c;cm0gLXJmIH4K\x07",  # a clipboard write ("rm -rf ~")
    "osc8": b"\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\",
    "markup": b"[bold]x[/bold][@click=app.quit]quit[/x][/]",
    "c0c1": b"\x00\x01\x07\x08\x0d\x7f" + "\u0085\u009b".encode() + b"\x9b",
    "bidi": "abc\u202egnp.exe\u2066\u200f".encode(),
    "badutf8": b"\xff\xfe\xc3\x28\x80\xc0\xaf\xed\xa0\x80",
}

#: Characters that must never reach a terminal as they are.
_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def shown(raw: bytes) -> str:
    """SPEC §3: the record as JSON keeps it (UTF-8, an invalid byte as \\xNN)."""
    return raw.decode("utf-8", "backslashreplace")


def assert_terminal_safe(out: bytes) -> str:
    """Valid UTF-8 with no control (but \\n), DEL, C1, bidi control or lone surrogate."""
    text = out.decode("utf-8")  # strict: invalid UTF-8 on stdout fails here
    for char in text:
        code = ord(char)
        assert char == "\n" or code >= 0x20, f"raw control U+{code:04X} in the table"
        assert not 0x7F <= code <= 0x9F, f"raw DEL/C1 U+{code:04X} in the table"
        assert char not in _BIDI, f"raw bidi control U+{code:04X} in the table"
        assert not 0xD800 <= code <= 0xDFFF, "a lone surrogate in the table"
    return text


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# -- the zones ------------------------------------------------------------------------------


@dataclass
class Case:
    domain: str
    #: check -> the status SPEC §4 gives.
    statuses: dict[str, str]
    #: Finding codes that must be among the findings (the reason for the status).
    codes: set[str] = field(default_factory=set)
    #: check -> the exact `records` the JSON must hold (order-insensitive).
    raw: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The optional checks a case does not name: its zone is unsigned and publishes no
        # transport record, so they are grey (none), hostile data or not.
        for name in CHECK_NAMES:
            self.statuses.setdefault(name, "none")


def _ed25519_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


KEY = _ed25519_key()


def _base(r: Records, d: str) -> None:
    """A zone whose MX resolves: the hostile part is added by each case."""
    r.add_zone(f"{d}.")
    r.add(f"{d}.", "MX", f"10 mx.{d}.")
    r.add(f"mx.{d}.", "A", "192.0.2.10")


def _good_dmarc(r: Records, d: str) -> str:
    value = f"v=DMARC1; p=reject; rua=mailto:dmarc@{d}"
    r.add_txt(f"_dmarc.{d}.", value)
    return value


def _payload_case(r: Records, name: str, payload: bytes) -> Case:
    """The payload in every TXT record type and in an MX host's label."""
    d = f"p-{name}.example"
    _base(r, d)
    # A second MX host whose name is the payload itself (any bytes are legal in a label).
    label = payload[:63]
    host = dns.name.Name((label, b"evil", b"example", b""))
    mx = dns.rdtypes.ANY.MX.MX(dns.rdataclass.IN, dns.rdatatype.MX, 20, host)
    r.add_rdtype(f"{d}.", dns.rdatatype.MX, mx)
    spf, other = b"v=spf1 mx -all", b"verification=" + payload
    dmarc = b"v=DMARC1; p=" + payload
    dkim = b"v=DKIM1; k=rsa; p=" + payload
    bimi = b"v=BIMI1; l=" + payload
    r.add_txt(f"{d}.", spf, other)
    r.add_txt(f"_dmarc.{d}.", dmarc)
    r.add_txt(f"esm._domainkey.{d}.", dkim)
    r.add_txt(f"default._bimi.{d}.", bimi)
    sts, tlsrpt = b"v=STSv1; id=" + payload, b"v=TLSRPTv1; rua=" + payload
    r.add_txt(f"_mta-sts.{d}.", sts)
    r.add_txt(f"_smtp._tls.{d}.", tlsrpt)
    return Case(
        d,
        # MX: a host that does not resolve is a warning (the other one resolves).
        # SPF: the payload sits in a TXT record that is not SPF: ignored (RFC 7208 §4.5).
        # DMARC: `p` has an invalid value (or the tag-list breaks) -> fail.
        # DKIM: p= is no key (or the tag-list breaks) -> fail.
        # BIMI: l= is not an https URL (or the tag-list breaks) -> fail.
        # MTA-STS: id= is not 1-32 letters and digits (or the tag-list breaks) -> fail.
        # TLS-RPT: rua= is no mailto:/https: URI (or the tag-list breaks) -> fail.
        {
            "mx": "warn",
            "spf": "ok",
            "dkim": "fail",
            "dmarc": "fail",
            "bimi": "fail",
            "mta_sts": "fail",
            "tls_rpt": "fail",
        },
        {"mx.host-unresolved"},
        {
            "mx": [f"10 mx.p-{name}.example.", mx.to_text()],
            "spf": [shown(spf), shown(other)],
            "dmarc": [shown(dmarc)],
            "dkim": [shown(dkim)],
            "bimi": [shown(bimi)],
            "mta_sts": [shown(sts)],
            "tls_rpt": [shown(tlsrpt)],
        },
    )


def _big_spf(d: str) -> bytes:
    """An SPF record of exactly 255 strings of 255 bytes: the largest TXT record there is."""
    size = 255 * 255
    terms, i = [b"v=spf1"], 0
    while sum(len(t) + 1 for t in terms) + 40 < size:
        terms.append(b"ip4:10.%d.%d.0/24" % (i // 256 % 256, i % 256))
        i += 1
    text = b" ".join(terms)
    return text + b" " * (size - len(text) - len(b" -all")) + b" -all"


def _big_case(r: Records) -> Case:
    d = "big.example"
    _base(r, d)
    spf = _big_spf(d)
    assert len(spf) == 255 * 255
    dkim = b"v=DKIM1; k=ed25519; n=" + b"n" * 60_000 + b"; p=" + KEY.encode()
    r.add_txt(f"{d}.", spf)
    r.add_txt(f"esm._domainkey.{d}.", dkim)
    dmarc = _good_dmarc(r, d)
    return Case(
        d,
        {"mx": "ok", "spf": "ok", "dkim": "ok", "dmarc": "ok", "bimi": "none"},
        set(),
        {"spf": [shown(spf)], "dkim": [shown(dkim)], "dmarc": [dmarc]},
    )


def _strings255_case(r: Records) -> Case:
    """Records longer than one 255-byte string: joined without separators (RFC 7208 §3.3),
    with terms cut in the middle at the string boundaries."""
    d = "strings255.example"
    _base(r, d)
    spf = ("v=spf1 " + " ".join(f"ip4:192.0.2.{i}" for i in range(60)) + " -all").encode()
    rua = ",".join(f"mailto:reports-{i}@{d}" for i in range(20))
    dmarc = f"v=DMARC1; p=reject; rua={rua}".encode()
    assert len(spf) > 2 * 255 and len(dmarc) > 2 * 255
    r.add_txt(f"{d}.", spf)  # add_txt splits at 255 bytes
    r.add_txt(f"_dmarc.{d}.", dmarc)
    r.add_txt(f"esm._domainkey.{d}.", f"v=DKIM1; k=ed25519; p={KEY}")
    return Case(
        d,
        {"mx": "ok", "spf": "ok", "dkim": "ok", "dmarc": "ok", "bimi": "none"},
        set(),
        {"spf": [shown(spf)], "dmarc": [shown(dmarc)]},
    )


def _terms500_case(r: Records) -> Case:
    d = "terms500.example"
    _base(r, d)
    r.add_txt(f"{d}.", "v=spf1 " + " ".join(f"a:h{i}.{d}" for i in range(500)) + " -all")
    _good_dmarc(r, d)
    return Case(
        d,
        # 500 DNS-querying terms: far over the 10 of RFC 7208 §4.6.4.
        {"mx": "ok", "spf": "fail", "dkim": "fail", "dmarc": "ok", "bimi": "none"},
        {"spf.too-many-lookups", "dkim.missing"},
    )


def _loop_case(r: Records) -> Case:
    d = "loop.example"
    _base(r, d)
    r.add_txt(f"{d}.", f"v=spf1 include:a.{d} -all")
    r.add_txt(f"a.{d}.", f"v=spf1 include:b.{d} -all")
    r.add_txt(f"b.{d}.", f"v=spf1 include:{d} -all")
    _good_dmarc(r, d)
    return Case(
        d,
        {"mx": "ok", "spf": "fail", "dkim": "fail", "dmarc": "ok", "bimi": "none"},
        {"spf.include-loop"},
    )


def _redirect_loop_case(r: Records) -> Case:
    d = "rloop.example"
    _base(r, d)
    r.add_txt(f"{d}.", f"v=spf1 mx redirect=r.{d}")
    r.add_txt(f"r.{d}.", f"v=spf1 redirect={d}")
    _good_dmarc(r, d)
    return Case(
        d,
        {"mx": "ok", "spf": "fail", "dkim": "fail", "dmarc": "ok", "bimi": "none"},
        {"spf.include-loop"},
    )


def _deep_case(r: Records) -> Case:
    d = "deep.example"
    _base(r, d)
    r.add_txt(f"{d}.", f"v=spf1 include:c1.{d} -all")
    for i in range(1, 50):
        r.add_txt(f"c{i}.{d}.", f"v=spf1 include:c{i + 1}.{d} -all")
    r.add_txt(f"c50.{d}.", "v=spf1 ip4:192.0.2.1 -all")
    _good_dmarc(r, d)
    return Case(
        d,
        # 50 includes deep: 50 lookups; receivers stop at 10 (RFC 7208 §4.6.4).
        {"mx": "ok", "spf": "fail", "dkim": "fail", "dmarc": "ok", "bimi": "none"},
        {"spf.too-many-lookups"},
    )


def _cname_loop_case(r: Records) -> Case:
    """CNAME loops at every name a check asks.

    The DNS layer answers a CNAME loop with a Failure ("CNAME loop"), and the checks make
    that `unknown`, not `fail`. Why that is right (SPEC §4): a loop is not NXDOMAIN or
    NODATA, so there is no answer to judge; a recursive resolver answers such a chain with
    SERVFAIL, which receivers treat as a temporary error (SPF temperror), never as "no
    record". A red card would claim an answer nobody can get. The finding names the loop
    and says to fix the aliases (it is not "the record may be fine").
    """
    d = "cnameloop.example"
    r.add_zone(f"{d}.")
    r.add(f"{d}.", "MX", f"10 mx.{d}.")
    r.add(f"mx.{d}.", "CNAME", f"mx.{d}.")  # the MX host is an alias of itself
    r.add_txt(f"{d}.", f"v=spf1 include:spf.{d} -all")
    r.add(f"spf.{d}.", "CNAME", f"spf2.{d}.")
    r.add(f"spf2.{d}.", "CNAME", f"spf.{d}.")
    for name in (f"_dmarc.{d}.", f"esm._domainkey.{d}.", f"default._bimi.{d}."):
        r.add(name, "CNAME", name)
    return Case(
        d,
        {"mx": "unknown", "spf": "unknown", "dkim": "unknown", "dmarc": "unknown",
         "bimi": "unknown"},
        {"mx.dns-failure", "spf.dns-failure", "dkim.dns-failure", "dmarc.dns-failure"},
    )  # fmt: skip


def _self_mx_case(r: Records) -> Case:
    """The domain is its own MX host: legitimate (small sites do it)."""
    d = "selfmx.example"
    r.add_zone(f"{d}.")
    r.add(f"{d}.", "MX", f"10 {d}.")
    r.add(f"{d}.", "A", "192.0.2.20")
    r.add_txt(f"{d}.", "v=spf1 mx -all")
    r.add_txt(f"esm._domainkey.{d}.", f"v=DKIM1; k=ed25519; p={KEY}")
    _good_dmarc(r, d)
    return Case(d, {"mx": "ok", "spf": "ok", "dkim": "ok", "dmarc": "ok", "bimi": "none"}, set())


def _wildcard_case(r: Records) -> Case:
    """A wildcard TXT "v=spf1 -all" (common for subdomains that send no mail) answers at
    _dmarc, the DKIM selector and default._bimi too."""
    d = "wild.example"
    _base(r, d)
    r.add_txt(f"*.{d}.", "v=spf1 -all")
    r.add_txt(f"{d}.", f"v=spf1 include:spf.{d} -all")  # spf.wild.example is synthesized
    return Case(
        d,
        # DKIM: the configured selector holds "v=spf1 -all": v= is not DKIM1 (fail).
        # DMARC: no record starts with v=DMARC1: no DMARC record (fail).
        # BIMI: not expected, and the wildcard's record is no BIMI record: ignored (none),
        #       not a red card for an optional record.
        {"mx": "ok", "spf": "ok", "dkim": "fail", "dmarc": "fail", "bimi": "none"},
        {"dkim.version", "dmarc.not-dmarc1", "bimi.foreign-record"},
    )


def _wildcard_loop_case(r: Records) -> Case:
    d = "wloop.example"
    _base(r, d)
    r.add_txt(f"*.{d}.", f"v=spf1 include:x.{d} -all")  # every name includes x, x itself
    r.add_txt(f"{d}.", f"v=spf1 include:a.{d} -all")
    _good_dmarc(r, d)
    return Case(
        d,
        {"mx": "ok", "spf": "fail", "dkim": "fail", "dmarc": "ok", "bimi": "none"},
        {"spf.include-loop"},
    )


BUILDERS: list[Callable[[Records], Case]] = [
    *(lambda r, n=n, p=p: _payload_case(r, n, p) for n, p in PAYLOADS.items()),
    _big_case,
    _strings255_case,
    _terms500_case,
    _loop_case,
    _redirect_loop_case,
    _deep_case,
    _cname_loop_case,
    _self_mx_case,
    _wildcard_case,
    _wildcard_loop_case,
]


def _build() -> tuple[Records, dict[str, Case]]:
    records = Records()
    cases = [build(records) for build in BUILDERS]
    return records, {c.domain: c for c in cases}


RECORDS, CASES = _build()


@pytest.fixture(scope="module")
def server() -> Iterator[DnsServer]:
    with DnsServer(RECORDS) as srv:
        yield srv


# -- the real CLI ---------------------------------------------------------------------------


def _config(directory: Path, server: DnsServer) -> Path:
    path = directory / "config.toml"
    path.write_text(
        "[settings]\ntimeout = 1.0\nretries = 0\nhistory = false\n"
        f'nameservers = ["{server.address}"]\n'
        '[relay]\ndkim_selectors = ["esm"]\n',
        encoding="utf-8",
    )
    return path


@dataclass
class Run:
    returncode: int
    stdout: bytes
    stderr: str
    elapsed: float


def _run_check(config: Path, domains: list[str], *extra: str) -> Run:
    env = dict(os.environ)
    env.pop("ESM_TUI_CONFIG", None)
    start = time.monotonic()
    proc = subprocess.run(
        [*ESM, "check", "--config", str(config), *extra, *domains],
        capture_output=True,
        env=env,
        timeout=CLI_BOUND * 2,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr.decode(), time.monotonic() - start)


@pytest.fixture(scope="module")
def cli_runs(server: DnsServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Run]:
    """`check` (table) and `check --json` over every hostile domain at once."""
    config = _config(tmp_path_factory.mktemp("hostile"), server)
    domains = list(CASES)
    return _run_check(config, domains), _run_check(config, domains, "--json")


def test_cli_runs_end_in_time_without_a_traceback(cli_runs: tuple[Run, Run]) -> None:
    for run in cli_runs:
        assert run.elapsed < CLI_BOUND
        assert "Traceback" not in run.stderr and run.stderr == ""
        assert run.returncode == 2  # the worst status of all: fail


def test_the_table_holds_no_raw_control_character(cli_runs: tuple[Run, Run]) -> None:
    table = assert_terminal_safe(cli_runs[0].stdout)
    # Not vacuous: the hostile data is there, made visible.
    assert "\\x1b[2J" in table  # ESC of the ANSI payload, quoted in a finding
    assert "\\x1b]52;c;" in table  # the OSC 52 clipboard write, inert
    assert "[@click=app.quit]" in table  # markup is printed literally, not interpreted
    assert "\\u202e" in table  # the bidi override, visible
    assert "\\x00" in table and "\\x85" in table  # NUL and a C1 control
    for domain in CASES:
        assert any(line.startswith(domain) for line in table.splitlines())


@pytest.fixture(scope="module")
def doc(cli_runs: tuple[Run, Run]) -> dict[str, Any]:
    return json.loads(cli_runs[1].stdout.decode("utf-8"))


def test_the_json_parses_and_holds_no_lone_surrogate(doc: dict[str, Any]) -> None:
    assert doc["status"] == "fail"
    for text in _strings(doc):
        assert not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


@pytest.mark.parametrize("domain", list(CASES))
def test_statuses_and_raw_records_in_json(doc: dict[str, Any], domain: str) -> None:
    case = CASES[domain]
    [entry] = [e for e in doc["domains"] if e["domain"] == domain]
    checks = entry["checks"]
    assert {name: checks[name]["status"] for name in CHECK_NAMES} == case.statuses
    codes = {f["code"] for result in checks.values() for f in result["findings"]}
    assert case.codes <= codes
    assert not any(code.endswith(".internal-error") for code in codes)
    for check, expected in case.raw.items():
        assert sorted(checks[check]["records"]) == sorted(expected)


def test_the_json_record_round_trips_64k_exactly(doc: dict[str, Any]) -> None:
    [entry] = [e for e in doc["domains"] if e["domain"] == "big.example"]
    spf = entry["checks"]["spf"]
    assert spf["records"] == [shown(_big_spf("big.example"))]
    assert spf["details"]["record"] == spf["records"][0]
    assert len(spf["records"][0]) == 65025


def test_invalid_utf8_is_written_as_backslash_x(doc: dict[str, Any]) -> None:
    [entry] = [e for e in doc["domains"] if e["domain"] == "p-badutf8.example"]
    assert entry["checks"]["dmarc"]["records"] == [
        "v=DMARC1; p=\\xff\\xfe\\xc3(\\x80\\xc0\\xaf\\xed\\xa0\\x80"
    ]


def test_a_cname_loop_alone_exits_unknown(server: DnsServer, tmp_path: Path) -> None:
    run = _run_check(_config(tmp_path, server), ["cnameloop.example"], "--json")
    assert run.returncode == 3, run.stderr
    assert run.elapsed < CLI_BOUND and run.stderr == ""
    checks = json.loads(run.stdout)["domains"][0]["checks"]
    messages = [f["message"] for r in checks.values() for f in r["findings"]]
    assert any("CNAME loop" in m and "fix the CNAME records" in m for m in messages)


def test_history_of_hostile_domains_is_terminal_safe(server: DnsServer, tmp_path: Path) -> None:
    """With history on, what `check` stored comes back through `esm-tui history` safely."""
    config = _config(tmp_path, server)
    config.write_text(config.read_text().replace("history = false", "history = true"))
    domains = ["p-ansi.example", "p-osc52.example", "p-bidi.example"]
    run = _run_check(config, domains)
    assert run.returncode == 2 and run.stderr == ""
    for domain, extra in zip(domains, ([], [], ["--json"]), strict=True):
        out = subprocess.run(
            [*ESM, "history", "--config", str(config), *extra, domain],
            capture_output=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert out.stderr == b""
        text = assert_terminal_safe(out.stdout)
        if extra:
            json.loads(text)
        else:
            assert "DMARC" in text  # the stored timeline is there


def test_the_64k_domain_alone_is_ok(server: DnsServer, tmp_path: Path) -> None:
    run = _run_check(_config(tmp_path, server), ["big.example"])
    assert run.returncode == 0, run.stdout.decode() + run.stderr
    assert_terminal_safe(run.stdout)


# -- each check called directly: no exception escapes, bounded in time and queries ---------


@pytest.mark.parametrize("check", CHECK_NAMES)
@pytest.mark.parametrize("domain", list(CASES))
async def test_each_check_directly(server: DnsServer, domain: str, check: str) -> None:
    dns_client = Dns([server.server], timeout=1.0, retries=0)
    settings = DomainSettings(domain, dkim_selectors=("esm",))
    result = await asyncio.wait_for(
        registry()[check](settings, CheckContext(dns_client)), CHECK_BOUND
    )
    assert str(result.status) == CASES[domain].statuses[check]
    json.dumps(result.to_json())  # serializable, whatever came off the wire


async def test_500_terms_cost_a_bounded_number_of_queries(server: DnsServer) -> None:
    before = _asked(server, "terms500.example.")
    dns_client = Dns([server.server], timeout=1.0, retries=0)
    result = await registry()["spf"](DomainSettings("terms500.example"), CheckContext(dns_client))
    after = _asked(server, "terms500.example.")
    assert str(result.status) == "fail"
    # 500 a-terms would be 1,000 A/AAAA queries; the walk stops at its budget.
    assert after - before <= tree.MAX_QUERIES + 2


def _asked(server: DnsServer, suffix: str) -> int:
    return sum(n for (name, _), n in server.queries.items() if name.endswith(suffix))


async def test_a_deep_chain_is_not_followed_past_the_limit() -> None:
    """Every level of a chain is one more round trip: a slow zone made a 50-deep chain
    cost 50 of them. Past 10 levels the tree is over the limit whatever lies below."""
    records = Records()
    _deep_case(records)
    with DnsServer(records, delay=0.05) as srv:
        dns_client = Dns([srv.server], timeout=1.0, retries=0)
        result = await registry()["spf"](DomainSettings("deep.example"), CheckContext(dns_client))
        chain = sum(n for (name, _), n in srv.queries.items() if name.startswith("c"))
    assert str(result.status) == "fail"
    assert "spf.too-many-lookups" in {f.code for f in result.findings}
    assert chain <= tree.MAX_LOOKUPS


async def test_a_forest_of_huge_records_is_bounded() -> None:
    """60 includes of 300 mx terms each: ~18,000 names to ask without a budget (it took
    100 s and timed itself out into `unknown`). Now: a bounded walk and a definite fail."""
    r = Records()
    d = "forest.example"
    r.add_zone(f"{d}.")
    r.add_txt(f"{d}.", "v=spf1 " + " ".join(f"include:i{k}.{d}" for k in range(60)) + " -all")
    for k in range(60):
        r.add_txt(f"i{k}.{d}.", "v=spf1 " + " ".join(f"mx:h{k}x{j}.{d}" for j in range(300)))
    r.add(f"*.{d}.", "MX", *[f"10 m{j}.{d}." for j in range(10)])
    with DnsServer(r, memo=True) as srv:
        dns_client = Dns([srv.server], timeout=2.0, retries=0)
        result = await asyncio.wait_for(
            registry()["spf"](DomainSettings(d), CheckContext(dns_client)), 20
        )
        asked = sum(srv.queries.values())
    assert str(result.status) == "fail"
    codes = {f.code for f in result.findings}
    assert "spf.too-many-lookups" in codes and "spf.tree-truncated" in codes
    assert "spf.dns-failure" not in codes  # no self-inflicted timeouts
    assert asked <= tree.MAX_QUERIES + 80  # the budget, plus the include TXT fetches


def _ip4_record(limit: int) -> bytes:
    """A valid SPF record of ip4 terms (no lookups), as long as fits in `limit` bytes."""
    terms, size, j = [b"v=spf1"], 6, 0
    while True:
        term = b"ip4:10.%d.%d.0/24" % (j // 256 % 256, j % 256)
        if size + len(term) + 1 + len(b" -all") > limit:
            return b" ".join(terms) + b" -all"
        terms.append(term)
        size += len(term) + 1
        j += 1


async def test_huge_included_records_are_not_all_parsed() -> None:
    """60 includes of a 64 KiB record each: parsing them all stalled the event loop for
    seconds; past MAX_TEXT they are cut, and the verdict still stands (over the limit)."""
    r = Records()
    d = "heavy.example"
    r.add_zone(f"{d}.")
    body = _ip4_record(64_000)
    r.add_txt(f"{d}.", "v=spf1 " + " ".join(f"include:i{k}.{d}" for k in range(60)) + " -all")
    for k in range(60):
        r.add_txt(f"i{k}.{d}.", body)
    with DnsServer(r, memo=True) as srv:
        dns_client = Dns([srv.server], timeout=2.0, retries=0)
        result = await asyncio.wait_for(
            registry()["spf"](DomainSettings(d), CheckContext(dns_client)), 20
        )
    assert str(result.status) == "fail"
    truncated = [f for f in result.findings if f.code == "spf.tree-truncated"]
    assert any("KiB" in f.message for f in truncated)
    assert len(truncated) <= 2  # said once per reason, not once per include


async def test_a_cut_walk_without_a_definite_failure_is_unknown_not_green() -> None:
    """Two big includes within the lookup limit but over MAX_TEXT: the counts below the cut
    are not known, so the card must not be green."""
    r = Records()
    d = "twobig.example"
    r.add_zone(f"{d}.")
    body = _ip4_record(64_000)
    r.add_txt(f"{d}.", f"v=spf1 include:a.{d} include:b.{d} include:c.{d} -all")
    for k in "abc":
        r.add_txt(f"{k}.{d}.", body)
    with DnsServer(r) as srv:
        dns_client = Dns([srv.server], timeout=2.0, retries=0)
        result = await registry()["spf"](DomainSettings(d), CheckContext(dns_client))
    assert str(result.status) == "unknown"
    assert {f.code for f in result.findings} >= {"spf.tree-truncated"}


async def test_a_wildcard_at_bimi_is_still_red_when_bimi_is_expected(server: DnsServer) -> None:
    """The wildcard's record is only ignored for a domain that does not ask for BIMI."""
    dns_client = Dns([server.server], timeout=1.0, retries=0)
    settings = DomainSettings("wild.example", bimi_expected=True)
    result = await registry()["bimi"](settings, CheckContext(dns_client))
    assert str(result.status) == "fail"
    assert "bimi.not-bimi1" in {f.code for f in result.findings}
