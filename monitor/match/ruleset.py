"""A configuration's rules for a pass: what it asks of them without reading any text, and the
engine when there is text to read, loaded only then.

A pass over feeds that changed nothing reads no text: it needs to know which rules alert and
each rule's channels and digest period (all in the rules as configured), never the compiled
engine. So the engine is loaded when first asked for — from the kept compilation
(``match.cache``) whose key this configuration's rules have, in the process that asks (a worker
forked at start-up loads its own copy the first time it is given text) — or, where none is
kept, it was compiled already when the configuration was loaded (which is also when the rules
are checked: a kept compilation is one that compiled).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.match.engine import Engine


class RuleSet:
    """The rules of ``settings``; the engine given (compiled just now) or kept at ``kept``
    (the cache's file and key)."""

    def __init__(
        self, settings: Any, engine: Engine | None = None, kept: tuple[Path, str] | None = None
    ) -> None:
        if engine is None and kept is None:
            raise ValueError("a rule set needs its engine, or where it is kept")
        self._settings = settings
        self._engine = engine
        self._kept = kept
        self._lock = threading.Lock()
        self._channels = {r.name: tuple(r.channels) for r in settings.rules}

    @property
    def alerting(self) -> bool:
        """Does any rule send alerts (not only record them, as shadow rules do)?"""
        return any(r.mode == "live" for r in self._settings.rules)

    @property
    def digest_rules(self) -> dict[str, float]:
        """Rules whose alerts go out as periodic digests, with their periods in seconds."""
        return {r.name: float(r.digest) for r in self._settings.rules if r.digest}

    def channels_for(self, rule: str) -> tuple[str, ...]:
        """The channels a rule names (empty: every channel)."""
        return self._channels[rule]

    @property
    def loaded(self) -> bool:
        return self._engine is not None

    def engine(self) -> Engine:
        """The compiled engine, loaded on first use (from any thread)."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = self._load()
        return self._engine

    def _load(self) -> Engine:
        from monitor.match import cache

        assert self._kept is not None
        path, key = self._kept
        engine = cache.load(path, key)
        if engine is None:  # gone or spoiled since: compiled again, as it was before
            from monitor.match.compiler import compile_rules

            engine = compile_rules(self._settings)
            cache.save(path, key, engine)
        return engine

    def __getstate__(self) -> dict[str, Any]:
        """Pickled for a worker started afresh: without the lock (each process has its own)."""
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
