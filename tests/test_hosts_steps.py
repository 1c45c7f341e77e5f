"""host_steps(): what to type at each host family, exactly; the zone-file line; dig."""

from __future__ import annotations

import base64
import re

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest

from esm_tui.hosts import host_by_id, host_steps, txt_strings, zone_line
from esm_tui.hosts.steps import dig_command, effective_ttl, quoted, rdata_text

ZONE = "example.com."
DKIM = "v=DKIM1; k=rsa; p=" + base64.b64encode(bytes(range(256)) * 1 + b"x" * 44).decode()
SPF = "v=spf1 include:_spf.relay.example ~all"
DMARC = "v=DMARC1; p=none; rua=mailto:d@example.com"


def steps_for(host_id: str | None, **kw) -> list[str]:
    args = {"zone": ZONE, "ttl": 3600, **kw}
    return host_steps(host_by_id(host_id) if host_id else None, **args)


def field(steps: list[str], label: str) -> str:
    """The text after `label: ` of the one step that starts with it."""
    found = [s[len(label) + 2 :] for s in steps if s.startswith(label + ": ")]
    assert len(found) == 1, (label, steps)
    return found[0]


def test_txt_strings_are_at_most_255_bytes_and_join_back() -> None:
    for value in (DKIM, "é" * 300, "a" * 255, "a" * 256, "", "x" * 1000 + "€"):
        strings = txt_strings(value)
        assert "".join(strings) == value
        assert all(len(s.encode()) <= 255 for s in strings)
        # As few strings as the size allows, none empty but for the empty value.
        assert len(strings) == max(1, -(-len(value.encode()) // 255)) or "é" in value
    assert txt_strings("") == [""]
    # A two-byte character is never cut in half.
    assert [len(s.encode()) for s in txt_strings("é" * 200)] == [254, 146]


def test_the_zone_file_line_parses_back_to_the_same_record() -> None:
    line = zone_line("sel._domainkey.example.com", 3600, "txt", DKIM)
    owner, ttl, klass, rtype, rdata = line.split(" ", 4)
    assert (owner, ttl, klass, rtype) == ("sel._domainkey.example.com.", "3600", "IN", "TXT")
    parsed = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, rdata)
    assert all(len(s) <= 255 for s in parsed.strings)
    assert b"".join(parsed.strings).decode() == DKIM
    # Quotes, backslashes and bytes a form cannot take come back as they were.
    hostile = 'a"b\\c\x1b[31md\x00é'
    rdata = rdata_text("TXT", hostile)
    assert "\x1b" not in rdata and "\x00" not in rdata and rdata.isascii()
    back = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, rdata)
    assert b"".join(back.strings).decode() == hostile
    assert quoted('say "hi"') == '"say \\"hi\\""'


# -- the name field: relative, @, empty, full -----------------------------------------------


@pytest.mark.parametrize(
    ("host", "label", "apex", "dmarc"),
    [
        ("ovh", "Sub-domain", "(leave it empty: the record is for example.com)", "_dmarc"),
        ("gandi", "Name", "@", "_dmarc"),
        ("cloudflare", "Name", "@", "_dmarc"),
        ("route53", "Record name", "(leave it empty: the record is for example.com)", "_dmarc"),
        ("google", "DNS name", "(leave it empty: the record is for example.com)", "_dmarc"),
        ("azure", "Name", "@", "_dmarc"),
        ("godaddy", "Name", "@", "_dmarc"),
        ("namecheap", "Host", "@", "_dmarc"),
        ("digitalocean", "Hostname", "@", "_dmarc"),
        ("scaleway", "Name", "(leave it empty: the record is for example.com)", "_dmarc"),
    ],
)
def test_the_name_field_as_each_host_wants_it(host, label, apex, dmarc) -> None:
    at_apex = steps_for(host, name=ZONE, rtype="TXT", values=[SPF], replaces=["v=spf1 +all"])
    assert field(at_apex, label) == apex
    below = steps_for(host, name="_dmarc.example.com.", rtype="TXT", values=[DMARC])
    assert field(below, label) == dmarc
    # The name the form completes: the warning says not to type the domain again.
    assert any(f"The {label} field gets .example.com added" in s for s in below)


def test_a_domain_below_its_zone_apex_gets_the_name_relative_to_the_zone() -> None:
    steps = steps_for(
        "ovh", zone="example.co.uk.", name="_dmarc.mail.example.co.uk.", rtype="TXT",
        values=[DMARC],
    )  # fmt: skip
    assert field(steps, "Sub-domain") == "_dmarc.mail"


def test_the_zone_file_host_gets_the_full_name_and_the_line() -> None:
    steps = steps_for(None, name="_dmarc.example.com", rtype="TXT", values=[DMARC])
    assert steps[0].startswith("esm-tui does not know this DNS host")
    assert field(steps, "Zone-file line (BIND syntax)") == (
        '_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=none; rua=mailto:d@example.com"'
    )
    assert steps[-1] == (
        "Verify at an authoritative server (no cache in between): "
        "dig +norecurse @$(dig +short NS example.com. | head -n1) _dmarc.example.com. TXT"
    )


# -- long TXT values: one field, quoted strings, or the text editor ---------------------------


def test_cloudflare_and_azure_take_the_long_value_whole_unquoted() -> None:
    for host, label in (("cloudflare", "Content"), ("azure", "Value")):
        steps = steps_for(host, name="sel._domainkey.example.com.", rtype="TXT", values=[DKIM])
        assert field(steps, label) == DKIM
        assert any("paste it whole into one" in s and "splits it" in s for s in steps)


def test_route53_and_google_get_quoted_strings_of_at_most_255_bytes() -> None:
    for host, label in (("route53", "Value"), ("google", "TXT data / Mail server")):
        steps = steps_for(host, name="sel._domainkey.example.com.", rtype="TXT", values=[DKIM])
        typed = field(steps, label)
        strings = re.findall(r'"((?:[^"\\]|\\.)*)"', typed)
        assert len(strings) == len(txt_strings(DKIM)) >= 2
        assert all(len(s.encode()) <= 255 for s in strings)
        assert "".join(strings) == DKIM
        assert typed == " ".join(f'"{s}"' for s in strings)
    # A short value is quoted too at these hosts (Route 53 refuses it bare).
    short = steps_for("route53", name=ZONE, rtype="TXT", values=[SPF])
    assert field(short, "Value") == f'"{SPF}"'


def test_ovh_sends_a_long_value_to_the_zone_text_editor() -> None:
    steps = steps_for("ovh", name="sel._domainkey.example.com.", rtype="TXT", values=[DKIM])
    assert field(steps, "Target") == "(too long for this form: use the zone-file line below)"
    assert any("takes at most 255 characters" in s for s in steps)
    line = field(steps, "Zone-file line (BIND syntax)")
    assert line.startswith('sel._domainkey.example.com. 3600 IN TXT "v=DKIM1; k=rsa; p=')
    short = steps_for("ovh", name=ZONE, rtype="TXT", values=[SPF])
    assert field(short, "Target") == SPF  # no quotes: OVHcloud adds them


def test_namecheap_refuses_quotes_and_digitalocean_a_value_too_long() -> None:
    steps = steps_for("namecheap", name=ZONE, rtype="TXT", values=['v=spf1 "x" -all'])
    assert any("refuses double quotes" in s for s in steps)
    big = "v=DKIM1; k=rsa; p=" + "A" * 700
    steps = steps_for("digitalocean", name="s._domainkey.example.com.", rtype="TXT", values=[big])
    assert any("takes at most 500: it cannot be published there" in s for s in steps)


# -- TTL, replacing, record sets ------------------------------------------------------------


def test_the_ttl_respects_the_host_s_minimum() -> None:
    assert field(steps_for("gandi", name=ZONE, rtype="TXT", values=[SPF], ttl=60), "TTL") == (
        "300 (Gandi takes no TTL below 300 s)"
    )
    assert field(steps_for("ovh", name=ZONE, rtype="TXT", values=[SPF], ttl=30), "TTL") == (
        "60 (OVHcloud takes no TTL below 60 s)"
    )
    assert field(steps_for("route53", name=ZONE, rtype="TXT", values=[SPF], ttl=30), "TTL") == "30"
    assert field(
        steps_for("cloudflare", name=ZONE, rtype="TXT", values=[SPF], ttl=None), "TTL"
    ) == ("3600")
    assert effective_ttl(host_by_id("digitalocean"), 5) == 30
    assert effective_ttl(None, None) == 3600


def test_replacing_spf_says_edit_the_one_never_add_a_second() -> None:
    steps = steps_for("ovh", name=ZONE, rtype="TXT", values=[SPF], replaces=["v=spf1 +all"])
    assert "Edit the existing TXT record of example.com that reads: v=spf1 +all" in steps
    assert any(
        "Keep exactly one SPF record at example.com: edit the existing one" in s for s in steps
    )
    # OVHcloud's own trap: the SPF pseudo-type in its table.
    assert any("under the type SPF or TXT" in s for s in steps)
    # A pitfall of MX records is not shown with a TXT change.
    assert not any("final dot" in s for s in steps)


def test_a_record_set_host_retypes_the_values_that_stay() -> None:
    keep = ["google-site-verification=abc"]
    steps = steps_for(
        "route53", name=ZONE, rtype="TXT", values=[SPF], replaces=["v=spf1 +all"], keep=keep
    )
    assert "Edit the existing TXT record set of example.com (do not create a second one)." in steps
    assert field(steps, "Value (one line per record, all of them)") == (
        f'"google-site-verification=abc" | "{SPF}"'
    )
    # The zone-file line is the new record only: the kept one is already in the zone.
    assert field(steps, "Zone-file line (BIND syntax)") == f'example.com. 3600 IN TXT "{SPF}"'


def test_mx_fields_priority_and_target_with_or_without_the_dot() -> None:
    values = ["10 mx1.relay.example.", "20 mx2.relay.example."]
    ovh = steps_for("ovh", name=ZONE, rtype="MX", values=values, replaces=["5 old.example."])
    assert field(ovh, "Record 1 of 2") == "Priority: 10; Target: mx1.relay.example."
    assert field(ovh, "Record 2 of 2") == "Priority: 20; Target: mx2.relay.example."
    assert any("the 1 they replace: 5 old.example." in s for s in ovh)
    assert any("mx.example.net becomes mx.example.net.example.com" in s for s in ovh)
    cloudflare = steps_for("cloudflare", name=ZONE, rtype="MX", values=values[:1])
    assert field(cloudflare, "Priority") == "10"
    assert field(cloudflare, "Content") == "mx1.relay.example"
    lines = [s for s in ovh if s.startswith("Zone-file line")]
    assert lines == [
        "Zone-file line (BIND syntax): example.com. 3600 IN MX 10 mx1.relay.example.",
        "Zone-file line (BIND syntax): example.com. 3600 IN MX 20 mx2.relay.example.",
    ]


def test_dig_asks_a_name_server_of_the_zone() -> None:
    assert dig_command("_dmarc.example.com", "txt", ZONE, ["dns10.ovh.net."]) == (
        "dig +norecurse @dns10.ovh.net. _dmarc.example.com. TXT"
    )


def test_unverified_facts_are_said_not_guessed() -> None:
    steps = steps_for("ionos", name=ZONE, rtype="TXT", values=[SPF])
    note = [s for s in steps if s.startswith("Not verified for IONOS")]
    assert note and "min_ttl" in note[0] and "dig command below" in note[0]
    assert not any(s.startswith("Not verified") for s in steps_for("route53", name=ZONE,
                   rtype="TXT", values=[SPF]))  # fmt: skip


def test_hostile_values_and_names_never_reach_the_steps_raw() -> None:
    evil = "v=spf1 \x1b]52;c;ZXZpbA==\x07 \u202e -all"
    for host in ("ovh", "route53", "cloudflare", None):
        steps = steps_for(
            host, name="x\x1b[2J.example.com.", rtype="TXT", values=[evil], replaces=[evil]
        )
        for step in steps:
            assert step.isprintable(), (host, step)
            assert "\x1b" not in step and "\x07" not in step and "\u202e" not in step
        assert any("characters a web form cannot take" in s for s in steps)


# -- with_host_steps: what the check read decides what is replaced and kept ------------------


def _report(result, host_id: str = "route53"):
    from datetime import UTC, datetime

    from esm_tui.model import DomainReport, ZoneHost

    found = ZoneHost(host_id, host_by_id(host_id).name, ("ns-1.awsdns-1.com.",), ZONE)
    return DomainReport("example.com", {result.check: result}, datetime.now(UTC), found)


def test_the_relay_s_whole_mx_set_replaces_the_mx_records_not_in_it() -> None:
    from esm_tui.checks.mx import relay_records
    from esm_tui.hosts.attach import with_host_steps
    from esm_tui.model import DomainSettings, Fix, RecordResult, Status

    settings = DomainSettings("example.com", relay_mx=("mx1.relay.example", "mx2.relay.example"))
    first = relay_records(settings)[0]
    result = RecordResult(
        "mx", Status.FAIL, "s", "example.com.", "MX",
        records=("10 old.example.", "20 mx2.relay.example."), ttl=600,
        fix=Fix(("Point the MX records at the relay.",), first),
    )  # fmt: skip
    fix = with_host_steps(_report(result, "ovh"), settings).checks["mx"].fix
    assert fix is not None
    assert "Record 1 of 2: Priority: 10; Target: mx1.relay.example." in fix.host_steps
    assert "Record 2 of 2: Priority: 20; Target: mx2.relay.example." in fix.host_steps
    assert any("then delete the 1 they replace: 10 old.example." in s for s in fix.host_steps)
    assert fix.zone_line == "example.com. 600 IN MX 10 mx1.relay.example."
    assert fix.txt_strings == ()


def test_a_txt_change_replaces_its_kind_and_keeps_the_other_records() -> None:
    from esm_tui.hosts.attach import with_host_steps
    from esm_tui.model import Fix, FixRecord, RecordResult, Status

    result = RecordResult(
        "spf", Status.FAIL, "s", "example.com.", "TXT",
        records=("v=spf1 +all", "google-site-verification=abc"), ttl=300,
        fix=Fix(("Replace it.",), FixRecord("example.com.", "TXT", SPF)),
    )  # fmt: skip
    report = with_host_steps(_report(result))
    fix = report.checks["spf"].fix
    assert fix is not None and fix.steps == ("Replace it.",)  # the check's own steps stay
    assert field(list(fix.host_steps), "Value (one line per record, all of them)") == (
        f'"google-site-verification=abc" | "{SPF}"'
    )
    assert fix.zone_line == f'example.com. 300 IN TXT "{SPF}"'
    assert fix.txt_strings == (SPF,)
    # An ok result, or a fix without a record, gets nothing added.
    ok = RecordResult("spf", Status.OK, "s", "example.com.", "TXT", fix=result.fix)
    assert with_host_steps(_report(ok)).checks["spf"].fix.host_steps == ()
