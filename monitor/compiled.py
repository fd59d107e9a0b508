"""The configuration with its rules compiled: what every command that matches text needs.

The compiled rules are kept beside the database (``match.cache``): a command that starts on
rules it has compiled before unpickles them instead of compiling again (a SQLite database:
next to its file; PostgreSQL: in the user's cache folder; an in-memory database: nowhere).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from monitor import config as configmod
from monitor.errors import ConfigError

if TYPE_CHECKING:
    from monitor.match.engine import Engine
    from monitor.match.ruleset import RuleSet


def load_config(path: str | Path, delivering: bool = True) -> configmod.LoadedConfig:
    """The configuration alone, for a command that matches no text (its rules are checked by
    ``check`` and by the commands that use them)."""
    return configmod.load(path, delivering=delivering)


def load_checked(
    path: str | Path, delivering: bool = True
) -> tuple[configmod.LoadedConfig, Engine]:
    """Load the configuration and its compiled rules; ConfigError lists every problem.
    ``delivering=False``: for a command that sends nothing (``configmod.load``)."""
    loaded = configmod.load(path, delivering=delivering)
    return loaded, compiled_rules(loaded)


def load_rules(path: str | Path, delivering: bool = True) -> tuple[configmod.LoadedConfig, RuleSet]:
    """Load the configuration and its rules for a pass: compiled now when no compilation of
    them is kept (which checks them: ConfigError lists every problem), else loaded from it
    only when text is to be read (``match.ruleset``)."""
    from monitor.match import cache
    from monitor.match.ruleset import RuleSet

    loaded = configmod.load(path, delivering=delivering)
    where, key = _kept_at(loaded)
    if where is None:
        return loaded, RuleSet(loaded.settings, _compiled(loaded, None, key))
    if cache.holds(where, key):
        return loaded, RuleSet(loaded.settings, kept=(where, key))
    return loaded, RuleSet(loaded.settings, _compiled(loaded, where, key), (where, key))


def compiled_rules(loaded: configmod.LoadedConfig) -> Engine:
    """The rules of ``loaded`` compiled, from the cache when it holds these very rules."""
    from monitor.match import cache

    where, key = _kept_at(loaded)
    if where is not None and (engine := cache.load(where, key)) is not None:
        return engine
    return _compiled(loaded, where, key)


def _kept_at(loaded: configmod.LoadedConfig) -> tuple[Path | None, str]:
    """Where these rules' compilation is kept, and its key ("" where none is kept)."""
    from monitor.match import cache

    where = cache_path(loaded)
    return where, cache.key_of(loaded.settings) if where is not None else ""


def _compiled(loaded: configmod.LoadedConfig, where: Path | None, key: str) -> Engine:
    """The rules compiled now, and kept at ``where`` (when there is a where)."""
    from monitor.match import cache

    engine = _compile(loaded)
    if where is not None:
        cache.save(where, key, engine)
    return engine


def _compile(loaded: configmod.LoadedConfig) -> Engine:
    from monitor.match.compiler import compile_rules
    from monitor.match.rules import RuleError

    try:
        return compile_rules(loaded.settings)
    except RuleError as e:
        raise ConfigError(
            configmod.sort_problems([loaded.problem(loc, msg) for loc, msg in e.problems])
        ) from e


def cache_path(loaded: configmod.LoadedConfig) -> Path | None:
    """Where the compiled rules of this configuration are kept (None: not kept)."""
    url = loaded.settings.storage.url
    if url.startswith("sqlite:///"):
        database = url[len("sqlite:///") :]
        if database in ("", ":memory:"):
            return None
        return Path(database + ".rules")  # kept once the database's folder exists
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    config = hashlib.sha256(str(loaded.path.resolve()).encode()).hexdigest()[:16]
    folder = Path(home) / "monitor"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder / f"rules-{config}"
