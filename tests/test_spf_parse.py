"""The SPF record parser: RFC 7208 syntax, positions of errors, and totality (hypothesis)."""

from __future__ import annotations

import contextlib
import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esm_tui.spf.errors import SpfSyntaxError
from esm_tui.spf.macros import parse_domain_spec, parse_macro_string
from esm_tui.spf.parse import (
    Mechanism,
    Modifier,
    is_spf_record,
    parse_lenient,
    parse_spf,
    parse_term,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v=spf1", True),
        ("v=spf1 -all", True),
        ("V=SpF1 ~all", True),
        ("v=spf10", False),
        ("v=spf1mx", False),  # strings glued without a space (RFC 7208 §3.3, §4.5)
        ("v=spf1\tmx", False),
        ("spf1 -all", False),
        (" v=spf1 -all", False),
    ],
)
def test_record_selection_by_version(text: str, expected: bool) -> None:
    assert is_spf_record(text) is expected


def test_every_mechanism_and_modifier() -> None:
    record = parse_spf(
        "v=spf1 +a -mx:mail.example.com/24//64 ~ptr ?ip4:192.0.2.0/24 ip6:2001:db8::/32 "
        "include:_spf.example.net exists:%{ir}.%{v}._spf.%{d2} redirect=_spf.example.org "
        "exp=explain.%{d} x-custom=hello -all"
    )
    names = [t.name for t in record.terms]
    assert names == [
        "a", "mx", "ptr", "ip4", "ip6", "include", "exists", "redirect", "exp", "x-custom", "all"
    ]  # fmt: skip
    mx = record.mechanisms[1]
    assert (mx.qualifier, mx.result, mx.cidr4, mx.cidr6) == ("-", "fail", 24, 64)
    assert mx.domain_spec is not None and mx.domain_spec.text == "mail.example.com"
    assert record.mechanisms[3].network == ipaddress.ip_network("192.0.2.0/24")
    assert record.mechanisms[0].result == "pass"
    assert record.redirect is not None and record.redirect.value.text == "_spf.example.org"
    assert record.exp is not None and record.exp.value.letters == frozenset("d")
    assert [m.name for m in record.unknown_modifiers] == ["x-custom"]
    assert record.all is not None and record.all.text == "-all"


def test_names_are_case_insensitive_and_positions_kept() -> None:
    record = parse_spf("v=spf1  IP4:192.0.2.1 Include:Example.COM REDIRECT=example.net")
    assert [(t.name, t.position) for t in record.terms] == [
        ("ip4", 8),
        ("include", 22),
        ("redirect", 42),
    ]
    assert isinstance(record.terms[2], Modifier)


@pytest.mark.parametrize(
    ("record", "position", "ref"),
    [
        ("v=spf1 foo -all", 7, "RFC 7208 §5"),  # unknown mechanism
        ("v=spf1 ip4:1.2.3.4 -all moo", 24, "RFC 7208 §5"),  # errors anywhere, even after all
        ("v=spf1 redirect:example.com", 7, "RFC 7208 §5"),  # redirect is a modifier
        ("v=spf1 1up=foo", 7, "RFC 7208 §4.6.1"),  # modifier names start with a letter
        ("v=spf1 =all", 7, "RFC 7208 §4.6.1"),
        ("v=spf1 -all.", 11, "RFC 7208 §5.1"),
        ("v=spf1 all:x", 10, "RFC 7208 §5.1"),
        ("v=spf1 ip4:192.0.2.0/33", 21, "RFC 7208 §5.6"),  # bad CIDR
        ("v=spf1 ip4:192.0.2.0/032", 21, "RFC 7208 §5.6"),
        ("v=spf1 ip6:2001:db8::/129", 22, "RFC 7208 §5.6"),
        ("v=spf1 ip4:192.0.2.0//24", 21, "RFC 7208 §5.6"),  # dual-cidr only for a and mx
        ("v=spf1 ip4:192.0.2", 11, "RFC 7208 §5.6"),
        ("v=spf1 ip4:192.0.2.01", 11, "RFC 7208 §5.6"),
        ("v=spf1 ip6:fe80::1%eth0", 11, "RFC 7208 §5.6"),
        ("v=spf1 a/33", 9, "RFC 7208 §5.3"),
        ("v=spf1 mx//129", 11, "RFC 7208 §5.4"),
        ("v=spf1 a/24/64", 8, "RFC 7208 §5.3"),
        ("v=spf1 ptr/24", 10, "RFC 7208 §5.5"),
        ("v=spf1 include:", 15, "RFC 7208 §4.8"),
        ("v=spf1 include", 14, "RFC 7208 §5.2"),
        ("v=spf1 exists:example.com/24", 22, "RFC 7208 §7.1"),
        ("v=spf1 a:192.0.2.1", 9, "RFC 7208 §7.1"),  # all-numeric top label
        ("v=spf1 a:example.-com", 17, "RFC 7208 §7.1"),
        ("v=spf1 a:museum.", 9, "RFC 7208 §7.1"),
        ("v=spf1 exists:%{x}.example.com", 14, "RFC 7208 §7.2"),  # bad macro letter
        ("v=spf1 exists:%{ir.example.com", 14, "RFC 7208 §7.1"),  # unclosed
        ("v=spf1 exists:%(ir).example.com", 14, "RFC 7208 §7.1"),
        ("v=spf1 exists:%{d0}.example.com", 14, "RFC 7208 §7.3"),
        ("v=spf1 exists:%{l2r*}.example.com", 14, "RFC 7208 §7.1"),
        ("v=spf1 exp=%{r}.example.com", 11, "RFC 7208 §7.2"),  # c, r, t: only in exp text
        ("v=spf1 foo=%abc", 11, "RFC 7208 §7.1"),  # unknown modifiers need valid macros
        ("v=spf1 redirect=a.example redirect=b.example", 26, "RFC 7208 §6"),
        ("v=spf1 exp=a.example -all exp=b.example", 26, "RFC 7208 §6"),
        ("v=spf1 redirect=", 16, "RFC 7208 §6.1"),
        ("v=spf1 exp=-all", 11, "RFC 7208 §7.1"),
        ("v=spf1 a:ctrl.example.com\rptr -all", 25, "RFC 7208 §7.1"),
        ("v=spf1 a:caf\u00e9.example.com", 12, "RFC 7208 §7.1"),  # 7-bit ASCII only
        ("v=spf1 a:\udc80.example.com", 9, "RFC 7208 §7.1"),  # an undecodable byte
        ("v=spf10", 0, "RFC 7208 §4.5"),
    ],
)
def test_syntax_errors_have_position_and_reference(record: str, position: int, ref: str) -> None:
    with pytest.raises(SpfSyntaxError) as caught:
        parse_spf(record)
    assert (caught.value.position, caught.value.ref) == (position, ref)
    # Messages escape what is not printable (DNS data is untrusted).
    assert str(caught.value).isprintable()
    assert "\udc80" not in str(caught.value) and "\u00e9" not in str(caught.value)


@pytest.mark.parametrize(
    "record",
    [
        "v=spf1",  # empty: neutral
        "v=spf1 -all ",  # trailing space allowed
        "v=spf1 a  -all",  # several spaces
        "v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all",  # unknown modifier ignored
        "v=spf1 default=+",
        "v=spf1 a:foo:bar/baz.example.com",  # any visible character but %
        "v=spf1 a:foo.example.xn--zckzah -all",  # dashes in a top label
        "v=spf1 a:foo.example.com/24 mx//0 a/24//64",
        "v=spf1 ip4:0.0.0.0/0 ip6:::/0 ip6:::FFFF:1.2.3.4",
        "v=spf1 exists:%{i}.%{l2r-}.user.%{d2} a:%{H}",  # ends in a macro
        "v=spf1 a:macro%%percent%_%_space%-url-space.example.com",
        "v=spf1 redirect=%{d}.d.spf.example.com.",
        "v=spf1 exists:%{p}.%%",  # %% is a macro-expand, a valid domain-end
        "v=spf1 exp=explain._spf.%{d} -all",
    ],
)
def test_valid_records(record: str) -> None:
    assert parse_spf(record).text == record


def test_lenient_parse_keeps_valid_terms_and_lists_errors() -> None:
    record, errors = parse_lenient(
        "v=spf1 a:192.0.2.1 include:_spf.example.net ptr redirect=a.example redirect=b.example"
    )
    assert [t.text for t in record.terms] == [
        "include:_spf.example.net",
        "ptr",
        "redirect=a.example",
    ]
    assert [token for token, _ in errors] == ["a:192.0.2.1", "redirect=b.example"]
    assert "ip4:" in errors[0][1].message  # the hint for an address in a name mechanism


def test_parse_term_alone() -> None:
    term = parse_term("~include:_spf.example.com", 7)
    assert isinstance(term, Mechanism) and (term.qualifier, term.position) == ("~", 7)


def test_domain_spec_and_macro_string_rules() -> None:
    assert parse_domain_spec("%{d}").letters == frozenset("d")
    assert parse_domain_spec("_spf.example.com.").is_static
    assert parse_macro_string("%{c} is %{t} ", spaces=True).letters == frozenset("ct")
    with pytest.raises(SpfSyntaxError):
        parse_macro_string("a b")  # a space only in explanation text
    with pytest.raises(SpfSyntaxError):
        parse_domain_spec("%{d}com")


# -- totality: the parser raises SpfSyntaxError or nothing -------------------------------

FRAGMENTS = st.sampled_from(
    [
        "v=spf1", " ", "  ", "+", "-", "~", "?", "all", "a", "mx", "ptr", "ip4", "ip6",
        "include", "exists", "redirect", "exp", ":", "=", "/", "//", "%", "%{", "}", "%%",
        "%_", "%-", "d", "i", "r", "l2r-", "0", "24", "33", "129", "999999", ".", "..", "-",
        "example.com", "192.0.2.1", "2001:db8::", "::", "\x00", "\t", "\r", "é", "\udc80",
        "\u202e", "x-y.z", "1",
    ]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_parser_is_total_on_any_text(text: str) -> None:
    for candidate in (text, "v=spf1 " + text):
        try:
            parse_spf(candidate)
        except SpfSyntaxError as exc:
            assert 0 <= exc.position <= len(candidate)


@settings(max_examples=300, deadline=None)
@given(st.lists(FRAGMENTS, max_size=24).map("".join))
def test_parser_is_total_on_spf_like_text(tail: str) -> None:
    text = "v=spf1 " + tail
    try:
        record = parse_spf(text)
    except SpfSyntaxError as exc:
        assert 0 <= exc.position <= len(text)
        return
    # Whatever parsed is consistent: every term came from the text at its position.
    for term in record.terms:
        assert text[term.position : term.position + len(term.text)] == term.text


@settings(max_examples=200, deadline=None)
@given(st.text(), st.booleans())
def test_macro_parsers_are_total(text: str, spaces: bool) -> None:
    for parse in (lambda t: parse_macro_string(t, spaces=spaces), parse_domain_spec):
        with contextlib.suppress(SpfSyntaxError):
            parse(text)


LABEL = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
DOMAIN = st.lists(LABEL, min_size=2, max_size=4).map(".".join)
QUALIFIER = st.sampled_from(["", "+", "-", "~", "?"])
VALID_TERM = st.one_of(
    st.builds(lambda q, d: f"{q}include:{d}", QUALIFIER, DOMAIN),
    st.builds(lambda q, d: f"{q}exists:{d}", QUALIFIER, DOMAIN),
    st.builds(
        lambda q, d, c4, c6: (
            f"{q}a{':' + d if d else ''}{f'/{c4}' if c4 is not None else ''}"
            f"{f'//{c6}' if c6 is not None else ''}"
        ),
        QUALIFIER,
        st.none() | DOMAIN,
        st.none() | st.integers(0, 32),
        st.none() | st.integers(0, 128),
    ),
    st.builds(
        lambda q, a, c: f"{q}ip4:{a}/{c}", QUALIFIER, st.ip_addresses(v=4), st.integers(0, 32)
    ),
    st.builds(
        lambda q, a, c: f"{q}ip6:{a}/{c}", QUALIFIER, st.ip_addresses(v=6), st.integers(0, 128)
    ),
    st.builds(lambda n, v: f"x{n}={v}", LABEL, DOMAIN),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(VALID_TERM, max_size=12), QUALIFIER)
def test_generated_valid_records_parse(terms: list[str], qualifier: str) -> None:
    text = " ".join(["v=spf1", *terms, f"{qualifier}all"])
    record = parse_spf(text)
    assert [t.text for t in record.terms] == [*terms, f"{qualifier}all"]
