"""A record change as steps in the DNS host's own words: where to click, what to type.

    host_steps(host, *, zone, name, rtype, values, ttl, replaces=(), keep=(), nameservers=())
        -> list[str]

Pure (no I/O) and total: any strings in, a list of sentences out. Its arguments are plain
values so that any caller (the checks' fixes, `esm-tui fix`'s plan, the dashboard) can ask:

- `host`: a `DnsHost` of the catalogue, or None for a host esm-tui does not know (the
  plain zone-file steps of `other`).
- `zone`: the zone holding the record (`example.com.`); `name`: the record's owner name
  (absolute, e.g. `_dmarc.example.com.`); `rtype`: `TXT`, `MX`, ...
- `values`: the records of that name and type to publish, in presentation form for
  non-TXT types (`10 mx1.example.net.`) and as the text itself for TXT (no quotes).
- `ttl`: the TTL wanted (None: 3600); raised to the host's minimum.
- `replaces`: the records this change replaces (the old SPF record, the MX records to
  drop); empty for a record that is new. `keep`: the other records of that name and type
  that must stay (a host that edits a whole record set needs them retyped).
- `nameservers`: the zone's NS host names, for the `dig` command that verifies.

The steps always end with the zone-file line (BIND syntax; a TXT value as quoted strings
of at most 255 bytes) and the `dig` command that asks an authoritative server directly.
The helpers `txt_strings`, `zone_line`, `rdata_text`, `dig_command`, `effective_ttl` and
`record_kind` are public too.

Nothing here reaches a terminal raw: a character a web form cannot take (a control
character, a non-ASCII byte) is written as the zone file's `\\DDD` escape, and the step says
to publish such a value through the zone file.
"""

from __future__ import annotations

from collections.abc import Sequence

from esm_tui.hosts.catalogue import OTHER, DnsHost, host_by_id

#: RFC 1035 §3.3: a <character-string> holds at most 255 bytes.
STRING_MAX = 255
DEFAULT_TTL = 3600

#: The tag that starts each record kind a TXT change replaces alone (SPEC §6), with the
#: rule that allows one record of that kind at a name.
_KINDS = (
    ("v=spf1", "SPF", "RFC 7208 §3.2: a second SPF record makes every SPF check fail"),
    ("v=dmarc1", "DMARC", "RFC 9989: two DMARC records at one name make receivers ignore both"),
    ("v=dkim1", "DKIM", "one key record per selector"),
    ("v=bimi1", "BIMI", "one BIMI record per selector"),
    ("v=stsv1", "MTA-STS", "RFC 8461 §3.1: with two records senders assume no policy"),
    ("v=tlsrptv1", "TLS-RPT", "RFC 8460 §3: with two records senders assume none"),
)


def txt_strings(value: str) -> list[str]:
    """`value` cut into strings of at most 255 bytes of UTF-8, never inside a character;
    joined without separators they give `value` back ("" gives one empty string)."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    for char in value:
        width = len(char.encode("utf-8", "surrogateescape"))
        if size + width > STRING_MAX and current:
            out.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    out.append("".join(current))
    return out


def quoted(text: str) -> str:
    """One <character-string> in zone-file syntax: quotes, `\\"` and `\\\\` escaped, every
    byte outside printable ASCII as `\\DDD` (so the result is plain printable ASCII)."""
    parts = ['"']
    for byte in text.encode("utf-8", "surrogateescape"):
        if byte in (0x22, 0x5C):
            parts.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            parts.append(chr(byte))
        else:
            parts.append(f"\\{byte:03d}")
    parts.append('"')
    return "".join(parts)


def rdata_text(rtype: str, value: str) -> str:
    """The record data as a zone file writes it: TXT as quoted ≤255-byte strings, other
    types as given (escaped if they hold anything but printable ASCII)."""
    if rtype.upper() in ("TXT", "SPF"):
        return " ".join(quoted(s) for s in txt_strings(value))
    return _printable(value)


def zone_line(name: str, ttl: int, rtype: str, value: str) -> str:
    """`_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=none"`: the full owner name with its
    final dot, so the line means the same whatever the file's $ORIGIN."""
    return f"{_owner(name)} {ttl} IN {rtype.upper()} {rdata_text(rtype, value)}"


def dig_command(name: str, rtype: str, zone: str, nameservers: Sequence[str] = ()) -> str:
    """`dig +norecurse @ns1.example.net. NAME TYPE`: an authoritative server, asked
    directly (no resolver cache in between); without known NS, found by dig itself."""
    if nameservers:
        server = _printable(nameservers[0])
    else:
        server = f"$(dig +short NS {_owner(zone)} | head -n1)"
    return f"dig +norecurse @{server} {_owner(name)} {rtype.upper()}"


def host_steps(
    host: DnsHost | None,
    *,
    zone: str,
    name: str,
    rtype: str,
    values: Sequence[str],
    ttl: int | None,
    replaces: Sequence[str] = (),
    keep: Sequence[str] = (),
    nameservers: Sequence[str] = (),
) -> list[str]:
    """The steps to publish `values` as the `rtype` records of `name` at `host` (see the
    module docstring for the arguments)."""
    host = host or host_by_id(OTHER)
    assert host is not None  # the catalogue always has `other` (catalogue.load checks it)
    rtype = rtype.upper()
    zone_abs, name_abs = _owner(zone), _owner(name)
    final_ttl, ttl_note = _ttl(host, ttl)
    steps: list[str] = []
    if host.id == OTHER:
        steps.append("esm-tui does not know this DNS host: publish the record below in the zone.")
    steps += [_fill(line, zone_abs) for line in host.console]
    steps.append(_what(host, rtype, name_abs, values, replaces, keep))
    if host.id != OTHER:  # for a zone file, the line below is the whole form
        steps += _fields(host, zone_abs, name_abs, rtype, values, keep, final_ttl, ttl_note)
    elif ttl_note:
        steps.append(f"TTL: {final_ttl}{ttl_note}")
    steps += _warnings(host, zone_abs, name_abs, rtype, values, replaces)
    # One line per step, each copied whole into a zone file (the records kept are there).
    steps += [
        f"Zone-file line (BIND syntax): {zone_line(name_abs, final_ttl, rtype, v)}" for v in values
    ]
    steps.append(
        "Verify at an authoritative server (no cache in between): "
        + dig_command(name_abs, rtype, zone_abs, nameservers)
    )
    return steps


# -- the parts ------------------------------------------------------------------------------


def _what(
    host: DnsHost,
    rtype: str,
    name: str,
    values: Sequence[str],
    replaces: Sequence[str],
    keep: Sequence[str],
) -> str:
    """The change in one sentence: add, or edit which existing record."""
    shown = _prose(name)
    if host.record_sets and (replaces or keep):
        return f"Edit the existing {rtype} record set of {shown} (do not create a second one)."
    if replaces:
        old = "; ".join(_printable(r) for r in replaces)
        if len(replaces) == 1 and len(values) == 1:
            return f"Edit the existing {rtype} record of {shown} that reads: {old}"
        return (
            f"Publish the {len(values)} {rtype} record(s) below for {shown}, then delete the "
            f"{len(replaces)} they replace: {old}"
        )
    count = "a" if len(values) <= 1 else f"{len(values)}"
    noun = "record" if len(values) <= 1 else "records"
    return f"Add {count} new {rtype} {noun} for {shown}."


def _fields(
    host: DnsHost,
    zone: str,
    name: str,
    rtype: str,
    values: Sequence[str],
    keep: Sequence[str],
    ttl: int,
    ttl_note: str,
) -> list[str]:
    out = [f"Type: {rtype}", f"{host.name_field}: {_name_entry(host, zone, name)}"]
    if host.record_sets and (keep or len(values) > 1):
        # The set's values, every one of them, one per line of the form.
        lines = [_value_entry(host, rtype, v) for v in (*keep, *values)]
        out.append(f"{host.value_field} (one line per record, all of them): " + " | ".join(lines))
    elif len(values) == 1:
        out += _value_fields(host, rtype, values[0])
    else:
        for index, value in enumerate(values, 1):
            fields = "; ".join(_value_fields(host, rtype, value))
            out.append(f"Record {index} of {len(values)}: {fields}")
    out.append(f"TTL: {ttl}{ttl_note}")
    return out


def _name_entry(host: DnsHost, zone: str, name: str) -> str:
    """What to type in the name field: relative, `@`/empty for the apex, or the full name."""
    if host.name_style == "fqdn" or not _within(name, zone):
        return _printable(name)
    if name == zone:
        return host.apex if host.apex else f"(leave it empty: the record is for {_prose(zone)})"
    return _printable(name[: -len(zone) - 1])


def _value_fields(host: DnsHost, rtype: str, value: str) -> list[str]:
    long = len(value.encode("utf-8", "surrogateescape")) > STRING_MAX
    if rtype in ("TXT", "SPF") and long and host.txt_long == "zone-text":
        return [f"{host.value_field}: (too long for this form: use the zone-file line below)"]
    if rtype == "MX":
        preference, _, target = value.strip().partition(" ")
        if preference.isdigit() and target:
            return [f"Priority: {preference}", f"{host.value_field}: {_target(host, target)}"]
    return [f"{host.value_field}: {_value_entry(host, rtype, value)}"]


def _value_entry(host: DnsHost, rtype: str, value: str) -> str:
    """The value as this host's field takes it."""
    if rtype not in ("TXT", "SPF"):
        if rtype == "MX":
            preference, _, target = value.strip().partition(" ")
            if preference.isdigit() and target:
                return f"{preference} {_target(host, target)}"
        return _printable(value)
    long = len(value.encode("utf-8", "surrogateescape")) > STRING_MAX
    if host.txt_quotes == "required" or (long and host.txt_long == "strings"):
        return " ".join(quoted(s) for s in txt_strings(value))
    return _printable(value)


def _target(host: DnsHost, target: str) -> str:
    target = _printable(target.strip())
    if target == ".":
        return target  # the null MX (RFC 7505) is the root name itself
    return target.rstrip(".") + ("." if host.target_dot else "")


def _warnings(
    host: DnsHost,
    zone: str,
    name: str,
    rtype: str,
    values: Sequence[str],
    replaces: Sequence[str],
) -> list[str]:
    out: list[str] = []
    if rtype in ("TXT", "SPF"):
        out += _txt_warnings(host, name, values, replaces)
    if rtype == "MX" and replaces:
        out.append(
            "Delete the MX records this replaces (listed above) once the new ones are saved: "
            "mail goes to every MX host published."
        )
    if host.name_style == "relative" and name != zone and _within(name, zone):
        out.append(
            f"The {host.name_field} field gets .{_prose(zone)} added by "
            f"{host.name}: type only what is shown above, never the domain again."
        )
    if not _within(name, zone):
        out.append(
            f"{_prose(name)} is not inside the zone {_prose(zone)}: publish it in the "
            "zone that holds it."
        )
    out += [f"Watch out: {_fill(p, zone)}" for p in pitfalls_for(host, rtype)]
    if host.unverified:
        fields = ", ".join(host.unverified)
        out.append(
            f"Not verified for {host.name} ({fields}): esm-tui could not confirm these from "
            f"{host.name}'s documentation; the dig command below shows what is really published."
        )
    return out


def _txt_warnings(
    host: DnsHost, name: str, values: Sequence[str], replaces: Sequence[str]
) -> list[str]:
    out: list[str] = []
    for value in values:
        kind = _kind(value)
        if kind is not None:
            word, rule = kind
            verb = "edit the existing one" if replaces else "check that none is there yet"
            out.append(
                f"Keep exactly one {word} record at {_prose(name)}: {verb}, never add a "
                f"second ({rule})."
            )
        size = len(value.encode("utf-8", "surrogateescape"))
        if not _typeable(value):
            out.append(
                "The value holds characters a web form cannot take (shown as \\DDD escapes): "
                "publish it with the zone-file line."
            )
        if host.txt_quotes == "forbidden" and '"' in value:
            out.append(
                f"{host.name} refuses double quotes in a TXT value, and this value holds one: "
                "publish it another way (the zone-file line, or another DNS host)."
            )
        if host.txt_max and size > host.txt_max:
            out.append(
                f"This value is {size} bytes; {host.name} takes at most {host.txt_max}: it "
                "cannot be published there as it is."
            )
        if size > STRING_MAX:
            strings = txt_strings(value)
            sizes = " + ".join(str(len(s.encode("utf-8", "surrogateescape"))) for s in strings)
            how = {
                "auto": f"paste it whole into one {host.value_field} field: {host.name} splits it "
                "into strings of at most 255 bytes itself",
                "strings": f"type it as the {len(strings)} quoted strings shown, separated by a "
                "space, in one field (never as separate records)",
                "zone-text": f"{host.name}'s form takes at most 255 characters: add it through "
                "the zone's text editor, with the zone-file line below",
            }[host.txt_long]
            out.append(
                f"The value is {size} bytes, more than one string holds ({sizes} bytes): {how}. "
                "Receivers join the strings without spaces."
            )
    return out


def record_kind(value: str) -> str | None:
    """`SPF`, `DMARC`, `DKIM`, `BIMI`, `MTA-STS` or `TLS-RPT` for a TXT value starting with
    that version tag."""
    kind = _kind(value)
    return kind[0] if kind else None


def _kind(value: str) -> tuple[str, str] | None:
    head = value.strip().lower()
    for tag, word, rule in _KINDS:
        if head == tag or head.startswith((tag + ";", tag + " ")):
            return word, rule
    return None


def effective_ttl(host: DnsHost | None, ttl: int | None) -> int:
    """The TTL the steps ask for: `ttl` (None: 3600) raised to the host's minimum."""
    return _ttl(host or host_by_id(OTHER), ttl)[0]  # type: ignore[arg-type]


def _ttl(host: DnsHost, ttl: int | None) -> tuple[int, str]:
    wanted = DEFAULT_TTL if ttl is None or ttl < 0 else ttl
    if wanted < host.min_ttl:
        return host.min_ttl, f" ({host.name} takes no TTL below {host.min_ttl} s)"
    return wanted, ""


# -- names and text -------------------------------------------------------------------------


def _owner(name: str) -> str:
    """A name as the zone file writes it: printable, lower-case, one final dot."""
    text = _printable(name.strip()).lower().rstrip(".")
    return text + "." if text else "."


def _prose(name: str) -> str:
    """A name inside a sentence: printable, without the final dot a sentence would double."""
    return _printable(name).rstrip(".") or "."


def pitfalls_for(host: DnsHost, rtype: str) -> list[str]:
    """The host's pitfalls that concern `rtype`: a pitfall written `MX: ...` or `TXT: ...`
    concerns that type only, the others every change."""
    out = []
    for pitfall in host.pitfalls:
        tag, sep, text = pitfall.partition(": ")
        if sep and tag.isupper() and tag.isalpha() and len(tag) <= 5:
            if tag == rtype.upper():
                out.append(text)
        else:
            out.append(pitfall)
    return out


def _within(name: str, zone: str) -> bool:
    return zone == "." or name == zone or name.endswith("." + zone)


def _fill(text: str, zone: str) -> str:
    return text.replace("{zone}", _printable(zone).rstrip(".") or ".")


def _typeable(text: str) -> bool:
    return all(" " <= char <= "~" for char in text)


def _printable(text: str) -> str:
    """`text` with every character outside printable ASCII as the zone file's `\\DDD`
    escape of each of its UTF-8 bytes (names from DNS arrive escaped already)."""
    if _typeable(text):
        return text
    out = []
    for char in text:
        if " " <= char <= "~":
            out.append(char)
        else:
            out.extend(f"\\{b:03d}" for b in char.encode("utf-8", "surrogateescape"))
    return "".join(out)
