"""Domain names: the lower-case absolute form used for keys and JSON (`absolute`), and
dnspython's conversions without their per-call costs, which add up over the thousands
of names of a bulk check (profiled): text to a `Name` (`name_from_text`), wire bytes to
labels (`read_name`) to a `Name` (`make_name`), a `Name` back to text (`name_text`,
memoized). Each gives dnspython's result or raises its error (tests/test_dns.py holds
them to it) and says what it skips.
"""

from __future__ import annotations

import functools

import dns.exception
import dns.name


def name_from_text(name: str) -> dns.name.Name:
    """`dns.name.from_text(name)`, the same Name or the same error, faster for the
    common case: an absolute ASCII name without escapes is its labels split at the dots
    (the Name constructor checks label and name lengths). Anything else goes to dnspython
    (IDNA for non-ASCII, backslash escapes, relative names, the root)."""
    if name.endswith(".") and name != "." and name.isascii() and "\\" not in name:
        labels = name.encode("ascii").split(b".")
        if b"" in labels[:-1] or max(map(len, labels)) > 63:
            return dns.name.Name(labels)  # raises what dnspython raises
        return make_name(tuple(labels))  # checks the 255-octet limit
    return dns.name.from_text(name)


@functools.lru_cache(maxsize=8192)  # pure; called for every query, mostly the same names
def absolute(name: str) -> str:
    """Lower-case, with exactly one trailing dot: the form used for keys and JSON."""
    name = name.strip().lower().rstrip(".")
    return name + "."


def name_text(name: dns.name.Name) -> str:
    """`name.to_text()`, memoized by labels: the MX hosts and SOA owners of a bulk run
    are the same few names in thousands of answers, and dnspython escapes each label of
    each one again (≈ 20 µs a name here)."""
    labels = name.labels
    text = _NAME_TEXTS.get(labels)
    if text is None:
        text = name.to_text()
        if len(_NAME_TEXTS) >= _NAME_TEXTS_MAX:
            _NAME_TEXTS.clear()  # any name can arrive: bounded, and refilled by use
        _NAME_TEXTS[labels] = text
    return text


_NAME_TEXTS: dict[tuple[bytes, ...], str] = {}
_NAME_TEXTS_MAX = 4096


def make_name(labels: tuple[bytes, ...]) -> dns.name.Name:
    """`dns.name.Name(labels)` for labels as `read_name` returns them, without the
    constructor's per-label conversion and checks (and its immutability guard, ≈ 4 µs).

    `read_name` already holds each label under 64 octets and the empty (root) label at
    the end only; the one check left is the name's 255-octet limit (RFC 1035 §3.1), which
    raises the same NameTooLong the constructor would. The Name is set up the way
    dnspython's own unpickling does it (its `labels` slot, set directly).
    """
    if len(labels) + sum(map(len, labels)) > 255:
        raise dns.name.NameTooLong
    name = _new_name(dns.name.Name)
    _set_labels(name, labels)
    return name


_new_name = object.__new__
_set_labels = dns.name.Name.labels.__set__  # the slot's descriptor, as Name.__setstate__


def name_wire(name: dns.name.Name) -> bytes:
    """The uncompressed wire form of an absolute name, lower-cased (RFC 4034 §6.2)."""
    return b"".join(len(label).to_bytes(1, "big") + label for label in name.labels).lower()


def read_name(wire: bytes, at: int, end: int | None = None) -> tuple[list[bytes], int]:
    """The labels of the (possibly compressed) name at `at`, and the offset after it.

    `dns.name.from_wire_parser`, step for step (RFC 1035 §4.1.4): a pointer must point
    before the name part it ends, chains are limited, and no part may run into the part
    that pointed to it; `end` bounds the first part (a record's data: its end). Any fault
    raises (the reply is then declined). The labels make a valid Name (whose constructor,
    or `make_name`, checks the 255-octet limit).
    """
    labels: list[bytes] = []
    if end is None:
        end = len(wire)
    start = biggest = at
    after = -1
    hops = 0
    while True:
        if at >= end:
            raise dns.exception.FormError
        count = wire[at]
        at += 1
        if count == 0:
            break
        if count < 64:
            if at + count > end:
                raise dns.exception.FormError
            labels.append(wire[at : at + count])
            at += count
        elif count >= 192:
            if at >= end:
                raise dns.exception.FormError
            target = (count & 0x3F) * 256 + wire[at]
            at += 1
            if target >= biggest:
                raise dns.name.BadPointer
            biggest = target
            hops += 1
            if _MAX_HOPS is not None and hops > _MAX_HOPS:
                raise dns.exception.FormError
            if after < 0:
                after = at
            end, start, at = start, target, target
        else:
            raise dns.name.BadLabelType
    labels.append(b"")
    return labels, at if after < 0 else after


_MAX_HOPS: int | None = getattr(dns.name, "MAX_COMPRESSION_POINTER_CHAIN", None)
