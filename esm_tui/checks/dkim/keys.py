"""The public key in `p=`: decoding it (pure) and judging it (SPEC §4 "DKIM").

`decode_key` returns a `DkimKey` or raises `DkimKeyError`; nothing else escapes, whatever the
(attacker-controlled) input. `judge_key` turns what it finds into a selector's findings: no
p=, a revoked (empty) key, a key that does not decode as its declared type (RFC 6376
§3.6.1, RFC 8463 §4.2), an RSA size verifiers reject or should not be given (RFC 8301 §3.2).

Bounded work (issue 19): the key is base64-decoded once (whitespace removed by one
split/join), then handed to `cryptography`, whose DER parser is linear; an RSA key is
loaded at most twice (SubjectPublicKeyInfo, then PKCS#1).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from esm_tui.checks.dkim.parse import DkimRecord
from esm_tui.checks.dkim.verdict import REF, SelectorResult

#: The key types a verifier knows: RFC 6376 §3.6.1 (rsa) and RFC 8463 §4 (ed25519).
KNOWN_KEY_TYPES = ("rsa", "ed25519")

#: RFC 8463 §4.2: an Ed25519 p= is the bare 32-byte public key, not an ASN.1 structure.
ED25519_KEY_BYTES = 32

_REF_SIZE = "RFC 8301 §3.2"
_REF_ED25519 = "RFC 8463 §4.2"

#: Below this an RSA key is rejected by verifiers; below the second it should be replaced.
RSA_MIN_BITS = 1024
RSA_GOOD_BITS = 2048
#: RFC 8301 §3.2: verifiers must handle 1024-4096 bits; larger keys may not verify everywhere.
RSA_MAX_VERIFIED_BITS = 4096

_KEY_NAMES = {"rsa": "RSA", "ed25519": "Ed25519"}


class DkimKeyError(ValueError):
    """`p=` does not hold a public key of the declared type; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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


def judge_key(res: SelectorResult, record: DkimRecord, key_type: str) -> None:
    """The key in the record: present, not revoked, decodable, of a size verifiers accept."""
    sel, p = res.selector, record.get("p")
    if p is None:
        hint = " (found 'P=': tag names are case-sensitive)" if "P" in record else ""
        res.fail(
            "dkim.p-missing",
            f"Selector '{sel}': the record has no p= tag, so it holds no public key{hint}.",
            REF,
            "no p=",
        )
        res.steps.append(f"Add p=<base64 public key> to the record of '{sel}'.")
        return
    if not "".join(p.split()):
        res.revoked = True
        res.fail(
            "dkim.revoked",
            f"Selector '{sel}': p= is empty, which revokes the key; signatures made with "
            "this selector fail.",
            REF,
            "revoked",
        )
        res.steps.append(
            f"If '{sel}' still signs mail, publish its current public key in p=; if it "
            "was retired on purpose, remove it from the esm-tui configuration."
        )
        return
    if key_type not in KNOWN_KEY_TYPES:
        return
    try:
        key = decode_key(key_type, p)
    except DkimKeyError as exc:
        ref = _REF_ED25519 if key_type == "ed25519" else REF
        res.fail(
            "dkim.key-invalid",
            f"Selector '{sel}': p= does not decode to an {_KEY_NAMES[key_type]} public key: "
            f"{exc.reason}.",
            ref,
            "bad key",
        )
        res.steps.append(
            f"Copy the public key of '{sel}' again from your mail system into p= (base64; "
            "check that nothing was cut off when it was split into 255-byte strings)."
        )
        return
    res.details["key_bits"] = key.bits
    res.details["key_encoding"] = key.encoding
    _judge_key_size(res, key)


def _judge_key_size(res: SelectorResult, key: DkimKey) -> None:
    sel, bits = res.selector, key.bits
    res.label = f"{key.key_type} {bits}" if key.key_type == "rsa" else key.key_type
    if key.key_type != "rsa":
        return
    new_key = (
        f"Generate a {RSA_GOOD_BITS}-bit key in your mail system and publish it under a new "
        f"selector, then retire '{sel}' (switch signing over, wait a few days, then empty its p=)."
    )
    if bits < RSA_MIN_BITS:
        res.fail(
            "dkim.rsa-too-short",
            f"Selector '{sel}': the RSA key has {bits} bits; verifiers must not accept keys "
            f"under {RSA_MIN_BITS} bits, so every signature fails.",
            _REF_SIZE,
            f"rsa {bits}",
        )
        res.steps.append(new_key)
    elif bits < RSA_GOOD_BITS:
        res.warn(
            "dkim.rsa-short",
            f"Selector '{sel}': the RSA key has {bits} bits; signers should use at least "
            f"{RSA_GOOD_BITS} bits.",
            _REF_SIZE,
        )
        res.steps.append(new_key)
    elif bits > RSA_MAX_VERIFIED_BITS:
        res.info(
            "dkim.rsa-large",
            f"Selector '{sel}': the RSA key has {bits} bits; verifiers are only required to "
            f"handle up to {RSA_MAX_VERIFIED_BITS}.",
            _REF_SIZE,
        )
    if key.encoding == "pkcs1":
        res.info(
            "dkim.rsa-pkcs1",
            f"Selector '{sel}': p= is a bare RSAPublicKey (PKCS#1); most publishers use "
            "SubjectPublicKeyInfo, and some verifiers accept only that.",
            REF,
        )
