"""Every parser of untrusted text does linear work on the longest record DNS can carry.

Each parser gets 64 KB inputs built from the shapes that make a backtracking matcher or a
quadratic loop blow up (tests/hostile_inputs.py: long runs of `:`, `.`, `%`, `{`, `-`,
`=`, `;`, `,`, spaces… ending in a character the grammar rejects). Linear work on 64 KB
is a few milliseconds; the budget per call is one second of CPU (`time.process_time`,
so a loaded machine's waiting does not count), about a thousand times that: a linear
parser passes on any machine, the backtracking one of issue 19 took 25 s on 30,000 colons.
The hypothesis test draws run shapes and lengths the fixed list does not have.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.NS
import pytest
from hostile_inputs import BAD_ENDS, RUNS, SIZE, runs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esm_tui.checks.bimi_parse import https_url_problem, parse_bimi
from esm_tui.checks.dkim.keys import decode_key
from esm_tui.checks.dkim.parse import parse_dkim
from esm_tui.checks.dmarc.parse import parse_dmarc, parse_report_uri
from esm_tui.checks.mta_sts.policy import parse_policy, uncovered
from esm_tui.checks.tls_rpt import split_uris, uri_finding
from esm_tui.checks.transport_txt import parse as parse_transport_txt
from esm_tui.config.names import mx_pattern, normalize_domain, normalize_selector
from esm_tui.dns.reply import RRs
from esm_tui.spf.macros import parse_domain_spec, parse_macro_string
from esm_tui.spf.parse import parse_lenient
from esm_tui.text import display_safe

#: CPU seconds one parse of a 64 KB input may take (~1,000× the linear cost).
BUDGET = 1.0


def _tolerant(parse: Callable[[str], object]) -> Callable[[str], object]:
    """Rejecting the input is fine (that is the point); only the time is judged."""

    def call(text: str) -> object:
        try:
            return parse(text)
        except Exception as exc:  # noqa: BLE001 - each parser's own error type
            return exc

    return call


#: (name, parse): every parser of DNS data or user-typed names, given the text a record
#: would carry after its fixed prefix (the prefix is where each grammar's repetition starts).
PARSERS: dict[str, Callable[[str], object]] = {
    "spf terms": lambda t: parse_lenient("v=spf1 " + t),
    "spf a:": lambda t: parse_lenient("v=spf1 a:" + t),
    "spf include:": lambda t: parse_lenient("v=spf1 include:" + t),
    "spf ip6:": lambda t: parse_lenient("v=spf1 ip6:" + t),
    "spf redirect=": lambda t: parse_lenient("v=spf1 redirect=" + t),
    "spf exp=": lambda t: parse_lenient("v=spf1 exp=" + t),
    "spf domain-spec": _tolerant(parse_domain_spec),
    "spf macro-string": _tolerant(lambda t: parse_macro_string(t, spaces=True)),
    "dmarc tags": _tolerant(lambda t: parse_dmarc("v=DMARC1; " + t)),
    "dmarc rua": _tolerant(lambda t: parse_dmarc("v=DMARC1; p=none; rua=" + t)),
    "dmarc uri": _tolerant(parse_report_uri),
    "dkim tags": _tolerant(lambda t: parse_dkim("v=DKIM1; " + t)),
    "dkim p=": _tolerant(lambda t: parse_dkim("v=DKIM1; k=rsa; p=" + t)),
    "dkim key rsa": _tolerant(lambda t: decode_key("rsa", t)),
    "dkim key ed25519": _tolerant(lambda t: decode_key("ed25519", t)),
    "bimi tags": _tolerant(lambda t: parse_bimi("v=BIMI1; " + t)),
    "bimi l=": _tolerant(lambda t: parse_bimi("v=BIMI1; l=" + t)),
    "bimi url": _tolerant(https_url_problem),
    "mta-sts txt": _tolerant(lambda t: parse_transport_txt("v=STSv1; " + t, "v=STSv1")),
    "mta-sts policy": lambda t: parse_policy("version: STSv1\nmode: enforce\nmx: " + t),
    "mta-sts policy lines": lambda t: parse_policy(t.replace(";", "\n")),
    "mta-sts mx match": lambda t: uncovered([t, "*." + t], [t, "a." + t]),
    "tls-rpt txt": _tolerant(
        lambda t: parse_transport_txt("v=TLSRPTv1; rua=" + t, "v=TLSRPTv1", ("rua",))
    ),
    "tls-rpt uris": lambda t: [uri_finding(u) for u in split_uris(t)],
    "config domain": _tolerant(normalize_domain),
    "config selector": _tolerant(normalize_selector),
    "config mx pattern": _tolerant(mx_pattern),
    "display": display_safe,
}

#: The shapes worth trying per parser: every run with one bad end, and every end of the
#: runs a grammar repeats most (colons, dots, percent signs): 28 inputs per parser.
CASES = [(label, text) for label, text in runs() if text.endswith(BAD_ENDS[0])] + [
    (label, text) for label, text in runs() if label.startswith(("':'", "'.'", "'%'"))
]


def _cpu(parse: Callable[[str], object], text: str) -> float:
    start = time.process_time()
    parse(text)
    return time.process_time() - start


@pytest.mark.parametrize("name", list(PARSERS))
def test_each_parser_is_linear_on_64_kb_runs(name: str) -> None:
    parse = PARSERS[name]
    slow = {label: cost for label, text in CASES if (cost := _cpu(parse, text)) > BUDGET}
    assert not slow, f"{name}: over {BUDGET} s of CPU on {slow}"


def test_the_cases_are_as_long_as_a_record_can_be() -> None:
    assert len(CASES) >= len(RUNS)
    assert all(SIZE - 8 <= len(text) <= SIZE for _, text in CASES)


def test_the_issue_19_record_is_rejected_in_linear_time() -> None:
    """`v=spf1 a:` + 30,000 colons + `x -all`: 25 s before (a backtracking fullmatch)."""
    record = "v=spf1 a:" + ":" * 30_000 + "x -all"
    start = time.process_time()
    parsed, errors = parse_lenient(record)
    assert time.process_time() - start < BUDGET
    assert errors and "a:" in errors[0][0]  # the bad term is named, the rest still parsed
    assert [term.text for term in parsed.terms][-1:] == ["-all"]


def test_a_reply_with_many_records_is_deduplicated_in_linear_time() -> None:
    """dns/reply.RRs drops duplicate records of an RRset; 1,000 NS took 2 s pairwise."""
    records = RRs(dns.name.from_text("example.com."), dns.rdataclass.IN, dns.rdatatype.NS, 300)
    start = time.process_time()
    for i in range(2000):  # the second thousand repeats the first, in another case
        target = f"NS{i % 1000}.Example.NET." if i >= 1000 else f"ns{i}.example.net."
        rdata = dns.rdtypes.ANY.NS.NS(
            dns.rdataclass.IN, dns.rdatatype.NS, dns.name.from_text(target)
        )
        records.add(rdata, rdata.to_wire(), 300)
    assert time.process_time() - start < BUDGET
    assert len(records) == 1000  # names compare case-insensitively (RFC 4343)


_RUN = st.sampled_from([*RUNS, "a.b", "%%", "%-", "%_", "{d", "a:b", "0:", ". ", ";="])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    run=_RUN,
    length=st.integers(1_000, SIZE),
    end=st.sampled_from([*BAD_ENDS, "", ".", ":", "%", "="]),
    name=st.sampled_from(list(PARSERS)),
)
def test_long_runs_drawn_by_hypothesis_stay_linear(
    run: str, length: int, end: str, name: str
) -> None:
    text = (run * (length // len(run) + 1))[:length] + end
    assert _cpu(PARSERS[name], text) < BUDGET
