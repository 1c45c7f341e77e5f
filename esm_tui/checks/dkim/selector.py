"""SPEC §4's rules for one DKIM selector: the answer at `SEL._domainkey.DOMAIN` and its record.

The answer: missing (NXDOMAIN, NODATA), several TXT records, reached through a CNAME. The
record: a valid tag-list, v=, k=, h=, s=, t= and unknown tags (RFC 6376 §3.6.1, RFC 8301
§3.1), the key itself (keys.py), and the record with its tag-level faults repaired.
"""

from __future__ import annotations

import re

from esm_tui.checks.context import failure_finding
from esm_tui.checks.dkim.keys import KNOWN_KEY_TYPES, judge_key
from esm_tui.checks.dkim.parse import DkimRecord, DkimSyntaxError, parse_dkim
from esm_tui.checks.dkim.verdict import REF, SelectorResult
from esm_tui.dns import Answer, Failure, NoData, NxDomain, Outcome
from esm_tui.model import FixRecord, Severity, Status

_REF_TAGS = "RFC 6376 §3.2"
_REF_DNS = "RFC 6376 §3.6.2.2"
_REF_SHA1 = "RFC 8301 §3.1"

_KNOWN_TAGS = frozenset({"v", "h", "k", "n", "p", "s", "t"})
#: A TXT value that is a host name: a provider's CNAME target pasted as text.
_HOST_NAME = re.compile(r"(?=.{4,253}\.?\Z)([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)+"
                        r"[A-Za-z]{2,63}\.?")  # fmt: skip
_LONG = 60


def judge_selector(
    selector: str, name: str, outcome: Outcome, *, discovered: bool
) -> SelectorResult:
    """Apply SPEC §4's per-selector rules to the answer for `name`."""
    res = SelectorResult(selector, name, discovered, Status.OK)
    res.details = {
        "status": None,
        "record": None,
        "key_type": None,
        "key_bits": None,
        "testing": False,
        "name": name,
        "cname": list(getattr(outcome, "cnames", ())),
        "discovered": discovered,
    }
    match outcome:
        case Failure():
            res.status = Status.UNKNOWN
            res.findings.append(failure_finding("dkim", outcome))
            res.label = "?"
        case NxDomain() | NoData():
            _missing(res, outcome)
        case Answer():
            _judge_answer(res, outcome)
    if res.details["cname"] and res.steps and _delegated_away(name, res.details["cname"][-1]):
        # Delegated to a provider by CNAME: the key record is theirs to change.
        target = res.details["cname"][-1].rstrip(".")
        operator = ".".join(target.split(".")[-2:])
        res.steps.insert(
            0,
            f"Selector '{selector}' is a CNAME to {target}: its key is published there, by "
            f"the operator of {operator}. Ask {operator} to make the change below, or "
            "replace the CNAME with your own key record (remove the CNAME first).",
        )
    if res.status is not Status.UNKNOWN:
        severities = {f.severity for f in res.findings}
        if Severity.FAIL in severities:
            res.status = Status.FAIL
        elif Severity.WARN in severities:
            res.status = Status.WARN
    res.details["status"] = str(res.status)
    return res


def _via(res: SelectorResult) -> str:
    chain = res.details["cname"]
    return f" (via CNAME {' -> '.join(chain)})" if chain else ""


def _missing(res: SelectorResult, outcome: NxDomain | NoData) -> None:
    if isinstance(outcome, NxDomain):
        why = "the name does not exist (NXDOMAIN)"
    else:
        why = "the name exists but has no TXT record (NODATA)"
    res.fail(
        "dkim.missing",
        f"No DKIM key for selector '{res.selector}' at {res.name}{_via(res)}: {why}. "
        "Mail signed with this selector fails DKIM verification.",
        _REF_DNS,
        "missing",
    )
    target = res.details["cname"][-1] if res.details["cname"] else res.name
    res.steps.append(
        f"Publish the public key of selector '{res.selector}' as a TXT record at {target} "
        "(value: v=DKIM1; k=rsa; p=<base64 key>). For the e-securemail relay's selector the "
        "exact value is in the e-securemail activation guide / panel; for your own mail "
        "system, in its DKIM settings."
    )


def _judge_answer(res: SelectorResult, answer: Answer) -> None:
    texts = answer.texts()
    res.records = texts
    res.ttl = answer.ttl
    if res.details["cname"]:
        res.info(
            "dkim.cname",
            f"Selector '{res.selector}': {res.name} is a CNAME; the key is read from "
            f"{answer.canonical}{_via(res)}.",
            "RFC 6376 §3.6.2.2",
        )
    if len(texts) != 1:
        res.details["records"] = texts
        res.fail(
            "dkim.multiple-records",
            f"{len(texts)} TXT records at {res.name}{_via(res)}; a selector must have exactly "
            "one, otherwise the key a verifier uses is undefined.",
            _REF_DNS,
            f"{len(texts)} records",
        )
        res.steps.append(f"Keep exactly one TXT record at {answer.canonical}; delete the others.")
        return
    text = texts[0]
    res.details["record"] = text
    if _HOST_NAME.fullmatch(text.strip()) and not res.details["cname"]:
        _host_name_as_text(res, text.strip())
        return
    try:
        record = parse_dkim(text)
    except DkimSyntaxError as exc:
        res.fail(
            "dkim.syntax",
            f"The record of selector '{res.selector}' at {res.name} is not a valid DKIM "
            f"tag list: {exc}. Verifiers ignore it.",
            _REF_TAGS,
            "syntax error",
        )
        res.steps.append(
            f"Re-publish the key record of '{res.selector}' as 'v=DKIM1; k=rsa; p=<key>' "
            "(tag=value pairs separated by ';', each tag once)."
        )
        return
    res.details["tags"] = record.as_dict()
    _judge_record(res, record)


def _judge_record(res: SelectorResult, record: DkimRecord) -> None:
    sel = res.selector
    _judge_version(res, record)
    key_type = (record.get("k") or "rsa").lower()
    if key_type in KNOWN_KEY_TYPES:
        res.details["key_type"] = key_type
    else:
        res.fail(
            "dkim.key-type-unknown",
            f"Selector '{sel}': k={_show(record.get('k'))} is not a key type verifiers know "
            "(rsa, ed25519); they ignore the key.",
            "RFC 6376 §3.6.1, RFC 8463 §4",
            "unknown k=",
        )
        res.steps.append(f"Set k=rsa or k=ed25519 in the record of '{sel}', as its key is.")
    _judge_hashes(res, record)
    _judge_services(res, record)
    flags = record.items("t") or []
    res.details["testing"] = "y" in flags
    if "y" in flags:
        res.warn(
            "dkim.testing",
            f"Selector '{sel}': t={_show(record.get('t'))} marks the domain as testing DKIM; "
            "verifiers may treat its signatures as if the mail were unsigned.",
            REF,
        )
        res.steps.append(f"When testing is over, remove 'y' from t= in the record of '{sel}'.")
    for tag in record.tags:
        if tag.name not in _KNOWN_TAGS:
            hint = " (tag names are case-sensitive)" if tag.name.lower() in _KNOWN_TAGS else ""
            res.info(
                "dkim.unknown-tag",
                f"Selector '{sel}': tag {tag.name!r} is not defined by RFC 6376{hint}; "
                "verifiers ignore it.",
                REF,
            )
    judge_key(res, record, key_type)
    _propose_record(res, record)


def _judge_version(res: SelectorResult, record: DkimRecord) -> None:
    version = record.get("v")
    if version is None:
        return
    if version != "DKIM1":
        res.fail(
            "dkim.version",
            f"Selector '{res.selector}': v={_show(version)} is not DKIM1; verifiers discard "
            "the record.",
            REF,
            "bad v=",
        )
        res.steps.append(f"Set v=DKIM1 (exactly) in the record of '{res.selector}'.")
    elif record.tags[0].name != "v":
        res.info(
            "dkim.v-not-first",
            f"Selector '{res.selector}': v=DKIM1 should be the first tag of the record.",
            REF,
        )


def _judge_hashes(res: SelectorResult, record: DkimRecord) -> None:
    hashes = record.items("h")
    if hashes is None or "sha256" in hashes:
        return
    value = _show(record.get("h"))
    if "sha1" in hashes:
        res.fail(
            "dkim.sha1-only",
            f"Selector '{res.selector}': h={value} allows only sha1, and verifiers must not "
            "accept sha1 signatures; every signature with this key fails.",
            _REF_SHA1,
            "sha1 only",
        )
    else:
        res.fail(
            "dkim.hash-unusable",
            f"Selector '{res.selector}': h={value} lists no hash algorithm verifiers accept "
            "(sha256); every signature with this key fails.",
            _REF_SHA1,
            "bad h=",
        )
    res.steps.append(
        f"Sign with rsa-sha256 (or ed25519-sha256) and set h=sha256 in the record of "
        f"'{res.selector}', or remove h=."
    )


def _judge_services(res: SelectorResult, record: DkimRecord) -> None:
    services = record.items("s")
    if services is None or "*" in services or "email" in services:
        return
    res.fail(
        "dkim.service-excludes-email",
        f"Selector '{res.selector}': s={_show(record.get('s'))} does not include email "
        "(or *), so the key may not be used to verify mail.",
        REF,
        "s= excludes email",
    )
    res.steps.append(f"Remove s= from the record of '{res.selector}' (the default is *).")


def _propose_record(res: SelectorResult, record: DkimRecord) -> None:
    """The record with its tag-level faults repaired, when the key itself is usable."""
    codes = {f.code for f in res.findings if f.severity is not Severity.INFO}
    fixable = {"dkim.version", "dkim.sha1-only", "dkim.hash-unusable"}
    fixable |= {"dkim.service-excludes-email", "dkim.testing"}
    if not codes or not codes <= fixable:
        return
    tags: list[tuple[str, str]] = [("v", "DKIM1")]
    for tag in record.tags:
        value = tag.value
        if tag.name == "v":
            continue
        if tag.name in ("h",) and codes & {"dkim.sha1-only", "dkim.hash-unusable"}:
            value = "sha256"
        elif tag.name == "s" and "dkim.service-excludes-email" in codes:
            continue
        elif tag.name == "t":
            flags = [f for f in value.split(":") if f.strip() and f.strip().lower() != "y"]
            if not flags:
                continue
            value = ":".join(f.strip() for f in flags)
        elif tag.name == "p":
            value = "".join(value.split())
        tags.append((tag.name, value))
    target = res.details["cname"][-1] if res.details["cname"] else res.name
    value = "; ".join(f"{name}={val}" for name, val in tags)
    res.fix_record = FixRecord(target, "TXT", value)


def _delegated_away(name: str, target: str) -> bool:
    """The CNAME leads out of the domain (to a provider), not to another name of its own."""
    domain = name.rstrip(".").lower().split("._domainkey.", 1)[-1]
    target = target.rstrip(".").lower()
    return not (target == domain or target.endswith("." + domain))


def _host_name_as_text(res: SelectorResult, host: str) -> None:
    """The provider said "CNAME s1._domainkey → s1.domainkey.u123.wl.example.net" and the
    target went into a TXT record: no key at all for verifiers. The fix is that CNAME."""
    target = host if host.endswith(".") else host + "."
    res.fail(
        "dkim.host-name-as-text",
        f"The TXT record of selector '{res.selector}' at {res.name} holds a host name "
        f"({host}), not a key: it was meant as a CNAME to that name (how mail providers "
        "delegate DKIM). Verifiers find no key.",
        _REF_DNS,
        "host name, not a key",
    )
    res.steps.append(
        f"Delete the TXT record at {res.name} and publish a CNAME record there pointing to "
        f"{target} (the provider then publishes and rotates the key)."
    )
    res.fix_record = FixRecord(res.name, "CNAME", target)


def _show(value: str | None) -> str:
    if value is None:
        return ""
    return value if len(value) <= _LONG else value[: _LONG - 1] + "…"
