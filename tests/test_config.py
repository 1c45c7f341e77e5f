"""The config layer: loading, validation with positions, names, merging, surgical saving."""

from __future__ import annotations

import atexit
import hashlib
import os
import re
import resource
import shutil
import signal
import tempfile
import tomllib
from pathlib import Path

import platformdirs
import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from esm_tui.config import (
    Config,
    ConfigChangedError,
    ConfigError,
    DomainConfig,
    DomainNameError,
    Relay,
    SelectorError,
    Settings,
    add_domain,
    default_config_path,
    example_config_text,
    load_config,
    normalize_domain,
    normalize_selector,
    parse_config,
    remove_domain,
    resolve_config_path,
    toml_layout,
    write_starter_config,
)
from esm_tui.config import save as config_save
from esm_tui.model import DomainSettings

ALL_SETTINGS = (
    "interval", "timeout", "retries", "concurrency", "nameservers", "history", "port",
    "compare_resolvers", "https_port",
)  # fmt: skip
ALL_RELAY = ("mx", "spf_include", "spf_ips", "dkim_selectors")


def write(tmp_path: Path, text: str | bytes, name: str = "config.toml") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_bytes(text.encode("utf-8"))
    else:
        path.write_bytes(text)
    return path


def error_of(tmp_path: Path, text: str | bytes) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value


# -- loading ---------------------------------------------------------------------------------


def test_empty_file_is_a_valid_config(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    config = load_config(path)
    assert config.settings == Settings() and config.relay == Relay() and config.domains == ()
    assert config.path == path
    assert config.fingerprint == hashlib.sha256(b"").hexdigest()


def test_missing_file_is_an_empty_config_unless_required(tmp_path: Path) -> None:
    path = tmp_path / "nope" / "config.toml"
    config = load_config(path)
    assert config == Config(path=path, fingerprint=None)
    with pytest.raises(ConfigError, match="no such file") as caught:
        load_config(path, missing_ok=False)
    assert str(caught.value).startswith(f"{path}: ")


def test_a_directory_is_not_a_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory") as caught:
        load_config(tmp_path)
    assert caught.value.path == tmp_path and caught.value.line is None


def test_a_path_through_a_regular_file_cannot_be_read(tmp_path: Path) -> None:
    blocker = write(tmp_path, "", name="blocker")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(blocker / "config.toml")


def test_invalid_utf8_names_line_and_column(tmp_path: Path) -> None:
    error = error_of(tmp_path, b"[settings]\nhistory = true\n# caf\xe9\n")
    assert (error.line, error.col) == (3, 6)
    assert "UTF-8" in error.message and "0xe9" in error.message
    assert str(error).startswith(f"{tmp_path / 'config.toml'}:3:6: ")


def test_a_leading_bom_is_accepted(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '\ufeff[[domains]]\nname = "a.example"\n'))
    assert [d.name for d in config.domains] == ["a.example"]


def test_every_key_is_read(tmp_path: Path) -> None:
    text = """
[settings]
interval = 60
timeout = 2
retries = 0
concurrency = 8
nameservers = ["192.0.2.1", "192.0.2.2:5353", "[2001:db8::1]:53", "2001:db8::2"]
history = false
port = 5353
compare_resolvers = ["198.51.100.7"]

[relay]
mx = ["*.Relay.Example.", "mx.bücher.example"]
spf_include = ["_spf.relay.example"]
spf_ips = [" 192.0.2.0/24", "2001:db8::/32", "198.51.100.7", "192.0.2.1/24"]
dkim_selectors = ["ESM", "s1.keys"]

[[domains]]
name = "Example.COM."
dkim_selectors = ["extra"]
bimi = true
mx = []
spf_include = ["other.example"]
spf_ips = ["203.0.113.9"]
"""
    config = load_config(write(tmp_path, text))
    assert config.settings == Settings(
        interval=60,
        timeout=2.0,
        retries=0,
        concurrency=8,
        nameservers=(
            ("192.0.2.1", 53),
            ("192.0.2.2", 5353),
            ("2001:db8::1", 53),
            ("2001:db8::2", 53),
        ),
        history=False,
        port=5353,
        compare_resolvers=(("198.51.100.7", 53),),
    )
    assert isinstance(config.settings.timeout, float)
    assert config.relay == Relay(
        mx=("*.relay.example", "mx.xn--bcher-kva.example"),
        spf_include=("_spf.relay.example",),
        # the user's text, only stripped: "192.0.2.1/24" is a host route of a network
        spf_ips=("192.0.2.0/24", "2001:db8::/32", "198.51.100.7", "192.0.2.1/24"),
        dkim_selectors=("esm", "s1.keys"),
    )
    assert config.domains == (
        DomainConfig(
            name="example.com",
            dkim_selectors=("extra",),
            bimi=True,
            mx=(),
            spf_include=("other.example",),
            spf_ips=("203.0.113.9",),
        ),
    )


# -- validation errors, each with its position -----------------------------------------------

ERRORS = [
    # (file text, line, col, what the message says)
    ("[settings]\ninterval = \n", 2, 12, "TOML syntax: Invalid value"),
    ("[settings]\nretries = [1,", 2, 14, "at the end of the file"),
    ("[relay]\n[relay]\n", 2, None, "TOML syntax"),
    ("[setings]\ninterval = 30\n", 1, 1, "setings: unknown key (did you mean 'settings'?"),
    ("[settings]\nhistory = true\nintervall = 30\n", 3, 1, "settings.intervall: unknown key"),
    ('[settings]\n"inter val" = 30\n', 2, 1, "settings.'inter val': unknown key"),
    ("[relay]\nmx = []\nspf = []\n", 3, 1, "relay.spf: unknown key"),
    (
        '[[domains]]\nname = "a.example"\nbimi = true\nselector = ["x"]\n',
        4,
        1,
        "domains[0].selector: unknown key (did you mean 'dkim_selectors'?",
    ),
    ("settings = 5\n", 1, 1, "settings: must be a table ([settings]), not an integer (5)"),
    ("relay = []\n", 1, 1, "relay: must be a table"),
    ('[domains]\nname = "a.example"\n', 1, 1, "domains: must be an array of tables"),
    ("domains = [1]\n", 1, 12, "domains[0]: must be a table with a name, not an integer (1)"),
    ('[settings]\ninterval = "300"\n', 2, 1, "settings.interval: must be an integer, not a string"),
    ("[settings]\ninterval = 300.0\n", 2, 1, "settings.interval: must be an integer, not a number"),
    ("[settings]\ninterval = true\n", 2, 1, "settings.interval: must be an integer, not a boolean"),
    ("[settings]\n\n  interval = 9\n", 3, 3, "settings.interval: must be from 10 to 604800, not 9"),
    ("settings.interval = 5\n", 1, 1, "settings.interval: must be from 10"),
    ("[settings]\ntimeout = 0\n", 2, 1, "settings.timeout: must be more than 0"),
    ("[settings]\ntimeout = -1.5\n", 2, 1, "settings.timeout: must be more than 0"),
    ("[settings]\ntimeout = nan\n", 2, 1, "settings.timeout: must be more than 0"),
    ("[settings]\ntimeout = inf\n", 2, 1, "settings.timeout: must be more than 0"),
    ('[settings]\ntimeout = "5"\n', 2, 1, "settings.timeout: must be a number of seconds"),
    ("[settings]\nretries = -1\n", 2, 1, "settings.retries: must be from 0 to 10, not -1"),
    ("[settings]\nconcurrency = 0\n", 2, 1, "settings.concurrency: must be from 1"),
    ("[settings]\nport = 0\n", 2, 1, "settings.port: must be from 1 to 65535, not 0"),
    ("[settings]\nport = 65536\n", 2, 1, "settings.port: must be from 1 to 65535, not 65536"),
    ("[settings]\nhistory = 1\n", 2, 1, "settings.history: must be true or false"),
    (
        '[settings]\nnameservers = "192.0.2.1"\n',
        2,
        1,
        "settings.nameservers: must be an array of strings, not a string",
    ),
    (
        '[settings]\nnameservers = ["192.0.2.1", "dns.google"]\n',
        2,
        29,
        "settings.nameservers[1]: 'dns.google' is not an IP address",
    ),
    (
        '[settings]\nnameservers = ["192.0.2.1:0"]\n',
        2,
        16,
        "settings.nameservers[0]: '192.0.2.1:0': port must be a number from 1 to 65535",
    ),
    (
        '[settings]\ncompare_resolvers = ["[2001:db8::1"]\n',
        2,
        22,
        "settings.compare_resolvers[0]: '[2001:db8::1': missing ']'",
    ),
    (
        '[relay]\nmx = [\n  "ok.example",  # fine\n  "bad host",\n]\n',
        4,
        3,
        "relay.mx[1]: 'bad host' is not a valid MX host name: label 'bad host' contains ' '",
    ),
    (
        '[relay]\nmx = ["mx.*.example"]\n',
        2,
        7,
        "relay.mx[0]: 'mx.*.example' is not a valid MX host name: '*' is allowed only as the first",
    ),
    ('[relay]\nmx = ["*"]\n', 2, 7, "relay.mx[0]: '*' is not a valid MX host name"),
    (
        '[relay]\nspf_include = ["relay"]\n',
        2,
        16,
        "relay.spf_include[0]: 'relay' is not a valid domain name: it is a single label",
    ),
    (
        '[relay]\nspf_ips = ["192.0.2.0/24", "192.0.2.0/33"]\n',
        2,
        28,
        "relay.spf_ips[1]: '192.0.2.0/33' is not an IP address or network",
    ),
    (
        '[relay]\nspf_ips = ["fe80::1%eth0"]\n',
        2,
        12,
        "relay.spf_ips[0]: 'fe80::1%eth0' is not an IP",
    ),
    (
        '[relay]\nspf_ips = ["relay.example"]\n',
        2,
        12,
        "relay.spf_ips[0]: 'relay.example' is not an IP",
    ),
    ("[relay]\ndkim_selectors = [1]\n", 2, 19, "relay.dkim_selectors[0]: must be a string, not an"),
    (
        '[relay]\ndkim_selectors = ["a b"]\n',
        2,
        19,
        "relay.dkim_selectors[0]: 'a b' is not a valid DKIM selector",
    ),
    (
        '[[domains]]\nname = "a.example"\n\n[[domains]]\nbimi = true\n',
        4,
        1,
        "domains[1]: has no name",
    ),
    ("[[domains]]\nname = 5\n", 2, 1, "domains[0].name: must be a string, not an integer (5)"),
    (
        '[[domains]]\nname = "exa mple.com"\n',
        2,
        1,
        "domains[0].name: 'exa mple.com' is not a valid domain name",
    ),
    (
        '[[domains]]\nname = "192.0.2.1"\n',
        2,
        1,
        "'192.0.2.1' is not a valid domain name: it is an IP",
    ),
    (
        '[[domains]]\nname = "a.example"\nbimi = "yes"\n',
        3,
        1,
        "domains[0].bimi: must be true or false, not a string",
    ),
    (
        '[[domains]]\nname = "a.example"\n[[domains]]\nname = "b.example"\n'
        '[[domains]]\nname = "c.example"\ndkim_selectors = ["ok", "x..y"]\n',
        7,
        25,
        "domains[2].dkim_selectors[1]: 'x..y' is not a valid DKIM selector: it has an empty label",
    ),
    (
        '[[domains]]\nname = "a.example"\nspf_ips = "192.0.2.1"\n',
        3,
        1,
        "domains[0].spf_ips: must be an array of strings",
    ),
    (
        '[[domains]]\nname = "a.example"\nmx = ["-bad.example"]\n',
        3,
        7,
        "domains[0].mx[0]: '-bad.example' is not a valid MX host name: label '-bad' starts or ends",
    ),
    (
        'domains = [{name = "a.example"}, {name = "b.example", bimi = 3}]\n',
        1,
        55,
        "domains[1].bimi: must be true or false",
    ),
    (
        '[[domains]]\nname = "a.example"\nbimi.x = 1\n',
        3,
        1,
        "domains[0].bimi: must be true or false",
    ),
    ("[settings]\ninterval = 1" + "0" * 5000 + "\n", None, None, "cannot parse it"),
    ("[settings]\nretries = " + "[" * 3000 + "\n", None, None, "cannot parse it"),
]


@pytest.mark.parametrize(("text", "line", "col", "message"), ERRORS)
def test_validation_errors_name_the_key_and_position(
    tmp_path: Path, text: str, line: int | None, col: int | None, message: str
) -> None:
    error = error_of(tmp_path, text)
    assert (error.line, error.col if col is not None else None) == (line, col)
    assert message in str(error)
    where = f"{tmp_path / 'config.toml'}" + (f":{line}:{error.col}" if line else "")
    assert str(error) == f"{where}: {error.message}"


def test_duplicate_domains_after_normalisation_name_both_entries(tmp_path: Path) -> None:
    text = (
        '[[domains]]\nname = "bücher.example"\n\n'
        '[[domains]]\nname = "other.example"\n\n'
        '# the same, spelled differently\n[[domains]]\nname = "XN--BCHER-KVA.Example."\n'
    )
    error = error_of(tmp_path, text)
    assert (error.line, error.col) == (9, 1)
    assert error.key == "domains[2].name"
    assert "'XN--BCHER-KVA.Example.' is the same domain as domains[0]" in error.message
    assert "'bücher.example', line 2" in error.message


def test_every_error_kind_is_a_config_error_with_the_path(tmp_path: Path) -> None:
    # The message attribute carries the key path even for callers that skip str().
    error = error_of(tmp_path, "[settings]\nport = 0\n")
    assert error.message.startswith("settings.port: ")
    assert error.path == tmp_path / "config.toml"


# -- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("example.com", "example.com"),
        ("  Example.COM.  ", "example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.example", "xn--bcher-kva.example"),
        ("例え。テスト", "xn--r8jz45g.xn--zckzah"),  # ideographic full stop separates labels
        ("_dmarc.example.com", "_dmarc.example.com"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("a-b.c0.example", "a-b.c0.example"),
        ("1.2.3.example", "1.2.3.example"),
        ("a." * 125 + "ab", "a." * 125 + "ab"),  # 252 characters
    ],
)
def test_normalize_domain(text: str, expected: str) -> None:
    assert normalize_domain(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        (" . ", "empty"),
        ("exa mple.com", "label 'exa mple' contains ' '"),
        ("example..com", "empty label"),
        (".example.com", "empty label"),
        ("example.com..", "empty label"),
        ("com", "single label"),
        ("localhost.", "single label"),
        ("192.0.2.1", "IP address"),
        ("2001:db8::1", "IP address"),
        ("example.123", "all digits"),
        ("-a.example", "hyphen"),
        ("a-.example", "hyphen"),
        ("a" * 64 + ".example", "longer than 63"),
        ("a." * 126 + "ab", "at most 253"),
        ("a/b.example", "'/'"),
        ("[::1].example", "'['"),
        ("exa\x1bmple.com", "'\\x1b'"),
        ("\u200d.example", "IDNA"),
    ],
)
def test_normalize_domain_rejects_with_the_input_named(text: str, reason: str) -> None:
    with pytest.raises(DomainNameError) as caught:
        normalize_domain(text)
    assert str(caught.value).startswith(f"{text!r} is not a valid domain name: ")
    assert reason in str(caught.value)


@given(st.text(max_size=80))
def test_normalize_domain_is_total_and_idempotent(text: str) -> None:
    try:
        name = normalize_domain(text)
    except DomainNameError:
        return
    assert name.isascii() and name == name.lower() and not name.endswith(".")
    assert len(name) <= 253 and len(name.split(".")) >= 2
    assert normalize_domain(name) == name


def test_normalize_selector() -> None:
    assert normalize_selector(" ESM ") == "esm"
    assert normalize_selector("s1.keys") == "s1.keys"
    for bad in ("", "a b", "a..b", "x" * 64):
        with pytest.raises(SelectorError, match=re.escape(repr(bad))):
            normalize_selector(bad)


# -- merging ---------------------------------------------------------------------------------

MERGE = """
[relay]
mx = ["*.relay.example"]
spf_include = ["_spf.relay.example"]
spf_ips = ["192.0.2.0/24"]
dkim_selectors = ["esm", "shared"]

[[domains]]
name = "inherits.example"
dkim_selectors = ["own", "ESM"]

[[domains]]
name = "replaces.example"
mx = ["mx.own.example"]
spf_include = []
bimi = true

[[domains]]
name = "bücher.example"
spf_ips = ["203.0.113.0/24"]
"""


def test_domain_settings_inherit_or_replace_relay(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MERGE))
    assert config.domain_settings("inherits.example") == DomainSettings(
        name="inherits.example",
        relay_mx=("*.relay.example",),
        spf_include=("_spf.relay.example",),
        spf_ips=("192.0.2.0/24",),
        dkim_selectors=("esm", "shared", "own"),
        bimi_expected=False,
    )
    # A per-domain list replaces [relay]'s, and an empty one means "no expectation".
    replaced = config.domain_settings("Replaces.Example.")
    assert replaced.relay_mx == ("mx.own.example",)
    assert replaced.spf_include == ()
    assert replaced.spf_ips == ("192.0.2.0/24",)
    assert replaced.bimi_expected is True
    idn = config.domain_settings("bücher.example")
    assert idn.name == "xn--bcher-kva.example" and idn.spf_ips == ("203.0.113.0/24",)
    assert idn.relay_mx == ("*.relay.example",)


def test_domain_settings_selectors_merge_in_order_without_repeats(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MERGE))
    settings_ = config.domain_settings("inherits.example", [" Extra ", "own", "esm", ""])
    assert settings_.dkim_selectors == ("esm", "shared", "own", "extra")


def test_a_domain_not_in_the_config_gets_relay_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MERGE))
    assert config.domain_settings("new.example", ["x"]) == DomainSettings(
        name="new.example",
        relay_mx=("*.relay.example",),
        spf_include=("_spf.relay.example",),
        spf_ips=("192.0.2.0/24",),
        dkim_selectors=("esm", "shared", "x"),
    )
    assert Config().domain_settings("new.example") == DomainSettings(name="new.example")
    with pytest.raises(DomainNameError):
        config.domain_settings("not a name")


def test_with_domains_adds_or_replaces(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MERGE))
    added = config.with_domains(["cli.example", "INHERITS.example", "cli.example."])
    assert [d.name for d in added.domains] == [
        "inherits.example", "replaces.example", "xn--bcher-kva.example", "cli.example",
    ]  # fmt: skip
    only = config.with_domains(["cli.example", "replaces.example"], replace_configured=True)
    assert [d.name for d in only.domains] == ["cli.example", "replaces.example"]
    assert only.domains[1].bimi is True  # the configured entry, not a bare one
    assert only.path == config.path and only.fingerprint == config.fingerprint
    with pytest.raises(DomainNameError, match="'bad name'"):
        config.with_domains(["bad name"])


# -- paths -----------------------------------------------------------------------------------


def test_config_path_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    default = Path(platformdirs.user_config_dir("esm-tui")) / "config.toml"
    assert default_config_path() == default
    monkeypatch.delenv("ESM_TUI_CONFIG", raising=False)
    assert resolve_config_path(None) == default
    monkeypatch.setenv("ESM_TUI_CONFIG", str(tmp_path / "env.toml"))
    assert resolve_config_path(None) == tmp_path / "env.toml"
    assert resolve_config_path(str(tmp_path / "cli.toml")) == tmp_path / "cli.toml"
    monkeypatch.setenv("ESM_TUI_CONFIG", "")
    assert resolve_config_path(None) == default
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_config_path("~/x.toml") == tmp_path / "x.toml"


# -- the example -----------------------------------------------------------------------------


def test_the_example_loads_and_documents_every_key() -> None:
    text = example_config_text()
    config = parse_config(text)
    assert config.settings == Settings() and config.relay == Relay() and config.domains == ()
    lines = text.splitlines()
    for section, keys in (("settings", ALL_SETTINGS), ("relay", ALL_RELAY)):
        body = lines[lines.index(f"[{section}]") :]
        for key in keys:
            line = next(i for i, line in enumerate(body) if line.startswith(f"{key} = "))
            assert body[line - 1].startswith("#"), f"{key} has no comment above it"
    domain_keys = ("name", "dkim_selectors", "bimi", "mta_sts", "tls_rpt", "dnssec", "mx",
                   "spf_include", "spf_ips")  # fmt: skip
    for key in domain_keys:
        assert any(line.startswith("# ") and key in line for line in lines[-12:]), key
    # Placeholders only in comments: no vendor host name is made up.
    assert "activation guide" in text


def test_the_commented_domain_example_is_valid_once_uncommented() -> None:
    text = example_config_text()
    head, example = text.split("# [[domains]]\n")
    lines = ["[[domains]]"] + [line.removeprefix("# ") for line in example.splitlines()]
    config = parse_config(head + "\n".join(lines) + "\n")
    assert config.domains == (DomainConfig(name="example.com", dkim_selectors=("esm",)),)


def test_write_starter_config_creates_once(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "config.toml"
    write_starter_config(path)
    assert path.read_text(encoding="utf-8") == example_config_text()
    assert load_config(path).domains == ()
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="already exists"):
        write_starter_config(path)
    assert path.read_bytes() == before
    with pytest.raises(ConfigError, match="already exists"):
        write_starter_config(tmp_path)  # a directory is there too


def test_write_starter_config_reports_os_errors(tmp_path: Path) -> None:
    blocker = write(tmp_path, "", name="blocker")
    with pytest.raises(ConfigError, match="cannot create its directory") as caught:
        write_starter_config(blocker / "config.toml")
    assert caught.value.path == blocker / "config.toml"
    assert blocker.read_bytes() == b""


# -- saving ----------------------------------------------------------------------------------

USER_FILE = """\
# My mail domains — keep this comment.
[settings]
interval = 120   # two minutes

[relay]
dkim_selectors = ["esm"]  # from the activation guide

# The main domain
[[domains]]
name = "first.example"
# selectors of the old provider
dkim_selectors = [
  "old",  # until March
  "new",
]

# Second domain: BIMI on.
[[domains]]
name = "second.example"
bimi = true

[[domains]]
name = "third.example"
"""


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_add_domain_appends_and_keeps_everything(tmp_path: Path) -> None:
    path = write(tmp_path, USER_FILE)
    config = load_config(path)
    new = add_domain(config, "  New.Example. ")
    data = path.read_bytes()
    assert data == USER_FILE.encode() + b'\n[[domains]]\nname = "new.example"\n'
    assert (tmp_path / "config.toml.bak").read_bytes() == USER_FILE.encode()
    assert listing(tmp_path) == ["config.toml", "config.toml.bak"]  # no temp file left
    assert [d.name for d in new.domains] == [
        "first.example", "second.example", "third.example", "new.example",
    ]  # fmt: skip
    assert new.fingerprint == hashlib.sha256(data).hexdigest()
    assert new.settings.interval == 120


def test_add_an_idn_domain_keeps_its_unicode_spelling(tmp_path: Path) -> None:
    path = write(tmp_path, "[settings]\nhistory = false")  # no final newline
    new = add_domain(load_config(path), "Bücher.example")
    assert path.read_text(encoding="utf-8") == (
        '[settings]\nhistory = false\n\n[[domains]]\nname = "bücher.example"\n'
    )
    assert [d.name for d in new.domains] == ["xn--bcher-kva.example"]


def test_add_creates_the_file_and_its_directory(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "config.toml"
    config = load_config(path)
    new = add_domain(config, "a.example")
    assert path.read_text(encoding="utf-8") == '[[domains]]\nname = "a.example"\n'
    assert listing(path.parent) == ["config.toml"]  # nothing to back up
    assert new.path == path and [d.name for d in new.domains] == ["a.example"]


def test_add_refuses_duplicates_and_bad_names(tmp_path: Path) -> None:
    path = write(tmp_path, USER_FILE)
    config = load_config(path)
    with pytest.raises(ConfigError, match=re.escape("second.example is already in the config")):
        add_domain(config, "SECOND.example.")
    with pytest.raises(ConfigError, match="'bad name' is not a valid domain name"):
        add_domain(config, "bad name")
    assert path.read_bytes() == USER_FILE.encode()
    assert listing(tmp_path) == ["config.toml"]


def test_remove_domain_takes_exactly_its_table(tmp_path: Path) -> None:
    path = write(tmp_path, USER_FILE)
    new = remove_domain(load_config(path), "First.Example")
    expected = USER_FILE.replace(
        '[[domains]]\nname = "first.example"\n# selectors of the old provider\n'
        'dkim_selectors = [\n  "old",  # until March\n  "new",\n]\n\n',
        "",
    )
    assert path.read_text(encoding="utf-8") == expected
    assert "# The main domain\n# Second domain: BIMI on.\n" in expected  # comments stay
    assert (tmp_path / "config.toml.bak").read_bytes() == USER_FILE.encode()
    assert listing(tmp_path) == ["config.toml", "config.toml.bak"]
    assert [d.name for d in new.domains] == ["second.example", "third.example"]


def test_remove_the_last_table_and_add_round_trip(tmp_path: Path) -> None:
    path = write(tmp_path, USER_FILE)
    added = add_domain(load_config(path), "new.example")
    removed = remove_domain(added, "new.example")
    assert path.read_bytes() == USER_FILE.encode()
    assert [d.name for d in removed.domains] == ["first.example", "second.example", "third.example"]
    remove_domain(removed, "third.example")
    assert path.read_text(encoding="utf-8") == USER_FILE.removesuffix(
        '\n[[domains]]\nname = "third.example"\n'
    )


def test_remove_an_idn_domain_by_either_spelling(tmp_path: Path) -> None:
    path = write(tmp_path, '[[domains]]\nname = "bücher.example"\n')
    new = remove_domain(load_config(path), "xn--bcher-kva.example")
    assert path.read_text(encoding="utf-8") == "" and new.domains == ()


def test_remove_refuses_unknown_and_inline_domains(tmp_path: Path) -> None:
    path = write(tmp_path, USER_FILE)
    with pytest.raises(ConfigError, match=re.escape("nope.example is not in the config")):
        remove_domain(load_config(path), "nope.example")
    inline = 'domains = [{ name = "a.example" }]  # inline\n'
    path.write_text(inline, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape("not written as a [[domains]] table")):
        remove_domain(load_config(path), "a.example")
    with pytest.raises(ConfigError, match=re.escape("cannot add b.example safely")):
        add_domain(load_config(path), "b.example")
    assert path.read_text(encoding="utf-8") == inline
    assert listing(tmp_path) == ["config.toml"]
    with pytest.raises(ConfigError, match="not in the config"):
        remove_domain(load_config(tmp_path / "missing.toml"), "a.example")


def test_crlf_files_stay_crlf(tmp_path: Path) -> None:
    original = '# comment\r\n[[domains]]\r\nname = "a.example"\r\n'
    path = write(tmp_path, original)
    add_domain(load_config(path), "b.example")
    assert path.read_bytes() == (original + '\r\n[[domains]]\r\nname = "b.example"\r\n').encode()
    remove_domain(load_config(path), "a.example")
    assert path.read_bytes() == b'# comment\r\n[[domains]]\r\nname = "b.example"\r\n'


def test_a_bom_is_kept(tmp_path: Path) -> None:
    path = write(tmp_path, '\ufeff[[domains]]\nname = "a.example"\n')
    add_domain(load_config(path), "b.example")
    remove_domain(load_config(path), "a.example")
    assert path.read_text(encoding="utf-8") == '\ufeff[[domains]]\nname = "b.example"\n'


def test_saving_refuses_when_the_file_changed_on_disk(tmp_path: Path) -> None:
    path = write(tmp_path, USER_FILE)
    config = load_config(path)
    newer = USER_FILE + "# edited in vim meanwhile\n"
    path.write_text(newer, encoding="utf-8")
    with pytest.raises(ConfigChangedError, match="changed on disk"):
        add_domain(config, "new.example")
    with pytest.raises(ConfigChangedError):
        remove_domain(config, "first.example")
    assert path.read_text(encoding="utf-8") == newer
    assert listing(tmp_path) == ["config.toml"]
    # Loaded while absent, created since: also a change.
    other = tmp_path / "other.toml"
    absent = load_config(other)
    other.write_text("", encoding="utf-8")
    with pytest.raises(ConfigChangedError):
        add_domain(absent, "new.example")
    assert other.read_text(encoding="utf-8") == ""


def test_a_change_during_the_save_is_not_overwritten(tmp_path: Path) -> None:
    path = write(tmp_path, "# v1\n")
    expected = config_save.fingerprint(path.read_bytes())

    def edit(current: bytes | None) -> bytes:
        path.write_bytes(b"# v2, saved by another program while we worked\n")
        return (current or b"") + b"# ours\n"

    with pytest.raises(config_save.FileChangedError):
        config_save.edit_file(path, expected, edit)
    assert path.read_bytes() == b"# v2, saved by another program while we worked\n"
    assert sorted(listing(tmp_path)) == ["config.toml", "config.toml.bak"]


def test_a_symlinked_config_stays_a_symlink(tmp_path: Path) -> None:
    real = write(tmp_path, USER_FILE, name="real.toml")
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    add_domain(load_config(link), "new.example")
    assert link.is_symlink() and '"new.example"' in real.read_text(encoding="utf-8")
    assert (tmp_path / "real.toml.bak").read_bytes() == USER_FILE.encode()


def test_saving_keeps_the_file_mode(tmp_path: Path) -> None:
    path = write(tmp_path, USER_FILE)
    path.chmod(0o600)
    add_domain(load_config(path), "new.example")
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "config.toml.bak").stat().st_mode & 0o777 == 0o600


def test_an_unwritable_directory_is_a_config_error(tmp_path: Path) -> None:
    directory = tmp_path / "conf"
    directory.mkdir()
    path = write(directory, USER_FILE)
    config = load_config(path)
    directory.chmod(0o500)
    try:
        writable_anyway = os.access(directory, os.W_OK)  # root ignores the mode bits
        if writable_anyway:
            directory.chmod(0o700)
            # Make the file's directory a place that cannot hold files: a regular file.
            path.unlink()
            directory.rmdir()
            directory.write_text("not a directory\n", encoding="utf-8")
            config = Config(path=path)
        with pytest.raises(ConfigError) as caught:
            add_domain(config, "new.example")
    finally:
        if directory.is_dir():
            directory.chmod(0o700)
    reason = "Not a directory" if writable_anyway else "Permission denied"
    assert reason in str(caught.value) and caught.value.path == path
    if writable_anyway:
        assert directory.read_text(encoding="utf-8") == "not a directory\n"
    else:
        assert path.read_bytes() == USER_FILE.encode()
        assert listing(directory) == ["config.toml"]


def test_a_failing_backup_leaves_the_original_untouched(tmp_path: Path) -> None:
    path = write(tmp_path, USER_FILE)
    (tmp_path / "config.toml.bak").mkdir()  # os.replace cannot put a file there, even as root
    with pytest.raises(ConfigError, match="cannot write the backup") as caught:
        add_domain(load_config(path), "new.example")
    assert "directory" in str(caught.value)
    assert path.read_bytes() == USER_FILE.encode()
    assert listing(tmp_path) == ["config.toml", "config.toml.bak"]  # no temp file left


def test_a_failing_write_leaves_the_original_untouched(tmp_path: Path) -> None:
    # RLIMIT_FSIZE stops writes even for root: the temp file cannot grow past its limit.
    path = write(tmp_path, USER_FILE)
    config = load_config(path)
    limit = len(USER_FILE) + 10  # the backup fits, the longer new file does not
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, old_limit[1]))
        with pytest.raises(ConfigError, match="File too large") as caught:
            add_domain(config, "a-rather-long-domain-name.example")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)
    assert f"cannot write {path}" in str(caught.value)
    assert path.read_bytes() == USER_FILE.encode()
    assert listing(tmp_path) == ["config.toml", "config.toml.bak"]  # no temp file left


def test_saving_needs_a_path() -> None:
    with pytest.raises(ConfigError, match="no config file"):
        add_domain(Config(), "a.example")


# -- properties ------------------------------------------------------------------------------

_SCRATCH = tempfile.mkdtemp(prefix="esm-tui-config-test-")
atexit.register(shutil.rmtree, _SCRATCH, True)


def _load_text(data: str | bytes) -> Config | None:
    path = Path(_SCRATCH) / "config.toml"
    path.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    try:
        return load_config(path)
    except ConfigError as exc:
        lines = (data if isinstance(data, bytes) else data.encode("utf-8", "replace")).count(b"\n")
        assert exc.line is None or 1 <= exc.line <= lines + 1
        assert str(exc).startswith(str(path))
        return None


_KEYS = st.sampled_from(
    ["settings", "relay", "domains", "name", "bimi", "mx", "spf_ips", "spf_include",
     "dkim_selectors", *ALL_SETTINGS, "x"]
)  # fmt: skip
_SCALARS = (
    st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(
        ["example.com", "*.relay.example", "192.0.2.0/24", "[::1]:53", "bücher.example"]
    )
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_loads_or_is_a_config_error(text: str) -> None:
    _load_text(text)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=100))
def test_any_bytes_load_or_are_a_config_error(data: bytes) -> None:
    _load_text(data)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES, max_size=4))
def test_any_toml_document_loads_or_is_a_config_error(document: dict) -> None:
    text = tomli_w.dumps(document)
    config = _load_text(text)
    if config is not None:
        assert all(d.name == normalize_domain(d.name) for d in config.domains)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("[]{}\"'#=.,\n\\ ab1")), max_size=120))
def test_the_scanner_is_total(text: str) -> None:
    layout = toml_layout.scan(text)
    assert all(0 <= offset <= len(text) for offset in layout.positions.values())
    assert all(s.line_start <= s.start <= s.line_end <= len(text) for s in layout.statements)


def test_the_scanner_agrees_with_tomllib_on_array_tables() -> None:
    text = '[[domains]]\nname = "a"\n[[domains]]\nname = """b\n[[domains]]\n"""\n[[domains]]\n'
    assert len(tomllib.loads(text)["domains"]) == 3
    layout = toml_layout.scan(text)
    assert [s.path for s in layout.statements if s.header] == [
        ("domains", 0), ("domains", 1), ("domains", 2),
    ]  # fmt: skip
    assert layout.line_col(("domains", 2)) == (7, 1)


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    items = value.items() if isinstance(value, dict) else enumerate(value)  # type: ignore[union-attr]
    found = []
    for key, child in items:
        found.append((*prefix, key))
        if isinstance(child, dict | list):
            found.extend(_paths(child, (*prefix, key)))
    return found


_FLAT = st.dictionaries(
    _KEYS | st.text(max_size=6),
    _SCALARS | st.lists(_SCALARS | st.dictionaries(_KEYS, _SCALARS, max_size=2), max_size=3),
    max_size=4,
)


@settings(max_examples=200, deadline=None)
@given(_FLAT, _FLAT, st.lists(_FLAT, max_size=4))
def test_the_scanner_locates_every_key_of_a_written_document(
    settings_: dict, relay: dict, domains: list[dict]
) -> None:
    # Rendered the way people write configs: [settings], [relay], one [[domains]] per domain.
    text = "[settings]\n" + tomli_w.dumps(settings_) + "\n[relay]\n" + tomli_w.dumps(relay)
    text += "".join("\n[[domains]]\n" + tomli_w.dumps(entry) for entry in domains)
    document = {"settings": settings_, "relay": relay, "domains": domains}
    if not domains:
        del document["domains"]
    assert tomllib.loads(text).keys() == document.keys()
    layout = toml_layout.scan(text)
    assert all(path in layout.positions for path in _paths(document))
    try:
        parse_config(text)
    except ConfigError as exc:
        assert exc.line is not None, exc  # every semantic error is located
