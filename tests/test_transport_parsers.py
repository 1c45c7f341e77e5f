"""The MTA-STS and TLS-RPT grammars (RFC 8461 §3.1–3.2, §4.1; RFC 8460 §3), rule by rule,
the fix builders, the fetch's deadline, and property tests: the TXT and policy parsers
take attacker-controlled text and must never raise anything but their own error.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esm_tui.checks.mta_sts.fetch import FetchError, fetch_policy
from esm_tui.checks.mta_sts.fix import proposed_policy
from esm_tui.checks.mta_sts.policy import matches, parse_policy, uncovered, valid_pattern
from esm_tui.checks.tls_rpt import split_uris, uri_finding
from esm_tui.checks.transport_txt import TxtSyntaxError, parse, starts_with

# -- the TXT records --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "v=STSv1; id=20160831085700Z;",
        "v=STSv1;id=abc",
        "v=STSv1 ; id=abc ; ext.name-1=x",
    ],
)
def test_valid_mta_sts_records(text: str) -> None:
    assert parse(text, "v=STSv1").first("id") is not None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("v=STSv1", "no field"),
        ("v=STSv1; id", 'no "="'),
        ("v=STSv1; id=", "empty"),
        ("v=STSv1; id=a b", "empty or holds"),
        ("v=STSv1;; id=a", "empty field"),
        ("v=STSv1; -id=a", "invalid name"),
        ("v=STSv1; id=a=b", "empty or holds"),
        (" v=STSv1; id=a", "space before"),
    ],
)
def test_invalid_mta_sts_records(text: str, why: str) -> None:
    with pytest.raises(TxtSyntaxError) as err:
        parse(text, "v=STSv1")
    assert why in err.value.reason


def test_the_version_is_case_sensitive_and_must_come_first() -> None:
    assert starts_with("v=STSv1; id=1", "v=STSv1")
    assert not starts_with("V=stsv1; id=1", "v=STSv1")
    assert not starts_with("id=1; v=STSv1", "v=STSv1")
    assert not starts_with("v=STSv10; id=1", "v=STSv1")


def test_tls_rpt_rua_may_list_uris_with_spaces_around_commas() -> None:
    record = parse("v=TLSRPTv1; rua=mailto:a@x.example , https://r.example/t", "v=TLSRPTv1",
                   ("rua",))  # fmt: skip
    assert split_uris(record.first("rua") or "") == ["mailto:a@x.example", "https://r.example/t"]
    # Only rua may hold spaces: elsewhere a space is not in the grammar.
    with pytest.raises(TxtSyntaxError):
        parse("v=TLSRPTv1; ext=a , b", "v=TLSRPTv1", ("rua",))


@pytest.mark.parametrize(
    ("uri", "code"),
    [
        ("mailto:tls@example.com", None),
        ("https://reports.example.com/tls", None),
        ("mailto:tls+reports@example.com", None),
        ("http://reports.example.com/tls", "tls_rpt.uri-not-https"),
        ("ftp://reports.example.com", "tls_rpt.uri-scheme"),
        ("mailto:not-an-address", "tls_rpt.uri-invalid"),
        ("https:///no-host", "tls_rpt.uri-invalid"),
        ("reports.example.com", "tls_rpt.uri-invalid"),
    ],
)
def test_tls_rpt_report_uris(uri: str, code: str | None) -> None:
    finding = uri_finding(uri)
    assert (finding.code if finding else None) == code


# -- the policy file --------------------------------------------------------------------


def test_a_policy_with_crlf_lf_and_extensions() -> None:
    policy = parse_policy(
        "version: STSv1\r\nmode: enforce\nmx: mail.example.com\r\nmx: *.example.net\n"
        "max_age:86400\r\nx-vendor: anything goes\r\n"
    )
    assert policy.usable, policy.problems
    assert (policy.version, policy.mode, policy.max_age) == ("STSv1", "enforce", 86400)
    assert policy.mx == ["mail.example.com", "*.example.net"]
    assert policy.extensions == ["x-vendor"]


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n", "policy-version"),
        ("version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1\n", "policy-mode"),
        ("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n", "policy-max-age"),
        ("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n", "policy-max-age"),
        ("version: STSv1\nmode: enforce\nmx: a.example\n", "policy-syntax"),
        ("version: STSv1\nmode: enforce\nmax_age: 86400\n", "policy-no-mx"),
        ("version: STSv1\nmode: enforce\nmx: *\nmax_age: 86400\n", "mx-pattern-invalid"),
        ("version: STSv1\nmode: enforce\nmx: a.*.example\nmax_age: 86400\n", "mx-pattern-invalid"),
        ("version: STSv1\nmode enforce\nmx: a.example\nmax_age: 86400\n", "policy-syntax"),
        ("<html><body>It works!</body></html>\n", "policy-syntax"),
    ],
)
def test_policies_senders_discard(text: str, slug: str) -> None:
    policy = parse_policy(text)
    assert not policy.usable
    assert slug in [p.slug for p in policy.problems if p.fatal]


def test_mode_none_needs_no_mx_and_repeats_blank_lines_only_warn() -> None:
    assert parse_policy("version: STSv1\nmode: none\nmax_age: 86400\n").usable
    policy = parse_policy("version: STSv1\nmode: enforce\n\nmode: testing\nmx: a.example\n"
                          "max_age: 86400\n")  # fmt: skip
    assert policy.usable and policy.mode == "enforce"  # the first one
    assert {p.slug for p in policy.problems} == {"policy-repeated-field", "policy-blank-line"}


@pytest.mark.parametrize(
    ("pattern", "host", "expected"),
    [
        ("mail.example.com", "mail.example.com.", True),
        ("MAIL.example.com", "mail.EXAMPLE.com", True),
        ("*.example.com", "mx1.example.com", True),
        ("*.example.com", "a.b.example.com", False),  # one label only (§4.1)
        ("*.example.com", "example.com", False),
        ("mail.example.com", "mail.example.com.evil", False),
    ],
)
def test_mx_patterns_match_as_rfc_8461_section_4_1(pattern: str, host: str, expected: bool) -> None:
    assert matches(pattern, host) is expected


def test_invalid_patterns_cover_nothing() -> None:
    assert not valid_pattern("*")
    assert uncovered(["*", "com"], ["mail.example.com"]) == ["mail.example.com"]


def test_the_proposed_policy_keeps_patterns_adds_hosts_and_the_relay() -> None:
    policy = parse_policy("version: STSv1\nmode: enforce\nmx: old.example.com\nmax_age: 1209600\n")
    text = proposed_policy(policy, ["mx1.relay.example", "old.example.com"], ("*.relay.example",))
    assert text == (
        "version: STSv1\r\nmode: enforce\r\nmx: old.example.com\r\nmx: mx1.relay.example\r\n"
        "mx: *.relay.example\r\nmax_age: 1209600\r\n"
    )
    # What it proposes is itself a valid policy that covers every MX host.
    again = parse_policy(text)
    assert again.usable and uncovered(again.mx, ["mx1.relay.example", "old.example.com"]) == []


def test_a_new_policy_starts_in_testing_with_a_week() -> None:
    text = proposed_policy(None, ["mx.example.com"], ())
    assert "mode: testing\r\n" in text and "max_age: 604800\r\n" in text


# -- the fetch's deadline ------------------------------------------------------------------


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts and never says a word (a stuck web server)."""
    listener = socket.create_server(("127.0.0.1", 0))  # the kernel completes the connect
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


async def test_a_stuck_policy_server_is_a_timeout_not_a_verdict(silent_server: int) -> None:
    start = time.monotonic()
    outcome = await asyncio.wait_for(
        fetch_policy("stuck.example", ["127.0.0.1"], port=silent_server, deadline=0.5), 10
    )
    assert isinstance(outcome, FetchError)
    assert outcome.slug == "policy-unreachable" and not outcome.definite
    assert "timed out" in outcome.reason or "no answer within" in outcome.reason
    assert time.monotonic() - start < 5  # the deadline held, not the socket's default


# -- properties ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_the_txt_parser_raises_only_its_own_error(tail: str) -> None:
    for version, spaced in (("v=STSv1", ()), ("v=TLSRPTv1", ("rua",))):
        with contextlib.suppress(TxtSyntaxError):
            parse(f"{version}; {tail}", version, spaced)


@settings(max_examples=300, deadline=None)
@given(st.text(), st.lists(st.text(max_size=40), max_size=5))
def test_the_policy_parser_never_raises(text: str, hosts: list[str]) -> None:
    policy = parse_policy(text)
    assert isinstance(policy.usable, bool)
    uncovered(policy.mx, hosts)
    assert parse_policy(proposed_policy(policy, [], ())).version == "STSv1"
