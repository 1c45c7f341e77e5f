"""The caches and shortcuts behind the bulk-check speed (issue 6), held to "same result".

Not timings: each test checks that a memo or a fast path gives what the slow path gives,
shares what it may share, and never shares what it must not (exceptions, mutable lists).
"""

from __future__ import annotations

import pytest

from esm_tui.checks.dmarc_parse import DmarcSyntaxError, parse_dmarc
from esm_tui.spf.errors import SpfSyntaxError
from esm_tui.spf.parse import MEMO_MAX_TEXT, _parse_lenient, parse_lenient, parse_spf

RECORD = "v=spf1 include:_spf.example.com ip4:192.0.2.0/24 mx:mail.example.com ~all"


def test_spf_parse_memo_shares_one_equal_record() -> None:
    first, second = parse_spf(RECORD), parse_spf(RECORD)
    assert first is second  # one parse for every domain that includes it
    assert first == _parse_lenient(RECORD)[0]  # and it is what a fresh parse gives
    assert [m.name for m in first.mechanisms] == ["include", "ip4", "mx", "all"]


def test_spf_lenient_memo_hands_out_a_fresh_error_list() -> None:
    record, errors = parse_lenient(RECORD)
    errors.append(("x", SpfSyntaxError("planted", 0, "RFC 7208 §4.6")))
    assert parse_lenient(RECORD) == (record, [])


def test_spf_syntax_errors_are_not_memoized() -> None:
    bad = "v=spf1 include:example.com foo:bar -all"
    caught = []
    for _ in range(2):
        with pytest.raises(SpfSyntaxError) as info:
            parse_spf(bad)
        caught.append(info.value)
    assert caught[0] is not caught[1]  # raised afresh: no traceback piles up on a shared one
    assert str(caught[0]) == str(caught[1])
    assert parse_lenient(bad)[1][0][1] is not parse_lenient(bad)[1][0][1]


def test_large_spf_records_are_parsed_each_time() -> None:
    big = "v=spf1 " + " ".join(f"ip4:192.0.2.{i}" for i in range(60)) + " -all"
    assert len(big) > MEMO_MAX_TEXT
    assert parse_spf(big) is not parse_spf(big)
    assert parse_spf(big) == parse_spf(big)


def test_dmarc_parse_memo_shares_equal_records_but_not_errors() -> None:
    text = "v=DMARC1; p=reject; rua=mailto:reports@example.com; adkim=s"
    assert parse_dmarc(text) is parse_dmarc(text)
    assert parse_dmarc(text).rua[0].host == "example.com"
    bad = "v=DMARC1; p=reject; p=none"
    caught = []
    for _ in range(2):
        with pytest.raises(DmarcSyntaxError) as info:
            parse_dmarc(bad)
        caught.append(info.value)
    assert caught[0] is not caught[1] and str(caught[0]) == str(caught[1])
