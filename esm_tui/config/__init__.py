"""The config file: what it holds, and how it is found, loaded, validated, edited and saved.

- model.py        `Config`, `Settings`, `Relay`, `DomainConfig`: frozen values
- load.py         the path ($ESM_TUI_CONFIG, `--config`, the user config dir) and loading
- validate.py     every key and value checked; errors name the key path, line and column
- names.py        domain names, DKIM selectors, MX patterns, networks: normalized or refused
- errors.py       `ConfigError` and the errors of single values
- edit.py         adding and removing a `[[domains]]` table, touching only its lines
- save.py         atomic writes with a `.bak`, refused if the file changed on disk
- toml_layout.py  where each key is in the TOML text (for messages and edits)
- starter.py      `config.example.toml`, written by `esm-tui init`

The names below are the config's interface; anything else is imported from its module.
"""

from esm_tui.config.edit import add_domain, remove_domain
from esm_tui.config.errors import ConfigChangedError, ConfigError, DomainNameError, SelectorError
from esm_tui.config.load import (
    ENV_VAR,
    default_config_path,
    load_config,
    parse_config,
    resolve_config_path,
)
from esm_tui.config.model import Config, DomainConfig, Relay, Settings
from esm_tui.config.names import normalize_domain, normalize_selector
from esm_tui.config.starter import example_config_text, write_starter_config

__all__ = [
    "ENV_VAR",
    "Config",
    "ConfigChangedError",
    "ConfigError",
    "DomainConfig",
    "DomainNameError",
    "Relay",
    "SelectorError",
    "Settings",
    "add_domain",
    "default_config_path",
    "example_config_text",
    "load_config",
    "normalize_domain",
    "normalize_selector",
    "parse_config",
    "remove_domain",
    "resolve_config_path",
    "write_starter_config",
]
