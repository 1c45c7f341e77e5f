"""`esm-tui init` asks when a person is at the terminal (SPEC §9, issue 17 item 2).

The real command runs with a pseudo-terminal as its stdin and stdout (so `isatty()` is
true, as for an admin typing); the answers are typed into the terminal, mistakes included.
The config it writes is then loaded as esm-tui loads it.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from esm_tui.config import load_config, parse_config
from esm_tui.init_cli import Answers, config_text

ROOT = Path(__file__).resolve().parents[1]


def _run_in_a_terminal(args: list[str], typed: str, env: dict[str, str]) -> tuple[int, str]:
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "esm_tui", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            close_fds=True,
        )
        os.close(slave)
        os.write(master, typed.encode())  # the line discipline hands it out line by line
        output = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed its end: all was read
                break
            if not chunk:
                break
            output += chunk
        code = proc.wait(timeout=60)
    finally:
        os.close(master)
    return code, output.decode("utf-8", "replace").replace("\r\n", "\n")


def _env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    env.pop("ESM_TUI_CONFIG", None)
    return env


def test_init_asks_and_writes_a_working_config_with_the_preset(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    typed = "not a domain!\nbücher.example\nexample.com\nexample.com\n\n\nesm bad/sel\nesm\n"
    code, out = _run_in_a_terminal(["init", "--config", str(path)], typed, _env(tmp_path))
    assert code == 0, out
    assert "+ xn--bcher-kva.example (bücher.example)" in out  # an IDN in both forms
    assert "+ example.com\n" in out
    assert "example.com is already in the list" in out
    assert "contains" in out  # "not a domain!" refused, with the reason, and asked again
    assert f"Wrote {path}: 2 domain(s) through e-securemail (preset)" in out
    config = load_config(path)
    assert [d.name for d in config.domains] == ["xn--bcher-kva.example", "example.com"]
    assert config.relay.preset == "e-securemail"
    assert config.relay.mx == ("france.security-mail.net", "europe.security-mail.net")
    assert config.domain_settings("example.com").dkim_selectors[-1] == "esm"
    assert "# Relaying through e-securemail?" in path.read_text()  # the comments stay


def test_without_the_relay_the_starter_keys_stay(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    code, out = _run_in_a_terminal(
        ["init", "--config", str(path)], "example.org\n\nn\n\n", _env(tmp_path)
    )
    assert code == 0, out
    config = load_config(path)
    assert config.relay.preset == "" and config.relay.mx == ()
    assert [d.name for d in config.domains] == ["example.org"]


def test_yes_or_no_terminal_writes_the_example_as_it_is(tmp_path: Path) -> None:
    example = (ROOT / "esm_tui" / "config" / "config.example.toml").read_text()
    for args in (["--yes"], []):
        path = tmp_path / f"c{len(args)}.toml"
        proc = subprocess.run(
            [sys.executable, "-m", "esm_tui", "init", "--config", str(path), *args],
            input="",
            capture_output=True,
            text=True,
            env=_env(tmp_path),
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        assert path.read_text() == example


def test_the_top_level_example_is_the_packaged_one() -> None:
    packaged = (ROOT / "esm_tui" / "config" / "config.example.toml").read_bytes()
    assert (ROOT / "config.example.toml").read_bytes() == packaged


def test_every_answer_gives_a_config_that_loads() -> None:
    for relay in (True, False):
        answers = Answers()
        answers.domains, answers.relay, answers.selectors = ["a.example"], relay, ["s1", "s2"]
        config = parse_config(config_text(answers))
        assert config.domains[0].dkim_selectors == ("s1", "s2")
