"""The README and docs/ say what the code does: codes, config keys, flags, JSON keys, paths.

Each test reads a page and holds it to the program: the codes table to `esm_tui.codes`, the
config reference to the loader, the flags to each command's `--help`, the JSON reference to
the real `check --json` output, and every file, test and link a page names to the tree.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from esm_tui import codes
from esm_tui.cli import main
from esm_tui.config import ConfigError, parse_config
from esm_tui.demo.scenario import DEMO_DOMAINS, demo_records
from esm_tui.demo.server import DnsServer
from esm_tui.model import CHECK_NAMES

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
#: Every page of prose the project ships; each is checked for links and paths.
PAGES = [README, ROOT / "CONTRIBUTING.md", *sorted(DOCS.glob("*.md"))]


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# -- size ----------------------------------------------------------------------------------


def test_the_readme_stays_short() -> None:
    """Issue 13: a README a newcomer reads in minutes; the rest belongs in docs/."""
    assert len(read(README).splitlines()) <= 250


# -- the commands the README gives --------------------------------------------------------


def fenced_command(text: str, heading: str) -> str:
    """The one-line command in the first ```sh block under `heading`."""
    section = text.split(f"\n{heading}\n", 1)[1]
    block = re.search(r"```sh\n(.*?)\n```", section, re.DOTALL)
    assert block is not None, heading
    [line] = block.group(1).splitlines()
    return line


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    command = fenced_command(read(README), "## Run the tests (one command)")
    assert command in read(ROOT / ".ci" / "run").splitlines()
    # The snapshots need the exact versions: the command installs with the constraints.
    assert "-c tests/constraints.txt" in command


def test_the_readme_try_it_command_starts_the_demo() -> None:
    command = fenced_command(read(README), "## Try it (one command, no network, no config)")
    assert command.endswith("&& .venv/bin/esm-tui --demo")


# -- finding codes (docs/codes.md) --------------------------------------------------------


def test_codes_table_is_current() -> None:
    """Regenerate with: python -m esm_tui.codes --write docs/codes.md"""
    page = read(DOCS / "codes.md")
    assert codes.with_table(page) == page


def test_codes_write_regenerates_a_stale_table(tmp_path: Path) -> None:
    page = read(DOCS / "codes.md")
    stale = tmp_path / "codes.md"
    stale.write_text(page.replace("| `spf.ptr` |", "| `spf.ptr-old` |"), encoding="utf-8")
    assert read(stale) != page
    run = [sys.executable, "-m", "esm_tui.codes", "--write", str(stale)]
    out = subprocess.run(run, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert read(stale) == page


def test_codes_write_refuses_a_page_without_markers(tmp_path: Path) -> None:
    page = tmp_path / "codes.md"
    page.write_text("# Codes\n\nno table here\n", encoding="utf-8")
    run = [sys.executable, "-m", "esm_tui.codes", "--write", str(page)]
    out = subprocess.run(run, capture_output=True, text=True, timeout=60)
    assert out.returncode == 64
    assert "codes:begin" in out.stderr and "Traceback" not in out.stderr
    assert read(page) == "# Codes\n\nno table here\n"


def test_every_code_is_check_prefixed() -> None:
    for code in codes.all_codes():
        check, _, slug = code.partition(".")
        assert check in set(CHECK_NAMES) and slug, code


# -- the config reference (docs/config.md) ------------------------------------------------

_ROW = re.compile(r"^\| `(\[settings\]|\[relay\]|\[\[domains\]\]) (\w+)` \| ([^|]*) \| ([^|]*) \|")


def config_rows() -> dict[tuple[str, str], tuple[str, str]]:
    """(table, key) -> (default cell, allowed cell), from the page's tables."""
    rows = {}
    for line in read(DOCS / "config.md").splitlines():
        found = _ROW.match(line)
        if found:
            table, key, default, allowed = found.groups()
            assert (table, key) not in rows, f"{table} {key} is documented twice"
            rows[table, key] = (default.strip(), allowed.strip())
    return rows


def loaded_defaults() -> dict[tuple[str, str], object]:
    """What the loader makes of an absent key: every key of every table, by name."""
    config = parse_config('[[domains]]\nname = "example.com"\n')
    tables = {
        "[settings]": config.settings,
        "[relay]": config.relay,
        "[[domains]]": config.domains[0],
    }
    return {
        (table, key): getattr(value, key)
        for table, value in tables.items()
        for key in type(value).__dataclass_fields__
    }


def test_the_config_page_documents_every_key_and_no_other() -> None:
    assert sorted(config_rows()) == sorted(loaded_defaults())


def test_the_config_page_gives_the_loaders_defaults() -> None:
    rows = config_rows()
    for (table, key), value in loaded_defaults().items():
        cell = rows[table, key][0]
        if table == "[[domains]]" and key == "name":
            assert cell.startswith("—"), cell  # required: no default
        elif (table, key) == ("[settings]", "trust_anchors"):
            assert value is None and "root" in cell, cell  # None: the root's built-in anchors
        elif value is None:
            assert cell == "inherit", (key, cell)  # None: the [relay] list applies
        else:
            expected = list(value) if isinstance(value, tuple) else value
            assert re.fullmatch(r"`[^`]+`", cell), (key, cell)
            documented = tomllib.loads(f"v = {cell.strip('`')}")["v"]
            assert documented == expected and type(documented) is type(expected), key


def accepts(table: str, key: str, value: object) -> bool:
    literal = repr(value) if isinstance(value, float) else str(value)
    try:
        parse_config(f"{table}\n{key} = {literal}\n")
    except ConfigError:
        return False
    return True


def test_the_config_page_ranges_are_the_loaders() -> None:
    checked = 0
    for (table, key), (_, allowed) in config_rows().items():
        bounds = re.fullmatch(r"(integer|number), (more than )?`([\d.]+)` … `([\d.]+)`", allowed)
        if bounds is None:
            continue
        kind, exclusive, low_text, high_text = bounds.groups()
        if kind == "integer":
            low, high = int(low_text), int(high_text)
            assert accepts(table, key, low) and accepts(table, key, high), key
            assert not accepts(table, key, low - 1) and not accepts(table, key, high + 1), key
        else:
            low_f, high_f = float(low_text), float(high_text)
            assert accepts(table, key, high_f) and not accepts(table, key, high_f + 0.5), key
            assert accepts(table, key, low_f + 0.001), key
            assert accepts(table, key, low_f) is not bool(exclusive), key
        checked += 1
    assert checked == 5  # interval, timeout, retries, concurrency, port


# -- flags (README, docs/commands.md) -----------------------------------------------------

COMMANDS = {"": "## `esm-tui` (the dashboard)", "check": "## `esm-tui check`",
            "spf-eval": "## `esm-tui spf-eval`", "history": "## `esm-tui history`",
            "init": "## `esm-tui init`", "monitor": "## `esm-tui monitor`"}  # fmt: skip


def flags_of(command: str, capsys: pytest.CaptureFixture[str]) -> set[str]:
    """The long options `esm-tui COMMAND --help` lists (the program's own word)."""
    argv = [command, "--help"] if command else ["--help"]
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    assert code in (0, None)
    text = capsys.readouterr().out
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", text)) - {"--help"}


def section(text: str, heading: str) -> str:
    """From `heading` to the next heading of the same level."""
    level = heading.split(" ", 1)[0]
    after = text.split(f"\n{heading}\n", 1)[1]
    return re.split(rf"\n{level} ", after, maxsplit=1)[0]


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_flag_is_in_the_commands_page(command: str, capsys) -> None:
    flags = flags_of(command, capsys)
    assert flags, command
    text = section(read(DOCS / "commands.md"), COMMANDS[command])
    missing = sorted(f for f in flags if f"`{f}" not in text)
    assert not missing, (command, missing)


@pytest.mark.parametrize("command", ["", "check"])
def test_every_flag_of_the_dashboard_and_check_is_in_the_readme(command: str, capsys) -> None:
    readme = read(README)
    missing = sorted(f for f in flags_of(command, capsys) if f"`{f}" not in readme)
    assert not missing, (command, missing)


# -- the JSON reference (docs/json.md) ----------------------------------------------------


@pytest.fixture(scope="module")
def demo_server() -> Iterator[DnsServer]:
    with DnsServer(demo_records()) as server:
        yield server


def keys(value: object, parent: str = "") -> Iterator[str]:
    """Every key in a JSON document, but not those that are data: selector names, tags."""
    if isinstance(value, dict):
        for key, item in value.items():
            if parent not in ("selectors", "tags"):
                yield key
            yield from keys(item, key)
    elif isinstance(value, list):
        for item in value:
            yield from keys(item, parent)


def test_the_json_page_names_every_key_of_the_real_output(demo_server, tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[settings]\ntimeout = 2.0\nretries = 1\nnameservers = ["{demo_server.address}"]\n'
        f"history = false\nport = {demo_server.port}\n"
        '[relay]\nmx = ["*.esm-relay.example"]\nspf_include = ["_spf.esm-relay.example"]\n'
        'spf_ips = ["192.0.2.25"]\ndkim_selectors = ["esm"]\n',
        encoding="utf-8",
    )
    env = {**os.environ, "HOME": str(tmp_path)}
    run = [sys.executable, "-m", "esm_tui", "check", "--config", str(config), "--json"]
    out = subprocess.run(
        [*run, "--propagation", *DEMO_DOMAINS], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 2, out.stderr  # broken.example fails
    found = set(keys(json.loads(out.stdout)))
    assert {"propagation", "tree", "relay", "selectors", "hosts", "policy_tag"} <= found
    page = read(DOCS / "json.md")
    missing = sorted(k for k in found if f"`{k}`" not in page)
    assert not missing


# -- links and paths (every page) ---------------------------------------------------------


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", read(path), flags=re.DOTALL)
    found: set[str] = set()
    for heading in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE):
        name, n = slug(heading), 1
        while name in found:  # a repeated heading gets -1, -2, ...
            name, n = f"{slug(heading)}-{n}", n + 1
        found.add(name)
    return found


def links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", read(path), flags=re.DOTALL)
    return [t for t in re.findall(r"\]\(([^)\s]+)\)", text) if "://" not in t]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_link_leads_somewhere(page: Path) -> None:
    for target in links(page):
        file_part, _, anchor = target.partition("#")
        dest = (page.parent / file_part).resolve() if file_part else page
        assert dest.exists(), (page.name, target)
        if anchor:
            assert anchor in anchors(dest), (page.name, target, sorted(anchors(dest)))


def test_the_pages_link_each_other_and_the_readme() -> None:
    readme_links = {(ROOT / t.partition("#")[0]).resolve() for t in links(README)}
    for page in sorted(DOCS.glob("*.md")):
        assert page.resolve() in readme_links or page.name == "README.md", page.name
        targets = {(page.parent / t.partition("#")[0]).resolve() for t in links(page)}
        assert README.resolve() in targets, f"{page.name} does not link the README"
        assert (DOCS / "README.md").resolve() in targets or page.name == "README.md", page.name
    index = {(DOCS / t.partition("#")[0]).resolve() for t in links(DOCS / "README.md")}
    assert {p.resolve() for p in DOCS.glob("*.md")} - {(DOCS / "README.md").resolve()} <= index


_PATH = re.compile(r"`((?:[\w.-]+/)*[\w.-]+\.py|(?:esm_tui|tests|benchmarks|scripts)/[\w./-]*)"
                   r"(?:::(\w+))?(?:\(\))?`|`::(\w+)`")  # fmt: skip


def repo_files() -> list[str]:
    """Every file of the tree (not the venv, caches or other hidden directories)."""
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
        found += [(Path(folder) / f).relative_to(ROOT).as_posix() for f in files]
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_file_and_test_a_page_names_exists(page: Path) -> None:
    """`esm_tui/text.py::display_safe()`, `tests/test_x.py::test_y`, `::test_z` (same file),
    `spf/evaluate.py` (a unique tail of a path): a file moved or a test renamed fails here."""
    files = repo_files()
    last: Path | None = None
    for match in _PATH.finditer(read(page)):
        path, name, same_file_name = match.groups()
        if same_file_name:
            assert last is not None, same_file_name
            assert re.search(rf"\bdef {same_file_name}\b", read(last)), (last, same_file_name)
            continue
        if path.startswith(("esm_tui/", "tests/", "benchmarks/", "scripts/")):
            assert (ROOT / path).exists(), (page.name, path)
            target = ROOT / path
        else:  # a bare module name: the tail of exactly one file's path
            matches = [f for f in files if f == path or f.endswith(f"/{path}")]
            assert len(matches) == 1, (page.name, path, matches)
            target = ROOT / matches[0]
        if target.suffix == ".py":
            last = target
            if name:
                assert re.search(rf"\b(def|class) {name}\b", read(target)), (page.name, path, name)
