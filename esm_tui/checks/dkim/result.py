"""The DKIM check: key records at `SEL._domainkey.DOMAIN` (RFC 6376, RFC 8301, RFC 8463).

Configured selectors are judged by SPEC §4's rules. With none configured, a list of
common selectors is asked concurrently; what answers is shown, but a discovered
selector can at most turn the card orange (we do not know that it signs anything).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from esm_tui import eager
from esm_tui.checks.context import CheckContext, failure_finding
from esm_tui.checks.dkim.parse import (
    KNOWN_KEY_TYPES,
    DkimKey,
    DkimKeyError,
    DkimRecord,
    DkimSyntaxError,
    decode_key,
    parse_dkim,
)
from esm_tui.dns import Answer, Failure, NoData, NxDomain, Outcome, absolute
from esm_tui.model import (
    DomainSettings,
    Finding,
    Fix,
    FixRecord,
    RecordResult,
    Severity,
    Status,
    worst,
)

__all__ = ["CODES", "COMMON_SELECTORS", "DkimRecord", "DkimSyntaxError", "check", "parse_dkim"]

#: Tried when no selector is configured: the defaults of common mail systems and providers
#: (Microsoft 365, Google Workspace, Mailchimp/Mandrill, Mailgun, Amazon SES-style, cPanel…).
COMMON_SELECTORS: tuple[str, ...] = (
    "default",
    "selector1",
    "selector2",
    "google",
    "k1",
    "k2",
    "k3",
    "s1",
    "s2",
    "dkim",
    "mail",
    "smtp",
    "mx",
    "key1",
    "key2",
    "mandrill",
    "everlytickey1",
    "everlytickey2",
    "mxvault",
)

_REF = "RFC 6376 §3.6.1"
_REF_TAGS = "RFC 6376 §3.2"
_REF_DNS = "RFC 6376 §3.6.2.2"
_REF_SIZE = "RFC 8301 §3.2"
_REF_SHA1 = "RFC 8301 §3.1"
_REF_ED25519 = "RFC 8463 §4.2"

#: Below this an RSA key is rejected by verifiers; below the second it should be replaced.
RSA_MIN_BITS = 1024
RSA_GOOD_BITS = 2048
#: RFC 8301 §3.2: verifiers must handle 1024-4096 bits; larger keys may not verify everywhere.
RSA_MAX_VERIFIED_BITS = 4096

CODES: dict[str, str] = {
    "dkim.missing": "No key record at SEL._domainkey.DOMAIN (NXDOMAIN or NODATA).",
    "dkim.multiple-records": "More than one TXT record at a selector's name.",
    "dkim.syntax": "The key record is not a valid tag=value list.",
    "dkim.p-missing": "The key record has no p= tag.",
    "dkim.revoked": "p= is empty: the key is revoked.",
    "dkim.key-invalid": "p= does not decode to a public key of the declared type.",
    "dkim.rsa-too-short": "RSA key under 1024 bits: verifiers reject it.",
    "dkim.rsa-short": "RSA key of 1024 to 2047 bits: replace it with a 2048-bit key.",
    "dkim.version": "v= is present and not DKIM1.",
    "dkim.key-type-unknown": "k= names a key type other than rsa or ed25519.",
    "dkim.sha1-only": "h= allows only sha1, which verifiers reject.",
    "dkim.hash-unusable": "h= lists no hash algorithm a verifier accepts.",
    "dkim.service-excludes-email": "s= does not include email (or *).",
    "dkim.testing": "t=y: the domain is testing DKIM.",
    "dkim.no-selector": "No selector configured and none of the common selectors has a key.",
    "dkim.dns-failure": "A selector's query could not be answered (timeout, SERVFAIL, ...).",
    "dkim.discovery-incomplete": "Some common selectors could not be asked.",
    "dkim.discovered": "A key found at a common selector (none configured).",
    "dkim.not-a-key": "A common selector's name has TXT data that is not a DKIM key.",
    "dkim.cname": "The key record is reached through a CNAME.",
    "dkim.v-not-first": "v= is not the first tag.",
    "dkim.unknown-tag": "A tag RFC 6376 does not define (ignored by verifiers).",
    "dkim.rsa-pkcs1": "RSA key published as a bare RSAPublicKey instead of SubjectPublicKeyInfo.",
    "dkim.rsa-large": "RSA key over 4096 bits: not every verifier handles it.",
}

_KNOWN_TAGS = frozenset({"v", "h", "k", "n", "p", "s", "t"})
_KEY_NAMES = {"rsa": "RSA", "ed25519": "Ed25519"}
_LONG = 60


@dataclass
class SelectorResult:
    """The verdict on one selector, before it is folded into the card."""

    selector: str
    name: str
    discovered: bool
    status: Status
    findings: list[Finding] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    fix_record: FixRecord | None = None
    records: list[str] = field(default_factory=list)
    ttl: int | None = None
    label: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    #: A revoked key (p=): deliberate at a selector nobody configured, so not held against it.
    revoked: bool = False

    def fail(self, code: str, message: str, ref: str, label: str) -> None:
        self.findings.append(Finding(Severity.FAIL, code, message, ref))
        self.label = self.label or label

    def warn(self, code: str, message: str, ref: str) -> None:
        self.findings.append(Finding(Severity.WARN, code, message, ref))

    def info(self, code: str, message: str, ref: str = "") -> None:
        self.findings.append(Finding(Severity.INFO, code, message, ref))


def selector_names(domain: DomainSettings) -> list[str]:
    """The names `check` asks (TXT): the configured selectors', else the common ones'."""
    asked = _unique(domain.dkim_selectors) or COMMON_SELECTORS
    return [absolute(f"{sel}._domainkey.{domain.name}") for sel in asked]


async def check(domain: DomainSettings, ctx: CheckContext) -> RecordResult:
    """Judge every configured selector, or discover common ones when none is configured."""
    selectors = _unique(domain.dkim_selectors)
    discovering = not selectors
    asked = list(COMMON_SELECTORS) if discovering else selectors
    names = selector_names(domain)
    outcomes = await eager.gather(*(ctx.query(name, "TXT") for name in names))
    results = [
        judge_selector(sel, name, outcome, discovered=discovering)
        for sel, name, outcome in zip(asked, names, outcomes, strict=True)
    ]
    if discovering:
        return _discovery_result(domain, results, outcomes)
    return _configured_result(domain, results, names[0])


def _unique(selectors: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for sel in selectors:
        key = sel.strip().lower().rstrip(".")
        if key and key not in seen:
            seen.add(key)
            out.append(sel.strip().rstrip("."))
    return out


# -- one selector ---------------------------------------------------------------------


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
            _REF,
        )
        res.steps.append(f"When testing is over, remove 'y' from t= in the record of '{sel}'.")
    for tag in record.tags:
        if tag.name not in _KNOWN_TAGS:
            hint = " (tag names are case-sensitive)" if tag.name.lower() in _KNOWN_TAGS else ""
            res.info(
                "dkim.unknown-tag",
                f"Selector '{sel}': tag {tag.name!r} is not defined by RFC 6376{hint}; "
                "verifiers ignore it.",
                _REF,
            )
    _judge_key(res, record, key_type)
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
            _REF,
            "bad v=",
        )
        res.steps.append(f"Set v=DKIM1 (exactly) in the record of '{res.selector}'.")
    elif record.tags[0].name != "v":
        res.info(
            "dkim.v-not-first",
            f"Selector '{res.selector}': v=DKIM1 should be the first tag of the record.",
            _REF,
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
        _REF,
        "s= excludes email",
    )
    res.steps.append(f"Remove s= from the record of '{res.selector}' (the default is *).")


def _judge_key(res: SelectorResult, record: DkimRecord, key_type: str) -> None:
    sel, p = res.selector, record.get("p")
    if p is None:
        hint = " (found 'P=': tag names are case-sensitive)" if "P" in record else ""
        res.fail(
            "dkim.p-missing",
            f"Selector '{sel}': the record has no p= tag, so it holds no public key{hint}.",
            _REF,
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
            _REF,
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
        ref = _REF_ED25519 if key_type == "ed25519" else _REF
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
            _REF,
        )


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


# -- the card ----------------------------------------------------------------------------


def _configured_result(
    domain: DomainSettings, results: list[SelectorResult], query_name: str
) -> RecordResult:
    # worst() ranks fail > unknown > warn > ok: a failing selector stands whatever an
    # unanswered one would have said; otherwise an unanswered one makes the card unknown.
    status = worst(r.status for r in results)
    findings = [f for r in results for f in r.findings]
    summary = ", ".join(f"{r.selector}: {_label(r)}" for r in results)
    return _result(domain, results, status, findings, summary, query_name, discovering=False)


def _discovery_result(
    domain: DomainSettings, results: list[SelectorResult], outcomes: list[Outcome]
) -> RecordResult:
    found = [r for r in results if r.records and _looks_like_key(r)]
    noise = [r for r in results if r.records and not _looks_like_key(r)]
    failed = [r for r in results if r.status is Status.UNKNOWN]
    usable = [r for r in found if not r.revoked]
    findings: list[Finding] = []
    for r in found:
        findings.append(
            Finding(
                Severity.INFO,
                "dkim.discovered",
                f"No selector is configured; found a key at the common selector "
                f"'{r.selector}' ({r.name}).",
                "RFC 6376 §3.1",
            )
        )
        findings.extend(_as_discovered(f, r) for f in r.findings)
    for r in noise:
        findings.append(
            Finding(
                Severity.INFO,
                "dkim.not-a-key",
                f"{r.name} has TXT data that is not a DKIM key record (a wildcard?); ignored.",
                "RFC 6376 §3.6.1",
            )
        )
    if failed:
        findings.append(
            Finding(
                Severity.INFO,
                "dkim.discovery-incomplete",
                f"Could not ask {len(failed)} of {len(results)} common selectors "
                f"({', '.join(r.selector for r in failed)}): {_first_reason(outcomes)}.",
            )
        )
    if usable:
        bad = any(r.status in (Status.WARN, Status.FAIL) and not r.revoked for r in found)
        status = Status.WARN if bad else Status.OK
        summary = "found " + ", ".join(f"{r.selector}: {_label(r)}" for r in found)
    elif failed:
        # "None answers" cannot be concluded while some could not be asked (SPEC §4).
        status = Status.UNKNOWN
        summary = f"no key found; {len(failed)} of {len(results)} common selectors unanswered"
    else:
        status = Status.WARN
        revoked = f" ({len(found)} revoked)" if found else ""
        findings.append(
            Finding(
                Severity.WARN,
                "dkim.no-selector",
                f"No DKIM selector is configured for {domain.name}, and none of the "
                f"{len(results)} common selectors ({', '.join(COMMON_SELECTORS)}) has a "
                f"usable key{revoked}. Configure the selector(s) your mail is signed with.",
                "RFC 6376 §3.1",
            )
        )
        summary = f"no selector configured; none of {len(results)} common ones found"
    shown = found + [r for r in failed if r not in found]
    query_name = f"_domainkey.{domain.name}."
    return _result(domain, shown, status, findings, summary, query_name, discovering=True)


def _looks_like_key(res: SelectorResult) -> bool:
    """A discovered answer counts only if it is a DKIM key record, not e.g. a wildcard TXT."""
    return any(_keyish(text) for text in res.records)


def _keyish(text: str) -> bool:
    try:
        record = parse_dkim(text)
    except DkimSyntaxError:
        # A broken key record is still a key record someone meant to publish here.
        return text.lstrip().startswith("v=DKIM1") or "p=" in text
    return "p" in record or record.get("v") == "DKIM1"


def _as_discovered(finding: Finding, res: SelectorResult) -> Finding:
    # Nobody said this selector signs mail: its faults are worth a look (warn), not red;
    # a revoked key there is a normal retirement (info).
    if finding.severity is not Severity.FAIL:
        return finding
    severity = Severity.INFO if res.revoked else Severity.WARN
    return Finding(severity, finding.code, finding.message, finding.ref)


def _first_reason(outcomes: list[Outcome]) -> str:
    for outcome in outcomes:
        if isinstance(outcome, Failure):
            return outcome.reason
    return "no answer"


def _result(
    domain: DomainSettings,
    results: list[SelectorResult],
    status: Status,
    findings: list[Finding],
    summary: str,
    query_name: str,
    *,
    discovering: bool,
) -> RecordResult:
    # `records`: the raw TXT records of every selector that answered, selector by selector
    # in the order the selectors were configured (or the order of COMMON_SELECTORS when
    # discovering), each selector's records in the order the server sent them.
    records = [text for r in results for text in r.records]
    ttls = [r.ttl for r in results if r.ttl is not None]
    details: dict[str, Any] = {
        "selectors": {r.selector: r.details for r in results},
        "discovered": discovering,
    }
    if discovering:
        details["tried"] = list(COMMON_SELECTORS)
    return RecordResult(
        check="dkim",
        status=status,
        summary=summary,
        query_name=query_name,
        query_type="TXT",
        records=tuple(records),
        # The soonest any of the keys shown can change.
        ttl=min(ttls) if ttls else None,
        findings=tuple(findings),
        fix=_fix(domain, results, status, discovering),
        details=details,
    )


def _fix(
    domain: DomainSettings, results: list[SelectorResult], status: Status, discovering: bool
) -> Fix | None:
    if status in (Status.OK, Status.NONE):
        return None
    steps: list[str] = []
    record: FixRecord | None = None
    for r in results:
        if discovering and r.revoked:
            continue
        steps.extend(s for s in r.steps if s not in steps)
        record = record or r.fix_record
    if discovering and not any(r.records for r in results if not r.revoked):
        steps.append(
            f"Find the selector your mail is signed with (the s= tag of the DKIM-Signature "
            f"header of a message sent from {domain.name}) and add it to dkim_selectors for "
            "this domain in the esm-tui configuration; the e-securemail relay's selector is "
            "in its activation guide / panel."
        )
    return Fix(tuple(steps), record) if steps else None


def _label(res: SelectorResult) -> str:
    if res.status is Status.WARN and res.details.get("testing"):
        return f"{res.label} testing" if res.label else "testing"
    return res.label or str(res.status)


def _show(value: str | None) -> str:
    if value is None:
        return ""
    return value if len(value) <= _LONG else value[: _LONG - 1] + "…"
