"""The configuration with its rules compiled: what every command that matches text needs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from monitor import config as configmod
from monitor.errors import ConfigError

if TYPE_CHECKING:
    from monitor.match.engine import Engine


def load_config(path: str | Path, delivering: bool = True) -> configmod.LoadedConfig:
    """The configuration alone, for a command that matches no text (its rules are checked by
    ``check`` and by the commands that use them)."""
    return configmod.load(path, delivering=delivering)


def load_checked(
    path: str | Path, delivering: bool = True
) -> tuple[configmod.LoadedConfig, Engine]:
    """Load the configuration and compile its rules; ConfigError lists every problem.
    ``delivering=False``: for a command that sends nothing (``configmod.load``)."""
    from monitor.match.compiler import compile_rules
    from monitor.match.rules import RuleError

    loaded = configmod.load(path, delivering=delivering)
    try:
        engine = compile_rules(loaded.settings)
    except RuleError as e:
        raise ConfigError(
            configmod.sort_problems([loaded.problem(loc, msg) for loc, msg in e.problems])
        ) from e
    return loaded, engine
