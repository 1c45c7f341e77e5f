"""The MTA-STS policy file (RFC 8461 §3.2) and the MX patterns it lists (§4.1).

    version: STSv1
    mode: enforce | testing | none
    mx: mail.example.com          (repeated; "*." matches exactly one leftmost label)
    max_age: 604800               (seconds, 0 … 31557600)

Lines end in LF or CRLF; `key:` then optional spaces then the value; other keys are
extensions, ignored. The file is attacker-controlled text: it is parsed in one pass over
its lines (the fetch caps it at 64 KB), and every problem is a `PolicyProblem`, never an
exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_AGE_LIMIT = 31_557_600  # §3.2: "between 0 and 31557600"
MODES = ("enforce", "testing", "none")

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}\Z")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9\-]{1,63}(?<!-)\Z")


@dataclass(frozen=True)
class PolicyProblem:
    """One rule of §3.2 the file breaks: `fatal` ones make senders discard the policy."""

    slug: str
    message: str
    fatal: bool = True


@dataclass
class Policy:
    """What a sender reads of the file (the first value of a field given twice)."""

    version: str | None = None
    mode: str | None = None
    max_age: int | None = None
    mx: list[str] = field(default_factory=list)
    extensions: list[str] = field(default_factory=list)
    problems: list[PolicyProblem] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        """Senders can apply it: no fatal problem."""
        return not any(p.fatal for p in self.problems)


def parse_policy(text: str) -> Policy:
    """Parse the body of `/.well-known/mta-sts.txt` (already decoded)."""
    policy = Policy()
    seen: dict[str, int] = {}
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the optional final line end
    blank = 0
    for number, raw in enumerate(lines, start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if not line.strip(" \t"):
            blank += 1
            continue
        key, colon, value = line.partition(":")
        value = value.strip(" \t")
        if not colon or not _KEY.match(key):
            policy.problems.append(
                PolicyProblem(
                    "policy-syntax", f'line {number} is not "key: value" ({_short(line)})'
                )
            )
            continue
        seen[key] = seen.get(key, 0) + 1
        if key == "mx":
            policy.mx.append(value)
            continue
        if key not in ("version", "mode", "max_age"):
            policy.extensions.append(key)
            continue
        if seen[key] > 1:
            policy.problems.append(
                PolicyProblem(
                    "policy-repeated-field",
                    f"{key}: appears more than once (line {number}); the RFC wants it once, "
                    "and senders may read either value",
                    fatal=False,
                )
            )
            continue
        _field(policy, key, value, number)
    if blank:
        policy.problems.append(
            PolicyProblem(
                "policy-blank-line",
                f"{blank} blank line(s): the grammar has none, and strict senders may reject "
                "the file",
                fatal=False,
            )
        )
    _required(policy)
    return policy


def _field(policy: Policy, key: str, value: str, number: int) -> None:
    if key == "version":
        policy.version = value
        if value != "STSv1":
            policy.problems.append(
                PolicyProblem("policy-version", f"version is {_short(value)!r}, not STSv1")
            )
    elif key == "mode":
        policy.mode = value
        if value not in MODES:
            policy.problems.append(
                PolicyProblem(
                    "policy-mode", f"mode {_short(value)!r} is not enforce, testing or none"
                )
            )
    elif not (value.isascii() and value.isdigit() and len(value) <= 10):
        policy.problems.append(
            PolicyProblem("policy-max-age", f"max_age {_short(value)!r} is not a number of seconds")
        )
    else:
        policy.max_age = int(value)
        if policy.max_age > MAX_AGE_LIMIT:
            policy.problems.append(
                PolicyProblem(
                    "policy-max-age",
                    f"max_age {policy.max_age} is over the limit of {MAX_AGE_LIMIT} (a year)",
                )
            )


def _required(policy: Policy) -> None:
    missing = [k for k in ("version", "mode", "max_age") if getattr(policy, k) is None]
    if missing:
        policy.problems.append(
            PolicyProblem("policy-syntax", f"the required field(s) {', '.join(missing)} missing")
        )
    if not policy.mx and policy.mode in ("enforce", "testing"):
        policy.problems.append(
            PolicyProblem("policy-no-mx", f"no mx: line, required in {policy.mode} mode")
        )
    for pattern in policy.mx:
        if not valid_pattern(pattern):
            policy.problems.append(
                PolicyProblem(
                    "mx-pattern-invalid",
                    f'mx: {_short(pattern)!r} is not a host name or "*." and a domain',
                )
            )


def valid_pattern(pattern: str) -> bool:
    """`["*."] Domain`: a host name, or a wildcard as its whole leftmost label."""
    name = pattern[2:] if pattern.startswith("*.") else pattern
    labels = name.rstrip(".").split(".")
    return len(labels) >= 2 and all(_LABEL.match(label) for label in labels)


def matches(pattern: str, host: str) -> bool:
    """§4.1: the MX host matches the pattern exactly, or a "*." pattern with one label in
    place of the "*" (`*.example.com` matches `mx.example.com`, not `a.b.example.com` nor
    `example.com`). Case-insensitive; trailing dots ignored."""
    pattern = pattern.lower().rstrip(".")
    host = host.lower().rstrip(".")
    if pattern.startswith("*."):
        first, dot, rest = host.partition(".")
        return bool(first) and bool(dot) and rest == pattern[2:]
    return host == pattern


def uncovered(patterns: list[str], hosts: list[str]) -> list[str]:
    """The MX hosts no (valid) pattern matches."""
    good = [p for p in patterns if valid_pattern(p)]
    return [h for h in hosts if not any(matches(p, h) for p in good)]


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
