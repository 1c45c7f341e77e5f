"""Repairs of an SPF record's form that keep every mechanism: quotes, spaces, typos.

Records pasted into a DNS host's web form often arrive broken only in their form: the
zone-file quotes kept as characters (`"v=spf1 include:_spf.example.net ~all"`), a space
inside a term (`include: _spf.example.net`, `ip4:192.0.2.0 /24`), a misspelt mechanism
(`inlcude:`, `ipv4:`), a misspelt version (`v=spf`, `v=sfp1`) or a misspelt modifier
(`redirct=`, which receivers ignore as unknown). Each such record either is no SPF record
at all for receivers or a permerror, yet its intent is plain: the repair writes the same
mechanisms in the valid form, and says what it changed. Nothing is ever dropped here; a
term whose intent is not clear is left as it is (fix.py then explains it).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from esm_tui.spf.errors import SpfSyntaxError, quote
from esm_tui.spf.parse import MECHANISMS, Modifier, is_spf_record, parse_term, split_terms

#: Mechanisms that take an argument after ':' (a misspelt one is matched against these).
_WITH_ARGUMENT = ("include", "exists", "ip4", "ip6", "a", "mx", "ptr")
_SPELLINGS = {"ipv4": "ip4", "ipv6": "ip6", "inc": "include", "incl": "include"}
_MODIFIERS = ("redirect", "exp")
#: A version tag that was meant to be `v=spf1` (not Sender ID's `spf2.0/...`).
_VERSION_LIKE = re.compile(r"\s*v\s*[=:\-]?\s*s[pf]{2}\s*1?\s*[;,]?(?=\s|\Z)", re.IGNORECASE)
_WHITESPACE = re.compile(r"[\t\n\r\v\f\u00a0]")
_TERM_START = re.compile(r"([+\-~?]?)([A-Za-z][A-Za-z0-9]*)([:=])(.*)\Z", re.DOTALL)


@dataclass(frozen=True)
class FormRepair:
    """The record in its valid form, and one step per kind of change."""

    text: str
    steps: tuple[str, ...]


def looks_like_spf(text: str) -> bool:
    """A TXT value that receivers do not read as SPF but that was meant to be one."""
    if is_spf_record(text):
        return False
    repaired = repair_form(text)
    return repaired is not None and is_spf_record(repaired.text)


def repair_form(text: str) -> FormRepair | None:
    """`text` with its form corrected, or None when its form needs nothing (or is not SPF)."""
    steps: list[str] = []
    value = _unquote(text, steps)
    value = _whitespace(value, steps)
    value = _version(value, steps)
    if not is_spf_record(value):
        return None
    value = _terms(value, steps)
    return FormRepair(value, tuple(steps)) if value != text and steps else None


def _unquote(text: str, steps: list[str]) -> str:
    if '"' not in text:
        return text
    # A zone file's `"a" "b"` is the one string "ab"; a web form stores the quotes as
    # characters. Read them as the zone file means them, unless that glues two terms.
    joined = re.sub(r'"\s+"', "", text).replace('"', "")
    spaced = re.sub(r'"\s+"', " ", text).replace('"', "")
    value = joined if _clean(joined) or not _clean(spaced) else spaced
    steps.append(
        "Removed the quote characters inside the value: they are zone-file syntax, not part of "
        "the record, and a record that does not start with 'v=spf1' is no SPF record "
        "(RFC 7208 §3.3, §4.5). Enter the value without quotes at your DNS host."
    )
    return value.strip()


def _clean(text: str) -> bool:
    if not is_spf_record(text):
        return False
    try:
        for start, token in split_terms(text):
            parse_term(token, start)
    except SpfSyntaxError:
        return False
    return True


def _whitespace(text: str, steps: list[str]) -> str:
    value = _WHITESPACE.sub(" ", text).strip()
    value = re.sub(" {2,}", " ", value)
    if value != text.strip() and (_WHITESPACE.search(text) or "  " in text):
        steps.append(
            "Replaced tabs, line breaks and double spaces with single spaces: only a space "
            "separates SPF terms (RFC 7208 §4.6.1)."
        )
    elif value != text:
        value = value.strip()
    return value


def _version(text: str, steps: list[str]) -> str:
    if is_spf_record(text):
        return text
    match = _VERSION_LIKE.match(text)
    if match is None or text.lower().startswith("spf2"):
        return text
    version = match.group(0).strip()
    rest = text[match.end() :].strip()
    steps.append(
        f"Replaced the version {quote(version)} with 'v=spf1': receivers read a TXT record as "
        "SPF only when it starts with exactly 'v=spf1' and a space (RFC 7208 §4.5)."
    )
    return f"v=spf1 {rest}".rstrip()


def _terms(text: str, steps: list[str]) -> str:
    tokens = [token for _, token in split_terms(text)]
    out: list[str] = []
    have_redirect = any(t.lower().startswith("redirect=") for t in tokens)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if following is not None and not (_valid(token) and _valid(following)):
            glued = _glue(token, following)
            if glued is not None:
                steps.append(
                    f"Joined {quote(token)} and {quote(following)} into {quote(glued)}: a space "
                    "inside a term splits it in two, and a half alone is not a valid term "
                    "(RFC 7208 §4.6.1)."
                )
                out.append(glued)
                i += 2
                continue
        repaired = _spelling(token, have_redirect)
        if repaired is not None:
            have_redirect = have_redirect or repaired.lower().startswith("redirect=")
            steps.append(_spelling_step(token, repaired))
            token = repaired
        out.append(token)
        i += 1
    return " ".join(["v=spf1", *out])


def _valid(token: str) -> bool:
    try:
        parse_term(token)
    except SpfSyntaxError:
        return False
    return True


def _glue(token: str, following: str) -> str | None:
    """`include:` + `x.example`, `ip4:192.0.2.0` + `/24`, `include` + `:x.example`."""
    if token.endswith((":", "=")) or following.startswith((":", "/", "=")):
        candidate = token + following
        if _valid(candidate) or _spelling(candidate, False) is not None:
            return candidate if _valid(candidate) else _spelling(candidate, False)
    return None


def _spelling(token: str, have_redirect: bool) -> str | None:
    """A misspelt mechanism (a permerror) or modifier (ignored), when the intent is clear."""
    match = _TERM_START.match(token)
    if match is None:
        return None
    qualifier, name, separator, argument = match.groups()
    lower = name.lower()
    if separator == ":":
        if lower in MECHANISMS or not argument:
            return None
        if lower == "ip":
            guess = "ip6" if ":" in argument else "ip4"
        else:
            close = difflib.get_close_matches(lower, _WITH_ARGUMENT, n=1, cutoff=0.7)
            guess = _SPELLINGS.get(lower) or (close[0] if close else None)
        if guess is None:
            return None
        candidate = f"{qualifier}{guess}:{argument}"
        return candidate if _valid(candidate) else None
    # A modifier: redirect and exp only, and only when not present already.
    if qualifier or lower in _MODIFIERS:
        return None
    close = difflib.get_close_matches(lower, _MODIFIERS, n=1, cutoff=0.75)
    if not close or (close[0] == "redirect" and have_redirect) or len(lower) < 3:
        return None
    candidate = f"{close[0]}={argument}"
    try:
        term = parse_term(candidate)
    except SpfSyntaxError:
        return None
    return candidate if isinstance(term, Modifier) else None


def _spelling_step(token: str, repaired: str) -> str:
    if "=" in repaired.split(":", 1)[0]:
        effect = "receivers ignore a modifier they do not know, so it did nothing (RFC 7208 §6)"
    else:
        effect = "an unknown mechanism makes the whole record a permerror (RFC 7208 §5)"
    return f"Corrected the spelling {quote(token)} to {quote(repaired)}: {effect}."
