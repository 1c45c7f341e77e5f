"""`[publish]` and `[[domains]] publish = {...}` (SPEC §6): validated when the config loads,
with file:line, and no secret ever in a message or a repr."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from esm_tui.config import ConfigError, load_config

SECRET = base64.b64encode(b"s" * 32).decode()
KEY = f'key "esm-key" {{\n  algorithm hmac-sha256;\n  secret "{SECRET}";\n}};\n'


def _load(tmp: Path, text: str):
    path = tmp / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def _key(tmp: Path, text: str = KEY) -> Path:
    path = tmp / "tsig.key"
    path.write_text(text, encoding="utf-8")
    return path


def test_rfc2136_with_a_key_file_relative_to_the_config(tmp_path: Path) -> None:
    _key(tmp_path)
    config = _load(
        tmp_path,
        '[publish]\nprovider = "rfc2136"\nserver = "192.0.2.53:5353"\ntsig_key_file = "tsig.key"\n',
    )
    publish = config.publish_for("any.example")
    assert publish is not None and publish.provider == "rfc2136"
    assert publish.server == ("192.0.2.53", 5353)
    assert publish.tsig_key is not None
    assert (publish.tsig_key.name, publish.tsig_key.algorithm) == ("esm-key.", "hmac-sha256")
    assert publish.tsig_key.secret == SECRET
    assert SECRET not in repr(publish) and SECRET not in repr(config)


def test_a_domain_s_own_publish_replaces_the_top_level_one(tmp_path: Path) -> None:
    _key(tmp_path)
    config = _load(
        tmp_path,
        '[publish]\nprovider = "rfc2136"\ntsig_key_file = "tsig.key"\n'
        '[[domains]]\nname = "own.example"\n'
        'publish = { provider = "rfc2136", server = "192.0.2.99", tsig_key_file = "tsig.key" }\n'
        '[[domains]]\nname = "shared.example"\n',
    )
    assert config.publish_for("own.example").server == ("192.0.2.99", 53)
    assert config.publish_for("shared.example").server is None
    assert _load(tmp_path, "").publish_for("x.example") is None


@pytest.mark.parametrize(
    ("text", "said", "line"),
    [
        ('[publish]\nprovider = "Not A Provider"\n', "must name how to publish", 2),
        ('[publish]\nprovider = "rfc2136"\n', "rfc2136 needs a TSIG key", None),
        ('[publish]\nprovider = "rfc2136"\ntsig_key_file = "missing.key"\n', "cannot read", 3),
        ('[publish]\nprovider = "rfc2136"\nserver = "not an ip"\ntsig_key_file = "tsig.key"\n',
         "server", 3),
        ('[publish]\nprovider = "rfc2136"\ntsig_key_file = "tsig.key"\nsecret = "x"\n',
         "unknown key", 4),
    ],
)  # fmt: skip
def test_mistakes_are_named_with_their_line(
    tmp_path: Path, text: str, said: str, line: int | None
) -> None:
    _key(tmp_path)
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, text)
    message = str(err.value)
    assert said in message
    if line is not None:
        assert f"config.toml:{line}" in message
    assert SECRET not in message


def test_a_malformed_key_file_is_named(tmp_path: Path) -> None:
    _key(tmp_path, 'key "k" { algorithm hmac-sha256; };\n')
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, '[publish]\nprovider = "rfc2136"\ntsig_key_file = "tsig.key"\n')
    assert "no base64 secret" in str(err.value) and "tsig.key" in str(err.value)
    _key(tmp_path, f'key "k" {{ algorithm rot13; secret "{SECRET}"; }};\n')
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, '[publish]\nprovider = "rfc2136"\ntsig_key_file = "tsig.key"\n')
    assert "no known algorithm" in str(err.value)
    assert SECRET not in str(err.value)


def test_a_credentials_file_others_can_read_is_refused(tmp_path: Path) -> None:
    creds = tmp_path / "dns.toml"
    creds.write_text('token = "secret"\n', encoding="utf-8")
    os.chmod(creds, 0o644)
    text = '[publish]\nprovider = "ovh"\ncredentials_file = "dns.toml"\n'
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, text)
    assert "chmod 600" in str(err.value)
    os.chmod(creds, 0o600)
    assert _load(tmp_path, text).publish.provider == "ovh"
