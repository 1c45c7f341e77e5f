"""Pure parsing of DKIM key records: the tag=value list (RFC 6376 §3.2) and the key in `p=`.

No I/O. `parse_dkim` returns a `DkimRecord` or raises `DkimSyntaxError` (with the position
in the text); `decode_key` returns a `DkimKey` or raises `DkimKeyError`. Nothing else
escapes either, whatever the (attacker-controlled) input.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

#: RFC 6376 §3.2 allows FWS (which may contain CRLF) around and between values; a bare CR or
#: LF is accepted too: DNS publishers mangle line ends, verifiers skip them alike.
_WHITESPACE = " \t\r\n"

#: The key types a verifier knows: RFC 6376 §3.6.1 (rsa) and RFC 8463 §4 (ed25519).
KNOWN_KEY_TYPES = ("rsa", "ed25519")

#: RFC 8463 §4.2: an Ed25519 p= is the bare 32-byte public key, not an ASN.1 structure.
ED25519_KEY_BYTES = 32


class DkimSyntaxError(ValueError):
    """The record is not a tag=value list; `position` is the 0-based index of the fault."""

    def __init__(self, reason: str, position: int) -> None:
        super().__init__(f"{reason} (at character {position + 1})")
        self.reason = reason
        self.position = position


class DkimKeyError(ValueError):
    """`p=` does not hold a public key of the declared type; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Tag:
    """One tag-spec: the value has the surrounding whitespace removed, inner folding kept."""

    name: str
    value: str
    position: int


@dataclass(frozen=True)
class DkimRecord:
    """A parsed key record: its tags in the order published."""

    tags: tuple[Tag, ...]

    def get(self, name: str) -> str | None:
        """The value of a tag (tag names are case-sensitive, RFC 6376 §3.2), or None."""
        for tag in self.tags:
            if tag.name == name:
                return tag.value
        return None

    def __contains__(self, name: object) -> bool:
        return any(tag.name == name for tag in self.tags)

    def as_dict(self) -> dict[str, str]:
        return {tag.name: tag.value for tag in self.tags}

    def items(self, name: str) -> list[str] | None:
        """A colon-separated tag (h=, s=, t=) as lower-case items; None when absent.

        The values are ABNF literals, which are case-insensitive (RFC 5234 §2.3).
        """
        value = self.get(name)
        if value is None:
            return None
        return [item.strip(_WHITESPACE).lower() for item in value.split(":") if item.strip()]


def parse_dkim(text: str) -> DkimRecord:
    """Parse a DKIM key record's tag-list (RFC 6376 §3.2, §3.6.1).

    Lenient where verifiers are: empty tag-specs (`;;`, a trailing `; `) are skipped.
    Strict where the RFC makes the whole record invalid: a tag without `=`, a bad tag
    name, a character outside VALCHAR in a value, a tag that occurs twice.
    """
    tags: list[Tag] = []
    seen: set[str] = set()
    start = 0
    for segment in text.split(";"):
        tag = _parse_tag_spec(segment, start)
        if tag is not None:
            if tag.name in seen:
                raise DkimSyntaxError(
                    f"tag {tag.name!r} occurs twice (the whole tag-list is then invalid)",
                    tag.position,
                )
            seen.add(tag.name)
            tags.append(tag)
        start += len(segment) + 1
    return DkimRecord(tuple(tags))


def _parse_tag_spec(segment: str, offset: int) -> Tag | None:
    if not segment.strip(_WHITESPACE):
        return None
    name_start = offset + len(segment) - len(segment.lstrip(_WHITESPACE))
    equals = segment.find("=")
    if equals < 0:
        raise DkimSyntaxError("expected 'tag=value', found no '='", name_start)
    name = segment[:equals].strip(_WHITESPACE)
    if not _valid_tag_name(name):
        raise DkimSyntaxError(f"invalid tag name {name!r}", name_start)
    raw_value = segment[equals + 1 :]
    value_start = offset + equals + 1
    # The common case (a clean value, such as a 400-character key) in one regex match;
    # the loop below finds and reports the first bad character.
    if _CLEAN_VALUE.fullmatch(raw_value) is None:
        for index, char in enumerate(raw_value):
            if char not in _WHITESPACE and not _valchar(char):
                raise DkimSyntaxError(
                    f"character {_describe_char(char)} is not allowed in the value of {name!r}",
                    value_start + index,
                )
    return Tag(name, raw_value.strip(_WHITESPACE), name_start)


#: A value made only of VALCHAR (%x21-7E) and the whitespace accepted around and in it.
_CLEAN_VALUE = re.compile(r"[\x21-\x7e \t\r\n]*")


def _valid_tag_name(name: str) -> bool:
    # tag-name = ALPHA *ALNUMPUNC; ALNUMPUNC = ALPHA / DIGIT / "_" (ASCII only).
    if not name or not (name[0].isascii() and name[0].isalpha()):
        return False
    return all(c.isascii() and (c.isalnum() or c == "_") for c in name)


def _valchar(char: str) -> bool:
    # VALCHAR = %x21-3A / %x3C-7E: printable ASCII except ";" (which cannot occur here).
    return "\x21" <= char <= "\x7e"


def _describe_char(char: str) -> str:
    if char.isprintable() and not char.isspace():
        return f"{char!r} (U+{ord(char):04X})"
    return f"U+{ord(char):04X}"


@dataclass(frozen=True)
class DkimKey:
    """A decoded public key: `bits` is the RSA modulus size, or 256 for Ed25519."""

    key_type: str
    bits: int
    #: "spki" (SubjectPublicKeyInfo), "pkcs1" (bare RSAPublicKey) or "raw" (Ed25519).
    encoding: str


def decode_base64(value: str) -> bytes:
    """The bytes of a base64 tag value; folding whitespace is allowed (RFC 6376 §2.4)."""
    compact = "".join(value.split())
    if not compact.isascii():
        raise DkimKeyError("p= contains non-ASCII characters")
    # Missing '=' padding is tolerated: verifiers' decoders accept it, and it loses nothing.
    if len(compact) % 4:
        compact += "=" * (-len(compact) % 4)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DkimKeyError(f"p= is not valid base64 ({exc})") from None


#: Decoded keys by (type, p=): providers publish one key for many domains, and loading
#: a 2048-bit key costs ~25 µs of cryptography's parsing each time. Only successes are
#: kept (an error is raised afresh); bounded in entries and in the size of each p=.
_KEYS: dict[tuple[str, str], DkimKey] = {}
KEY_MEMO_MAX = 1024
KEY_MEMO_MAX_TEXT = 4096


def decode_key(key_type: str, p: str) -> DkimKey:
    """Decode `p=` as a key of type `key_type` ("rsa" or "ed25519", case-insensitive)."""
    known = _KEYS.get((key_type, p))
    if known is not None:
        return known
    key = _decode_key(key_type, p)
    if len(p) <= KEY_MEMO_MAX_TEXT:
        if len(_KEYS) >= KEY_MEMO_MAX:
            _KEYS.clear()
        _KEYS[(key_type, p)] = key
    return key


def _decode_key(key_type: str, p: str) -> DkimKey:
    kind = key_type.lower()
    if kind not in KNOWN_KEY_TYPES:
        raise DkimKeyError(f"unknown key type {key_type!r}")
    data = decode_base64(p)
    if not data:
        raise DkimKeyError("p= is empty")
    if kind == "ed25519":
        return _decode_ed25519(data)
    return _decode_rsa(data)


def _decode_ed25519(data: bytes) -> DkimKey:
    if len(data) != ED25519_KEY_BYTES:
        hint = ""
        if len(data) == 44 and _load_der(data) is not None:
            hint = " (this looks like a SubjectPublicKeyInfo wrapper: publish only the raw key)"
        raise DkimKeyError(
            f"an Ed25519 key is {ED25519_KEY_BYTES} raw bytes, p= holds {len(data)}{hint}"
        )
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise DkimKeyError(f"not an Ed25519 public key ({exc})") from None
    return DkimKey("ed25519", 256, "raw")


def _decode_rsa(data: bytes) -> DkimKey:
    key = _load_der(data)
    encoding = "spki"
    if key is None:
        # Some publishers put a bare PKCS#1 RSAPublicKey in p=; verifiers differ, we accept it.
        key = _load_pkcs1(data)
        encoding = "pkcs1"
    elif isinstance(key, rsa.RSAPublicKey) and _is_pkcs1(key, data):
        # Recent cryptography versions fall back to PKCS#1 inside load_der_public_key.
        encoding = "pkcs1"
    if key is None:
        raise DkimKeyError(
            "p= is neither a DER SubjectPublicKeyInfo nor an RSAPublicKey "
            f"({len(data)} bytes; truncated or mis-copied?)"
        )
    if not isinstance(key, rsa.RSAPublicKey):
        raise DkimKeyError(f"p= holds {_key_kind(key)}, not an RSA key")
    return DkimKey("rsa", key.key_size, encoding)


def _load_der(data: bytes) -> object | None:
    try:
        return serialization.load_der_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None


def _load_pkcs1(data: bytes) -> rsa.RSAPublicKey | None:
    pem = (
        b"-----BEGIN RSA PUBLIC KEY-----\n"
        + base64.encodebytes(data)
        + b"-----END RSA PUBLIC KEY-----\n"
    )
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None
    return key if isinstance(key, rsa.RSAPublicKey) else None


def _is_pkcs1(key: rsa.RSAPublicKey, data: bytes) -> bool:
    pkcs1 = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return pkcs1 == data


def _key_kind(key: object) -> str:
    name = type(key).__name__.removesuffix("PublicKey")
    return f"an {name} key" if name[:1] in "AEIOU" else f"a {name} key"
