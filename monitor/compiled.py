"""The configuration with its rules compiled: what every command that matches text needs."""

from __future__ import annotations

from pathlib import Path

from monitor import config as configmod
from monitor.errors import ConfigError
from monitor.match.engine import Engine, RuleError, compile_rules


def load_checked(path: str | Path) -> tuple[configmod.LoadedConfig, Engine]:
    """Load the configuration and compile its rules; ConfigError lists every problem."""
    loaded = configmod.load(path)
    try:
        engine = compile_rules(loaded.settings)
    except RuleError as e:
        raise ConfigError(
            configmod.sort_problems([loaded.problem(loc, msg) for loc, msg in e.problems])
        ) from e
    return loaded, engine
