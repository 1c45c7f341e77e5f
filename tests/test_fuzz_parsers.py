"""Property tests for what the parsers' own suites leave out.

The per-parser files already hold SPF, DMARC, DKIM, BIMI and the config loader to "never
raises anything but its own error" on `st.text()` (tests/test_spf_parse.py,
test_spf_property.py, test_dmarc.py, test_dkim.py, test_bimi.py, test_config.py). What
they do not feed is what the checks actually pass in:

- text decoded from arbitrary bytes: the SPF check parses with `surrogateescape` (lone
  surrogates), the others get `backslashreplace` text; hypothesis' `st.text()` never
  contains a surrogate;
- records as long as DNS allows (~64 KiB): each parser must stay linear, or one record
  stalls the event loop;
- the pure DKIM verdict (`judge_selector`) on random answers;
- the table of `esm-tui check` built from arbitrary strings;
- the config editor: adding and removing a domain never loses what the user wrote.
"""

from __future__ import annotations

import contextlib
import string
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esm_tui.checks.bimi_parse import (
    BimiSyntaxError,
    https_url_problem,
    parse_bimi,
    starts_with_bimi1,
)
from esm_tui.checks.dkim import CODES as DKIM_CODES
from esm_tui.checks.dkim import judge_selector
from esm_tui.checks.dkim.keys import DkimKeyError, decode_key
from esm_tui.checks.dkim.parse import DkimSyntaxError, parse_dkim
from esm_tui.checks.dmarc.parse import DmarcSyntaxError, parse_dmarc, parse_report_uri
from esm_tui.config import ConfigError, add_domain, load_config, remove_domain
from esm_tui.dns import Answer, decode_txt
from esm_tui.model import (
    DomainReport,
    Finding,
    Fix,
    FixRecord,
    RecordResult,
    Severity,
    Status,
)
from esm_tui.report import render_table
from esm_tui.spf.errors import SpfSyntaxError, quote
from esm_tui.spf.parse import is_spf_record, parse_lenient, parse_spf
from esm_tui.text import display_safe

#: Any code point, lone surrogates included (st.text() leaves them out).
ANY_CHAR = st.characters(codec=None, exclude_categories=())
ANY_TEXT = st.text(ANY_CHAR, max_size=80)
#: What a check gets from a TXT record: random bytes, decoded the two ways the checks do.
RAW = st.binary(max_size=120)


def _terminal_safe(text: str) -> bool:
    return all(
        c == "\n"
        or (ord(c) >= 0x20 and not 0x7F <= ord(c) <= 0x9F and not 0xD800 <= ord(c) <= 0xDFFF)
        for c in text
    ) and not any(c in text for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


# -- SPF on what the check feeds it --------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(RAW, st.booleans())
def test_spf_parsers_on_surrogateescaped_bytes(raw: bytes, prefix: bool) -> None:
    text = (b"v=spf1 " + raw if prefix else raw).decode("utf-8", "surrogateescape")
    is_spf_record(text)
    record, errors = parse_lenient(text)
    for token, error in errors:
        assert isinstance(error, SpfSyntaxError)
        assert 0 <= error.position <= len(text) and token in text
    for term in record.terms:
        assert text[term.position : term.position + len(term.text)] == term.text
    try:
        parse_spf(text)
    except SpfSyntaxError as exc:
        assert 0 <= exc.position <= len(text)
        # The message quotes the record: no surrogate or control survives into it.
        assert _terminal_safe(str(exc))


@given(ANY_TEXT)
def test_quote_escapes_everything_unsafe(text: str) -> None:
    quoted = quote(text)
    assert quoted.isascii() and quoted[1 : quoted.rindex("'")].isprintable()


# -- DMARC, DKIM, BIMI on any text, surrogates included -------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.one_of(ANY_TEXT, RAW.map(lambda b: b.decode("utf-8", "backslashreplace"))))
def test_tag_list_parsers_on_any_text(text: str) -> None:
    for candidate in (text, "v=DMARC1; " + text, "v=DKIM1; " + text, "v=BIMI1; " + text):
        for parse, error in (
            (parse_dmarc, DmarcSyntaxError),
            (parse_dkim, DkimSyntaxError),
            (parse_bimi, BimiSyntaxError),
        ):
            try:
                parse(candidate)
            except error as exc:
                assert 0 <= exc.position <= len(candidate)
        starts_with_bimi1(candidate)
        assert https_url_problem(candidate) is None or isinstance(https_url_problem(candidate), str)
        assert parse_report_uri(candidate).text == candidate


@given(ANY_TEXT, st.sampled_from(["rsa", "ed25519", "RSA", "x"]))
def test_decode_key_on_any_text(text: str, key_type: str) -> None:
    with contextlib.suppress(DkimKeyError):
        decode_key(key_type, text)


def _txt_answer(name: str, records: list[list[bytes]]) -> Answer:
    rdatas = tuple(
        dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, strings or [b""])
        for strings in records
    )
    return Answer(name, "TXT", 300, rdatas)


_DKIM_PIECES = st.sampled_from(
    [b"v=DKIM1", b"; ", b"k=", b"rsa", b"ed25519", b"p=", b"h=", b"sha1", b"sha256", b":",
     b"s=", b"email", b"*", b"t=", b"y", b"s", b"MCowBQYDK2VwAyEA", b"AAAA", b"\x00", b"\xff",
     b"\x1b[2J", b"=", b";"]
)  # fmt: skip
_DKIM_STRING = st.lists(st.one_of(_DKIM_PIECES, st.binary(max_size=5)), max_size=10).map(
    lambda parts: b"".join(parts)[:255]
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.lists(_DKIM_STRING, min_size=1, max_size=3), min_size=1, max_size=3),
    st.booleans(),
)
def test_dkim_verdict_on_random_answers(records: list[list[bytes]], discovered: bool) -> None:
    name = "esm._domainkey.example.com."
    result = judge_selector("esm", name, _txt_answer(name, records), discovered=discovered)
    assert isinstance(result.status, Status)
    assert {f.code for f in result.findings} <= set(DKIM_CODES)
    assert result.records == [] or all(isinstance(r, str) for r in result.records)


# -- as long as DNS allows: linear, not quadratic -----------------------------------------

#: A TXT record holds at most 255 strings of 255 bytes.
BIG = 255 * 255
#: Seconds one parse of a maximal record may take (each needs well under 0.3 s).
PARSE_BOUND = 2.0

_BIG_INPUTS = {
    "spf-terms": "v=spf1 " + "a " * (BIG // 2 - 8),
    "spf-ip4": "v=spf1 " + " ".join(["ip4:192.0.2.1/32"] * (BIG // 18)),
    "spf-one-term": "v=spf1 a:" + "x" * (BIG - 10),
    "spf-macros": "v=spf1 exists:" + "%{d}" * (BIG // 4 - 4),
    "dmarc-tags": "v=DMARC1; p=none; " + "x=y; " * (BIG // 5 - 5),
    "dmarc-rua": "v=DMARC1; p=none; rua=" + ",".join(["mailto:a@b.example"] * (BIG // 19 - 3)),
    "dkim-tags": ("v=DKIM1; " + "; ".join(f"x{i}=y" for i in range(BIG // 8)))[:BIG],
    "dkim-p": "v=DKIM1; p=" + "A" * (BIG - 12),
    "bimi-tags": "v=BIMI1; l=https://x.example/l.svg; " + "q=r; " * (BIG // 5 - 8),
    "semicolons": ";" * BIG,
    "equals": "=" * BIG,
    "controls": "\x1b[2J" * (BIG // 4),
}


@pytest.mark.parametrize("name", list(_BIG_INPUTS))
def test_maximal_records_parse_in_linear_time(name: str) -> None:
    text = _BIG_INPUTS[name]
    assert len(text) <= BIG
    for parse in (parse_lenient, parse_dmarc, parse_dkim, parse_bimi, display_safe, quote):
        start = time.perf_counter()
        with contextlib.suppress(
            SpfSyntaxError, DmarcSyntaxError, DkimSyntaxError, BimiSyntaxError
        ):
            parse(text)
        elapsed = time.perf_counter() - start
        assert elapsed < PARSE_BOUND, (parse.__name__, elapsed)


def test_a_maximal_key_decodes_in_bounded_time() -> None:
    start = time.perf_counter()
    with pytest.raises(DkimKeyError):
        decode_key("rsa", "MII" + "A" * (BIG - 12))
    assert time.perf_counter() - start < PARSE_BOUND


# -- the `check` table from arbitrary strings -----------------------------------------------

_CHECKS = ("mx", "spf", "dkim", "dmarc", "bimi")


@st.composite
def results(draw: st.DrawFn) -> RecordResult:
    text = st.text(ANY_CHAR, max_size=40)
    status = draw(st.sampled_from([Status.WARN, Status.FAIL, Status.UNKNOWN]))
    findings = tuple(
        Finding(draw(st.sampled_from(list(Severity))), "x.code", draw(text), draw(text))
        for _ in range(draw(st.integers(0, 3)))
    )
    fix = Fix(
        tuple(draw(st.lists(text, max_size=2))),
        FixRecord(draw(text), "TXT", draw(text)) if draw(st.booleans()) else None,
    )
    return RecordResult(
        check="mx",
        status=status,
        summary=draw(text),
        query_name="example.com.",
        query_type="TXT",
        records=tuple(draw(st.lists(text, max_size=2))),
        findings=findings,
        fix=fix,
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(results(), min_size=5, max_size=5))
def test_the_table_is_terminal_safe_whatever_the_strings(items: list[RecordResult]) -> None:
    report = DomainReport("example.com", dict(zip(_CHECKS, items, strict=True)), datetime.now(UTC))
    table = render_table([report])
    assert _terminal_safe(table)
    table.encode("utf-8")  # strict: stdout can always write it


@given(st.lists(st.binary(max_size=255), min_size=1, max_size=4))
def test_decode_txt_is_exact_and_surrogate_free(strings: list[bytes]) -> None:
    text = decode_txt(strings)
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in text)
    joined = b"".join(strings)
    if all(b < 0x80 for b in joined):
        assert text == joined.decode("ascii")


# -- the config editor: adding and removing a domain loses nothing -------------------------

_COMMENT = st.text(
    st.sampled_from(list(string.ascii_letters + string.digits + " -—é#[]=\"'")), max_size=20
).map(lambda t: "# " + t)
_NAMES = [f"d{i}.example" for i in range(6)] + ["bücher.example", "Upper.Example."]


@st.composite
def config_texts(draw: st.DrawFn) -> str:
    lines: list[str] = []

    def blank_or_comment() -> None:
        for _ in range(draw(st.integers(0, 2))):
            lines.append(draw(st.one_of(st.just(""), _COMMENT)))

    blank_or_comment()
    if draw(st.booleans()):
        lines.append("[settings]")
        lines.append(f"interval = {draw(st.integers(10, 3600))}  {draw(_COMMENT)}")
        if draw(st.booleans()):
            lines.append(f"retries = {draw(st.integers(0, 5))}")
        blank_or_comment()
    if draw(st.booleans()):
        lines.append("[relay]")
        lines.append('dkim_selectors = ["esm", # the relay\'s\n  "k1"]')
        blank_or_comment()
    names = draw(st.lists(st.sampled_from(_NAMES), unique_by=lambda n: n.lower(), max_size=4))
    for name in names:
        lines.append("[[domains]]")
        lines.append(f'name = "{name}"')
        if draw(st.booleans()):
            lines.append(f"bimi = {draw(st.sampled_from(['true', 'false']))}")
        blank_or_comment()
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines)
    if draw(st.booleans()):
        text += newline
    return ("\ufeff" if draw(st.booleans()) else "") + text


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=config_texts())
def test_adding_then_removing_a_domain_gives_back_the_file(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.mktemp("cfg") / "config.toml"
    path.write_bytes(text.encode("utf-8"))
    original = load_config(path)
    added = add_domain(original, "added.example")
    assert [d.name for d in added.domains] == [*(d.name for d in original.domains), "added.example"]
    assert (added.settings, added.relay) == (original.settings, original.relay)
    new_text = path.read_bytes().decode("utf-8")
    # Everything the user wrote is still there, byte for byte, in front of the new table.
    assert new_text.startswith(text.rstrip("\r\n"))
    assert path.with_name("config.toml.bak").read_bytes() == text.encode("utf-8")
    removed = remove_domain(added, "added.example")
    assert removed.domains == original.domains
    after = path.read_bytes().decode("utf-8")
    # Byte for byte, but for blank lines at the very end (and a final newline added).
    assert after.rstrip() == text.rstrip()


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=config_texts(), data=st.data())
def test_removing_one_domain_keeps_every_other_line(
    tmp_path_factory: pytest.TempPathFactory, text: str, data: st.DataObject
) -> None:
    path = tmp_path_factory.mktemp("cfg") / "config.toml"
    path.write_bytes(text.encode("utf-8"))
    config = load_config(path)
    if not config.domains:
        return
    victim = data.draw(st.sampled_from([d.name for d in config.domains]))
    try:
        after = remove_domain(config, victim)
    except ConfigError as exc:  # pragma: no cover - would be a bug: report it readably
        raise AssertionError(str(exc)) from None
    assert [d.name for d in after.domains] == [d.name for d in config.domains if d.name != victim]
    assert (after.settings, after.relay) == (config.settings, config.relay)
    new_text = path.read_bytes().decode("utf-8")
    assert new_text.startswith("\ufeff") == text.startswith("\ufeff")  # a BOM stays
    kept = [line for line in new_text.removeprefix("\ufeff").splitlines() if line.strip()]
    original = [line for line in text.removeprefix("\ufeff").splitlines() if line.strip()]
    # The remaining non-blank lines are the original ones, in order (a subsequence).
    iterator = iter(original)
    assert all(line in iterator for line in kept)
    assert tomllib.loads(new_text.removeprefix("\ufeff")) is not None
    assert Path(str(path) + ".bak").read_bytes() == text.encode("utf-8")
