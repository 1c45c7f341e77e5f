"""What the strings of a config must be — domain names, DKIM selectors, MX host patterns,
IP networks — each normalized to one spelling, or an error that names the input.

Bounded work (issue 19): names are split once at dots and each label checked with
string methods and set differences, non-ASCII ones converted by the IDNA codec once
each; nothing here backtracks.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import idna

from esm_tui.config.errors import DomainNameError, SelectorError

_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")
#: What IDNA treats as a label separator besides "." (RFC 3490 §3.1).
_IDNA_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def _labels(text: str) -> list[str]:
    """ASCII, lower-case labels of a dotted name; ValueError with a reason."""
    labels = []
    for label in text.translate(_IDNA_DOTS).split("."):
        if not label:
            raise ValueError("it has an empty label ('..', or a leading dot)")
        if not label.isascii():
            try:
                # IDNA 2008 with UTS #46 mapping, as browsers and registries: "faß" is
                # xn--fa-hia (the standard library's codec is IDNA 2003: "fass").
                label = idna.encode(label, uts46=True).decode("ascii")
            except (idna.IDNAError, UnicodeError) as exc:
                raise ValueError(f"label {label!r} cannot be converted with IDNA ({exc})") from None
        label = label.lower()
        bad = sorted(set(label) - _LABEL_CHARS)
        if bad:
            shown = ", ".join(repr(c) for c in bad)
            raise ValueError(
                f"label {label!r} contains {shown} (only letters, digits, '-' and '_')"
            )
        if len(label) > 63:
            raise ValueError(f"label {label[:20]!r}... is longer than 63 characters")
        if label.startswith("-") or label.endswith("-"):
            raise ValueError(f"label {label!r} starts or ends with a hyphen")
        labels.append(label)
    return labels


def normalize_domain(text: str) -> str:
    """ASCII (IDNA), lower-case, without a trailing dot; DomainNameError if not a domain name.

    IDNA 2008 (UTS #46) through the `idna` package: "faß.de" is "xn--fa-hia.de".
    """
    name = text.strip()
    if name.endswith("."):
        name = name[:-1]
    if not name:
        raise DomainNameError(text, "it is empty")
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        raise DomainNameError(text, "it is an IP address; give a domain name")
    try:
        labels = _labels(name)
    except ValueError as exc:
        raise DomainNameError(text, str(exc)) from None
    ascii_name = ".".join(labels)
    if len(ascii_name) > 253:
        raise DomainNameError(text, f"it is {len(ascii_name)} characters long (at most 253)")
    if len(labels) < 2:
        raise DomainNameError(text, "it is a single label; give the full name, e.g. example.com")
    if labels[-1].isdigit():
        raise DomainNameError(text, f"its top-level domain {labels[-1]!r} is all digits")
    return ascii_name


def normalize_selector(text: str) -> str:
    """A DKIM selector (RFC 6376 §3.1: dot-separated labels), ASCII and lower-case."""
    selector = text.strip()
    if not selector:
        raise SelectorError(f"{text!r} is not a valid DKIM selector: it is empty")
    try:
        labels = _labels(selector)
    except ValueError as exc:
        raise SelectorError(f"{text!r} is not a valid DKIM selector: {exc}") from None
    result = ".".join(labels)
    if len(result) > 200:  # leaves room for "._domainkey." and the domain
        raise SelectorError(f"{text!r} is not a valid DKIM selector: it is too long")
    return result


def mx_pattern(text: str) -> str:
    name = text.strip()
    glob = name.startswith("*.")
    rest = name[2:] if glob else name
    if "*" in rest:
        raise ValueError(
            f"{text!r} is not a valid MX host name: '*' is allowed only as the first label, "
            "as in '*.relay.example'"
        )
    try:
        return ("*." if glob else "") + normalize_domain(rest)
    except DomainNameError as exc:
        raise ValueError(f"{text!r} is not a valid MX host name: {exc.reason}") from None


def network(text: str) -> str:
    candidate = text.strip()
    try:
        if "%" in candidate:  # a scoped address is no SPF network
            raise ValueError
        ipaddress.ip_network(candidate, strict=False)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an IP address or network "
            "(e.g. 192.0.2.1, 192.0.2.0/24, 2001:db8::/32)"
        ) from None
    return candidate


def unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for item in items if item))
