"""DKIM: the tag-list parser, key decoding, and the check over a real loopback DNS server."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from hypothesis import given
from hypothesis import strategies as st

from esm_tui.checks import dkim
from esm_tui.checks.context import CheckContext
from esm_tui.checks.dkim.keys import DkimKeyError, decode_key
from esm_tui.checks.dkim.parse import DkimRecord, DkimSyntaxError, parse_dkim
from esm_tui.demo.records import Records
from esm_tui.demo.server import DnsServer
from esm_tui.dns import Dns
from esm_tui.model import DomainSettings, RecordResult, Severity, Status

DOMAIN = "example.com"

# -- keys ------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _spki(key: rsa.RSAPublicKey | ed25519.Ed25519PublicKey) -> str:
    return _b64(
        key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


@pytest.fixture(scope="module")
def keys() -> dict[str, str]:
    """Base64 p= values, generated once: RSA generation is the slow part of this file."""
    rsa2048 = rsa.generate_private_key(65537, 2048).public_key()
    rsa1024 = rsa.generate_private_key(65537, 1024).public_key()
    # cryptography will not generate keys under 1024 bits; build a 512-bit public key
    # from numbers (any odd modulus of the right size makes a loadable key).
    small = rsa.RSAPublicNumbers(65537, (1 << 511) | 0xB5AD_F00D_0001).public_key()
    ed = ed25519.Ed25519PrivateKey.generate().public_key()
    return {
        "rsa2048": _spki(rsa2048),
        "rsa2048-pkcs1": _b64(
            rsa2048.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
        ),
        "rsa1024": _spki(rsa1024),
        "rsa512": _spki(small),
        "ed25519": _b64(
            ed.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        ),
        "ed25519-spki": _spki(ed),
    }


# -- the loopback server -----------------------------------------------------------------


@pytest.fixture
def records() -> Records:
    r = Records()
    r.add_zone(f"{DOMAIN}.")
    r.add(f"{DOMAIN}.", "MX", f"10 mx.{DOMAIN}.")
    return r


@pytest.fixture
def server(records: Records) -> Iterator[DnsServer]:
    with DnsServer(records) as srv:
        yield srv


async def run(server: DnsServer, *selectors: str, timeout: float = 0.5) -> RecordResult:
    dns = Dns([server.server], timeout=timeout, retries=0)
    result = await dkim.check(DomainSettings(DOMAIN, dkim_selectors=selectors), CheckContext(dns))
    # Every code the check emits is documented (the README table is built from CODES).
    for finding in result.findings:
        assert finding.code in dkim.CODES, finding.code
        assert finding.message
    # The JSON shape of SPEC §3 holds whatever the verdict.
    data = json.loads(json.dumps(result.to_json()))
    assert data["query"]["type"] == "TXT"
    for sel in data["details"]["selectors"].values():
        assert {"status", "record", "key_type", "key_bits", "testing"} <= sel.keys()
    if result.status in (Status.OK, Status.NONE):
        assert data["fix"] is None
    return result


def publish(records: Records, selector: str, *values: str | list[str]) -> None:
    records.add_txt(f"{selector}._domainkey.{DOMAIN}.", *values)


def codes(result: RecordResult, severity: Severity | None = None) -> set[str]:
    return {f.code for f in result.findings if severity is None or f.severity is severity}


def sel_details(result: RecordResult, selector: str) -> dict:
    return result.details["selectors"][selector]


# -- tag-list parser ---------------------------------------------------------------------


def test_parse_tags_whitespace_and_trailing_semicolon() -> None:
    record = parse_dkim(" v = DKIM1 ;\tk=rsa;  p=MIIB AQAB\r\n ABCD ; ")
    assert [t.name for t in record.tags] == ["v", "k", "p"]
    assert record.get("v") == "DKIM1"
    # Folding inside a value is kept; the check strips it when decoding base64.
    assert record.get("p") == "MIIB AQAB\r\n ABCD"
    assert record.tags[1].position == 13


def test_parse_empty_record_and_empty_segments() -> None:
    assert parse_dkim("").tags == ()
    assert [t.name for t in parse_dkim("v=DKIM1;;p=").tags] == ["v", "p"]


def test_parse_tag_names_are_case_sensitive() -> None:
    record = parse_dkim("P=abc")
    assert record.get("p") is None
    assert record.get("P") == "abc"


def test_parse_colon_lists() -> None:
    record = parse_dkim("h=SHA1 : sha256; t=y:s; s=")
    assert record.items("h") == ["sha1", "sha256"]
    assert record.items("t") == ["y", "s"]
    assert record.items("s") == []
    assert record.items("k") is None


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("v=DKIM1; p=abc; p=def", 16, "twice"),
        ("v=DKIM1; hello", 9, "no '='"),
        ("v=DKIM1; 1x=2", 9, "tag name"),
        ("v=DKIM1; =2", 9, "tag name"),
        ("v=DKIM1; p=ab\x00c", 13, "U+0000"),
        ("v=DKIM1; n=caf\u00e9", 14, "U+00E9"),
    ],
)
def test_parse_errors_have_position(text: str, position: int, words: str) -> None:
    with pytest.raises(DkimSyntaxError) as info:
        parse_dkim(text)
    assert info.value.position == position
    assert words in str(info.value)


@given(st.text())
def test_parse_is_total(text: str) -> None:
    try:
        record = parse_dkim(text)
    except DkimSyntaxError as exc:
        assert 0 <= exc.position <= len(text)
    else:
        assert isinstance(record, DkimRecord)


_tag_chars = st.sampled_from([*"vkphstn=;: \t\r\n=ABz09+/_-.*", "\x00", "é"])


@given(st.text(_tag_chars, max_size=60))
def test_parse_is_total_on_tag_like_text(text: str) -> None:
    try:
        parse_dkim(text)
    except DkimSyntaxError as exc:
        assert 0 <= exc.position <= len(text)


_names = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,6}", fullmatch=True)
_values = st.from_regex(r"([!-:<-~]+( [!-:<-~]+)*)?", fullmatch=True)


@given(st.dictionaries(_names, _values, max_size=6))
def test_parse_round_trips_valid_tag_lists(tags: dict[str, str]) -> None:
    text = "; ".join(f"{name}={value}" for name, value in tags.items())
    assert parse_dkim(text).as_dict() == tags


# -- key decoding ------------------------------------------------------------------------


def test_decode_keys(keys: dict[str, str]) -> None:
    assert decode_key("rsa", keys["rsa2048"]).bits == 2048
    assert decode_key("RSA", keys["rsa1024"]).bits == 1024
    assert decode_key("rsa", keys["rsa512"]).bits == 512
    pkcs1 = decode_key("rsa", keys["rsa2048-pkcs1"])
    assert (pkcs1.bits, pkcs1.encoding) == (2048, "pkcs1")
    assert decode_key("rsa", keys["rsa2048"]).encoding == "spki"
    ed = decode_key("ed25519", keys["ed25519"])
    assert (ed.key_type, ed.bits, ed.encoding) == ("ed25519", 256, "raw")


def test_decode_key_with_folding_and_missing_padding(keys: dict[str, str]) -> None:
    folded = " \r\n ".join(keys["rsa2048"][i : i + 50] for i in range(0, 400, 50))
    assert decode_key("rsa", folded + keys["rsa2048"][400:]).bits == 2048
    assert decode_key("ed25519", keys["ed25519"].rstrip("=")).bits == 256


@pytest.mark.parametrize(
    ("key_type", "p", "words"),
    [
        ("rsa", "not*base64", "base64"),
        ("rsa", _b64(b"\x30\x03\x02\x01\x00"), "neither"),
        ("ed25519", _b64(b"x" * 31), "32 raw bytes"),
        ("dsa", "AAAA", "unknown key type"),
        ("rsa", "", "empty"),
    ],
)
def test_decode_key_errors(key_type: str, p: str, words: str) -> None:
    with pytest.raises(DkimKeyError) as info:
        decode_key(key_type, p)
    assert words in info.value.reason


def test_decode_key_type_mismatch(keys: dict[str, str]) -> None:
    with pytest.raises(DkimKeyError, match="Ed25519 key, not an RSA key"):
        decode_key("rsa", keys["ed25519-spki"])
    with pytest.raises(DkimKeyError, match="SubjectPublicKeyInfo wrapper"):
        decode_key("ed25519", keys["ed25519-spki"])


@given(st.sampled_from(["rsa", "ed25519", "x"]), st.binary(max_size=300))
def test_decode_key_is_total(key_type: str, data: bytes) -> None:
    with contextlib.suppress(DkimKeyError):
        decode_key(key_type, _b64(data))


@given(st.text(max_size=80))
def test_decode_key_is_total_on_text(text: str) -> None:
    with contextlib.suppress(DkimKeyError):
        decode_key("rsa", text)


# -- the check: good keys -----------------------------------------------------------------


async def test_rsa_2048_is_ok(records: Records, server: DnsServer, keys: dict[str, str]) -> None:
    value = f"v=DKIM1; k=rsa; p={keys['rsa2048']}"
    publish(records, "esm", value)
    result = await run(server, "esm")
    assert result.status is Status.OK, result.findings
    assert result.query_name == f"esm._domainkey.{DOMAIN}."
    # Split into 255-byte character-strings on the wire, joined again in `records`.
    assert len(value) > 255
    assert result.records == (value,)
    assert result.ttl == 300
    assert result.fix is None
    sel = sel_details(result, "esm")
    assert sel["status"] == "ok"
    assert sel["record"] == value
    assert (sel["key_type"], sel["key_bits"], sel["testing"]) == ("rsa", 2048, False)
    assert sel["discovered"] is False
    assert result.summary == "esm: rsa 2048"


async def test_pkcs1_rsa_key_is_accepted(
    records: Records, server: DnsServer, keys: dict[str, str]
) -> None:
    publish(records, "esm", f"v=DKIM1; p={keys['rsa2048-pkcs1']}")
    result = await run(server, "esm")
    assert result.status is Status.OK
    assert sel_details(result, "esm")["key_bits"] == 2048
    assert "dkim.rsa-pkcs1" in codes(result, Severity.INFO)


async def test_ed25519_is_ok(records: Records, server: DnsServer, keys: dict[str, str]) -> None:
    publish(records, "ed", f"v=DKIM1; k=ed25519; p={keys['ed25519']}")
    result = await run(server, "ed")
    assert result.status is Status.OK, result.findings
    sel = sel_details(result, "ed")
    assert (sel["key_type"], sel["key_bits"]) == ("ed25519", 256)


async def test_folded_p_and_tag_list_without_v(
    records: Records, server: DnsServer, keys: dict[str, str]
) -> None:
    p = keys["rsa2048"]
    folded = " ".join(p[i : i + 64] for i in range(0, len(p), 64))
    publish(records, "esm", f"k=rsa; p={folded}")
    result = await run(server, "esm")
    assert result.status is Status.OK, result.findings
    assert sel_details(result, "esm")["key_bits"] == 2048


async def test_cname_is_followed_and_shown(
    records: Records, server: DnsServer, keys: dict[str, str]
) -> None:
    records.add_zone("provider.example.")
    records.add(f"esm._domainkey.{DOMAIN}.", "CNAME", "esm.keys.provider.example.")
    records.add_txt("esm.keys.provider.example.", f"v=DKIM1; p={keys['rsa2048']}")
    result = await run(server, "esm")
    assert result.status is Status.OK, result.findings
    sel = sel_details(result, "esm")
    assert sel["cname"] == ["esm.keys.provider.example."]
    assert sel["key_bits"] == 2048
    assert "dkim.cname" in codes(result, Severity.INFO)


# -- the check: per-selector fail bullets --------------------------------------------------


async def test_missing_nxdomain(records: Records, server: DnsServer) -> None:
    result = await run(server, "esm")
    assert result.status is Status.FAIL
    assert codes(result) == {"dkim.missing"}
    message = result.findings[0].message
    assert "NXDOMAIN" in message
    assert f"esm._domainkey.{DOMAIN}." in message
    assert result.findings[0].ref.startswith("RFC 6376")
    assert sel_details(result, "esm")["status"] == "fail"
    assert result.fix is not None
    step = result.fix.steps[0]
    assert f"esm._domainkey.{DOMAIN}." in step
    assert "e-securemail activation guide" in step
    assert result.summary == "esm: missing"


async def test_missing_nodata(records: Records, server: DnsServer) -> None:
    # The name exists (it has another record type) but holds no TXT: NODATA.
    records.add(f"esm._domainkey.{DOMAIN}.", "A", "192.0.2.1")
    result = await run(server, "esm")
    assert result.status is Status.FAIL
    assert codes(result) == {"dkim.missing"}
    assert "NODATA" in result.findings[0].message
    assert "NXDOMAIN" not in result.findings[0].message


async def test_missing_behind_cname(records: Records, server: DnsServer) -> None:
    records.add(f"esm._domainkey.{DOMAIN}.", "CNAME", f"gone.{DOMAIN}.")
    result = await run(server, "esm")
    assert result.status is Status.FAIL
    assert "dkim.missing" in codes(result)
    assert f"gone.{DOMAIN}." in result.findings[0].message
    assert f"gone.{DOMAIN}." in result.fix.steps[0]


async def test_more_than_one_txt_record(
    records: Records, server: DnsServer, keys: dict[str, str]
) -> None:
    publish(records, "esm", f"v=DKIM1; p={keys['rsa2048']}", f"v=DKIM1; p={keys['rsa1024']}")
    result = await run(server, "esm")
    assert result.status is Status.FAIL
    assert "dkim.multiple-records" in codes(result, Severity.FAIL)
    assert len(result.records) == 2
    assert len(sel_details(result, "esm")["records"]) == 2
    assert "exactly one" in result.fix.steps[0]


@pytest.mark.parametrize(
    ("value", "code", "words"),
    [
        ("v=DKIM1; k=rsa", "dkim.p-missing", "no p= tag"),
        ("v=DKIM1; k=rsa; P=abc", "dkim.p-missing", "case-sensitive"),
        ("v=DKIM1; p=", "dkim.revoked", "revokes"),
        ("v=DKIM1; p=this!is!not!base64", "dkim.key-invalid", "base64"),
        (f"v=DKIM1; p={_b64(b'garbage bytes, not DER')}", "dkim.key-invalid", "neither"),
        ("v=DKIM1; p=abc; p=def", "dkim.syntax", "twice"),
        ("v=spf1 -all", "dkim.version", "v=spf1 -all"),
        ("v=DKIM2; p=AAAA", "dkim.version", "v=DKIM2"),
        ("v=DKIM1; k=dsa; p=AAAA", "dkim.key-type-unknown", "k=dsa"),
    ],
)
async def test_record_fail_bullets(
    records: Records, server: DnsServer, value: str, code: str, words: str
) -> None:
    publish(records, "esm", value)
    result = await run(server, "esm")
    assert result.status is Status.FAIL
    assert code in codes(result, Severity.FAIL)
    finding = next(f for f in result.findings if f.code == code)
    assert words in finding.message
    assert "'esm'" in finding.message or "esm._domainkey" in finding.message
    assert finding.ref.startswith("RFC ")
    assert result.fix is not None and result.fix.steps
    assert sel_details(result, "esm")["status"] == "fail"


async def test_ed25519_wrapped_in_spki_fails_with_hint(
    records: Records, server: DnsServer, keys: dict[str, str]
) -> None:
    publish(records, "ed", f"v=DKIM1; k=ed25519; p={keys['ed25519-spki']}")
    result = await run(server, "ed")
    assert result.status is Status.FAIL
    finding = next(f for f in result.findings if f.code == "dkim.key-invalid")
    assert "raw key" in finding.message
    assert finding.ref == "RFC 8463 §4.2"


async def test_rsa_under_1024_fails(
    records: Records, server: DnsServer, keys: dict[str, str]
) -> None:
    publish(records, "esm", f"v=DKIM1; k=rsa; p={keys['rsa512']}")
    result = await run(server, "esm")
    assert result.status is Status.FAIL
    finding = next(f for f in result.findings if f.code == "dkim.rsa-too-short")
    assert "512 bits" in finding.message
    assert finding.ref == "RFC 8301 §3.2"
    assert sel_details(result, "esm")["key_bits"] == 512
    assert any("2048-bit key" in s and "new selector" in s for s in result.fix.steps)


async def test_rsa_1024_warns(records: Records, server: DnsServer, keys: dict[str, str]) -> None:
    publish(records, "esm", f"v=DKIM1; k=rsa; p={keys['rsa1024']}")
    result = await run(server, "esm")
    assert result.status is Status.WARN
    assert codes(result) == {"dkim.rsa-short"}
    assert "1024 bits" in result.findings[0].message
    assert result.findings[0].ref == "RFC 8301 §3.2"
    assert sel_details(result, "esm")["key_bits"] == 1024
    step = result.fix.steps[0]
    assert "2048-bit key" in step and "new selector" in step and "retire 'esm'" in step
    # A new key cannot be proposed by us: no record to copy.
    assert result.fix.record is None


@pytest.mark.parametrize(
    ("tags", "code", "status"),
    [
        ("h=sha1", "dkim.sha1-only", Status.FAIL),
        ("h=SHA1", "dkim.sha1-only", Status.FAIL),
        ("h=md5", "dkim.hash-unusable", Status.FAIL),
        ("h=sha1:sha256", None, Status.OK),
        ("s=other", "dkim.service-excludes-email", Status.FAIL),
        ("s=email", None, Status.OK),
        ("s=*", None, Status.OK),
        ("s=EMAIL:other", None, Status.OK),
        ("t=y", "dkim.testing", Status.WARN),
        ("t=s:Y", "dkim.testing", Status.WARN),
        ("t=s", None, Status.OK),
    ],
)
async def test_tag_rules(
    records: Records,
    server: DnsServer,
    keys: dict[str, str],
    tags: str,
    code: str | None,
    status: Status,
) -> None:
    publish(records, "esm", f"v=DKIM1; {tags}; p={keys['rsa2048']}")
    result = await run(server, "esm")
    assert result.status is status, result.findings
    if code is None:
        assert not codes(result)
        return
    finding = next(f for f in result.findings if f.code == code)
    assert tags.split("=")[1] in finding.message
    assert finding.ref.startswith("RFC 8301" if "sha" in code or "hash" in code else "RFC 6376")
    # The key is fine, so the record can be repaired mechanically and proposed.
    record = result.fix.record
    assert record is not None
    assert record.name == f"esm._domainkey.{DOMAIN}."
    repaired = parse_dkim(record.value)
    assert repaired.get("p") == keys["rsa2048"]
    assert repaired.get("v") == "DKIM1"
    assert "y" not in (repaired.items("t") or [])
    assert "sha256" in (repaired.items("h") or ["sha256"])


async def test_testing_flag_in_details(
    records: Records, server: DnsServer, keys: dict[str, str]
) -> None:
    publish(records, "esm", f"v=DKIM1; t=y; p={keys['rsa2048']}")
    result = await run(server, "esm")
    assert sel_details(result, "esm")["testing"] is True
    assert "testing" in result.summary


async def test_version_fix_record_keeps_other_tags(
    records: Records, server: DnsServer, keys: dict[str, str]
) -> None:
    publish(records, "esm", f"k=rsa; v=DKIM2; n=ours; p={keys['rsa2048']}")
    result = await run(server, "esm")
    assert result.status is Status.FAIL
    assert result.fix.record.value == f"v=DKIM1; k=rsa; n=ours; p={keys['rsa2048']}"


async def test_v_not_first_and_unknown_tags_are_info(
    records: Records, server: DnsServer, keys: dict[str, str]
) -> None:
    publish(records, "esm", f"k=rsa; v=DKIM1; g=*; p={keys['rsa2048']}")
    result = await run(server, "esm")
    assert result.status is Status.OK
    assert codes(result) == {"dkim.v-not-first", "dkim.unknown-tag"}
    assert codes(result, Severity.INFO) == codes(result)


async def test_control_characters_are_a_syntax_error_not_a_crash(
    records: Records, server: DnsServer
) -> None:
    publish(records, "esm", b"v=DKIM1; p=\x1b[31mAAAA\xff")
    result = await run(server, "esm")
    assert result.status is Status.FAIL
    assert codes(result) == {"dkim.syntax"}
    # The raw record is kept exactly as received (invalid UTF-8 as \xNN).
    assert result.records == ("v=DKIM1; p=\x1b[31mAAAA\\xff",)


# -- several selectors and the card --------------------------------------------------------


async def test_card_is_worst_of_configured_selectors(
    records: Records, server: DnsServer, keys: dict[str, str]
) -> None:
    publish(records, "a", f"v=DKIM1; p={keys['rsa2048']}")
    publish(records, "b", f"v=DKIM1; p={keys['rsa1024']}")
    result = await run(server, "a", "b", "c")
    assert result.status is Status.FAIL
    assert [sel_details(result, s)["status"] for s in "abc"] == ["ok", "warn", "fail"]
    assert result.query_name == f"a._domainkey.{DOMAIN}."
    # records: selector by selector, in configured order.
    assert result.records == (f"v=DKIM1; p={keys['rsa2048']}", f"v=DKIM1; p={keys['rsa1024']}")
    assert result.summary == "a: rsa 2048, b: rsa 1024, c: missing"


async def test_one_warning_selector_makes_the_card_warn(
    records: Records, server: DnsServer, keys: dict[str, str]
) -> None:
    publish(records, "a", f"v=DKIM1; p={keys['rsa2048']}")
    publish(records, "b", f"v=DKIM1; t=y; p={keys['ed25519']}; k=ed25519")
    result = await run(server, "a", "b")
    assert result.status is Status.WARN


async def test_duplicate_selectors_are_asked_once(
    records: Records, server: DnsServer, keys: dict[str, str]
) -> None:
    publish(records, "esm", f"v=DKIM1; p={keys['rsa2048']}")
    result = await run(server, "esm", "ESM", "esm.")
    assert list(result.details["selectors"]) == ["esm"]


async def test_failed_query_makes_selector_unknown(
    records: Records, server: DnsServer, keys: dict[str, str]
) -> None:
    publish(records, "a", f"v=DKIM1; p={keys['rsa2048']}")
    records.set_behaviour(f"b._domainkey.{DOMAIN}.", "drop")
    result = await run(server, "a", "b", timeout=0.3)
    assert result.status is Status.UNKNOWN
    assert sel_details(result, "b")["status"] == "unknown"
    assert sel_details(result, "a")["status"] == "ok"
    finding = next(f for f in result.findings if f.code == "dkim.dns-failure")
    assert f"b._domainkey.{DOMAIN}." in finding.message
    assert "timeout" in finding.message


async def test_a_failing_selector_stands_beside_an_unanswered_one(
    records: Records, server: DnsServer, keys: dict[str, str]
) -> None:
    publish(records, "a", "v=DKIM1; p=")
    records.set_behaviour(f"b._domainkey.{DOMAIN}.", "servfail")
    result = await run(server, "a", "b", timeout=0.3)
    assert result.status is Status.FAIL
    assert sel_details(result, "b")["status"] == "unknown"


async def test_unknown_beats_warn(
    records: Records, server: DnsServer, keys: dict[str, str]
) -> None:
    publish(records, "a", f"v=DKIM1; p={keys['rsa1024']}")
    records.set_behaviour(f"b._domainkey.{DOMAIN}.", "drop")
    result = await run(server, "a", "b", timeout=0.3)
    assert result.status is Status.UNKNOWN


# -- discovery (no selector configured) ------------------------------------------------------


async def test_discovery_finds_common_selectors(
    records: Records, server: DnsServer, keys: dict[str, str]
) -> None:
    publish(records, "google", f"v=DKIM1; k=rsa; p={keys['rsa2048']}")
    publish(records, "selector1", f"v=DKIM1; k=ed25519; p={keys['ed25519']}")
    result = await run(server)
    assert result.status is Status.OK, result.findings
    assert result.query_name == f"_domainkey.{DOMAIN}."
    assert result.details["discovered"] is True
    assert list(result.details["selectors"]) == ["selector1", "google"]
    assert sel_details(result, "google")["discovered"] is True
    assert sel_details(result, "google")["key_bits"] == 2048
    assert codes(result) == {"dkim.discovered"}
    assert "google" in result.summary and "selector1" in result.summary
    # Every common selector was asked, concurrently, once.
    for sel in dkim.COMMON_SELECTORS:
        assert server.queries[(f"{sel}._domainkey.{DOMAIN}.", "TXT")] == 1
    assert 15 <= len(dkim.COMMON_SELECTORS) <= 20


async def test_discovery_none_found_warns(records: Records, server: DnsServer) -> None:
    result = await run(server)
    assert result.status is Status.WARN
    assert codes(result) == {"dkim.no-selector"}
    assert result.details["selectors"] == {}
    assert result.records == ()
    assert any("dkim_selectors" in step for step in result.fix.steps)


async def test_discovery_ignores_wildcard_txt(records: Records, server: DnsServer) -> None:
    records.add_txt(f"*.{DOMAIN}.", "v=spf1 -all")
    result = await run(server)
    assert result.status is Status.WARN
    assert "dkim.no-selector" in codes(result, Severity.WARN)
    assert "dkim.not-a-key" in codes(result, Severity.INFO)


async def test_discovered_weak_key_warns_and_broken_key_is_not_red(
    records: Records, server: DnsServer, keys: dict[str, str]
) -> None:
    publish(records, "default", f"v=DKIM1; p={keys['rsa1024']}")
    publish(records, "s1", f"v=DKIM1; p={keys['rsa512']}")
    result = await run(server)
    assert result.status is Status.WARN
    assert sel_details(result, "s1")["status"] == "fail"
    assert not codes(result, Severity.FAIL)
    assert "dkim.rsa-too-short" in codes(result, Severity.WARN)


async def test_discovered_revoked_key_beside_a_good_one_is_ok(
    records: Records, server: DnsServer, keys: dict[str, str]
) -> None:
    publish(records, "default", "v=DKIM1; p=")
    publish(records, "s1", f"v=DKIM1; p={keys['rsa2048']}")
    result = await run(server)
    assert result.status is Status.OK
    assert "dkim.revoked" in codes(result, Severity.INFO)


async def test_discovery_only_revoked_keys_warns(records: Records, server: DnsServer) -> None:
    publish(records, "default", "v=DKIM1; p=")
    result = await run(server)
    assert result.status is Status.WARN
    assert "dkim.no-selector" in codes(result, Severity.WARN)


async def test_discovery_with_all_queries_failing_is_unknown(
    records: Records, server: DnsServer
) -> None:
    for sel in dkim.COMMON_SELECTORS:
        records.set_behaviour(f"{sel}._domainkey.{DOMAIN}.", "drop")
    result = await run(server, timeout=0.3)
    assert result.status is Status.UNKNOWN
    assert "dkim.discovery-incomplete" in codes(result)
    assert "dkim.no-selector" not in codes(result)


async def test_discovery_failures_do_not_spoil_a_found_key(
    records: Records, server: DnsServer, keys: dict[str, str]
) -> None:
    publish(records, "google", f"v=DKIM1; p={keys['rsa2048']}")
    records.set_behaviour(f"default._domainkey.{DOMAIN}.", "servfail")
    result = await run(server, timeout=0.3)
    assert result.status is Status.OK
    assert "dkim.discovery-incomplete" in codes(result, Severity.INFO)
    assert sel_details(result, "default")["status"] == "unknown"


def test_codes_are_documented_and_well_formed() -> None:
    for code, description in dkim.CODES.items():
        assert code.startswith("dkim.") and code == code.lower()
        assert description


async def test_a_wildcard_that_revokes_every_key_is_said_once(
    records: Records, server: DnsServer
) -> None:
    """Issue 18 item 3: a parked domain publishes `*._domainkey` with an empty p= on
    purpose. With no selector configured, that is one finding, not one per selector
    asked, and not "no usable key found"."""
    records.add_txt(f"*._domainkey.{DOMAIN}.", "v=DKIM1; p=")
    result = await run(server)
    assert result.status is Status.OK, result.findings
    assert codes(result) == {"dkim.wildcard-revoked"}
    assert len(result.findings) == 1
    assert "sends no mail" in result.summary
    assert result.fix is None
