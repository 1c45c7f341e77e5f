"""RFC 7208 §7 macro expansion, with the examples of §7.4, and target-name rules."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esm_tui.spf.errors import SpfSyntaxError
from esm_tui.spf.macros import (
    MacroEnv,
    expand,
    parse_domain_spec,
    parse_macro_string,
    query_name,
    valid_initial_domain,
)


def _env(ip: str = "192.0.2.3", **kwargs: object) -> MacroEnv:
    async def validated() -> str:
        return "mx.example.com"

    values: dict = {
        "sender": "strong-bad@email.example.com",
        "domain": "email.example.com",
        "ip": ipaddress.ip_address(ip),
        "helo": "mta.example.org",
        "validated_name": validated,
        "now": lambda: 1700000000.5,
    }
    values.update(kwargs)
    return MacroEnv(**values)


@pytest.mark.parametrize(
    ("macro", "expected"),
    [
        # RFC 7208 §7.4, <sender> strong-bad@email.example.com, <ip> 192.0.2.3
        ("%{s}", "strong-bad@email.example.com"),
        ("%{o}", "email.example.com"),
        ("%{d}", "email.example.com"),
        ("%{d4}", "email.example.com"),
        ("%{d3}", "email.example.com"),
        ("%{d2}", "example.com"),
        ("%{d1}", "com"),
        ("%{dr}", "com.example.email"),
        ("%{d2r}", "example.email"),
        ("%{l}", "strong-bad"),
        ("%{l-}", "strong.bad"),
        ("%{lr}", "strong-bad"),
        ("%{lr-}", "bad.strong"),
        ("%{l1r-}", "strong"),
        ("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"),
        ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
        ("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"),
        ("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"),
        ("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"),
        # the rest of §7.2/§7.3
        ("%{h}", "mta.example.org"),
        ("%{p}", "mx.example.com"),
        ("%{c}", "192.0.2.3"),
        ("%{r}", "unknown"),
        ("%{t}", "1700000000"),
        ("%%%_%-", "% %20"),
        ("%{l2r+-}", "bad.strong"),
        ("%{d999}", "email.example.com"),
    ],
)
async def test_rfc7208_examples(macro: str, expected: str) -> None:
    assert await expand(parse_macro_string(macro), _env()) == expected


async def test_ipv6_macros() -> None:
    env = _env("2001:db8::cb01")
    # §7.4's example; the nibbles are upper-case like the reference implementation's
    # (the RFC 7208 suite's v-macro-ip6 case expects them so); DNS ignores the case.
    result = await expand(parse_macro_string("%{ir}.%{v}._spf.%{d2}"), env)
    assert result.lower() == (
        "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"
    )
    assert await expand(parse_macro_string("%{c}"), env) == "2001:db8::cb01"


async def test_upper_case_letters_are_url_escaped() -> None:
    env = _env(sender="~jack&jill=up-a_b3.c@example.com")
    assert await expand(parse_macro_string("%{L}"), env) == "~jack%26jill%3Dup-a_b3.c"
    assert (
        await expand(parse_macro_string("%{S}"), _env(sender="a b@x.example"))
        == "a%20b%40x.example"
    )


async def test_missing_local_part_is_postmaster() -> None:
    env = _env(sender="@example.net")
    assert await expand(parse_macro_string("%{l}|%{s}|%{o}"), env) == (
        "postmaster|postmaster@example.net|example.net"
    )


def test_exp_only_letters_rejected_in_domain_specs() -> None:
    for letter in "crt":
        with pytest.raises(SpfSyntaxError):
            parse_domain_spec(f"%{{{letter}}}.example.com")
        assert parse_macro_string(f"%{{{letter}}}").letters == {letter}


@pytest.mark.parametrize(
    ("expanded", "name"),
    [
        ("example.com.", "example.com"),
        ("mail.example...com", None),  # empty label: no query can be made
        ("a" * 64 + ".example.com", None),
        ("caf\u00e9.example", None),
        # §7.3: over 253 characters, labels go from the left until it fits
        ("x." * 130 + "example.com", ("x." * 121 + "example.com")),
    ],
)
def test_query_name(expanded: str, name: str | None) -> None:
    assert query_name(expanded) == name
    if name is not None:
        assert len(name) <= 253


@pytest.mark.parametrize(
    ("domain", "valid"),
    [
        ("example.com", True),
        ("example.com.", True),
        ("A2345678", False),  # not multi-label
        ("[192.0.2.1]", False),  # a domain literal
        ("192.0.2.1", False),
        ("::ffff:192.0.2.1", False),  # an IPv6 address, its last label digits
        ("fe80::1%eth0.lan", False),  # an IPv6 address whose scope has a dot
        ("a:b.example.com", True),  # a colon alone makes no address
        ("a..example.com", False),
        ("a" * 64 + ".example.com", False),
    ],
)
def test_initial_domain(domain: str, valid: bool) -> None:
    assert valid_initial_domain(domain) is valid


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40), st.text(max_size=20), st.text(max_size=20))
async def test_expansion_never_raises(spec: str, local: str, helo: str) -> None:
    try:
        parsed = parse_macro_string(spec, spaces=True)
    except SpfSyntaxError:
        return
    expanded = await expand(parsed, _env(sender=f"{local}@example.com", helo=helo))
    query_name(expanded)  # total as well


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("ab.-_%{}dD1r ~\x7f\x1fé")), max_size=16),
    st.booleans(),
)
def test_scan_fast_path_is_the_character_scan(text: str, spaces: bool) -> None:
    """The shortcut for macro-free visible ASCII gives what the per-character scan gives."""
    from esm_tui.spf.macros import ALL_LETTERS, _scan, _scan_chars

    def run(scan: object) -> object:
        try:
            return scan(text, 3, ALL_LETTERS, spaces)  # type: ignore[operator]
        except SpfSyntaxError as exc:
            return (type(exc), exc.message, exc.position)

    assert run(_scan) == run(_scan_chars)
