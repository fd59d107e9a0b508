"""What the console reads and writes through: one record, made by whoever serves it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.match.engine import Engine
    from monitor.settings import Settings
    from monitor.store import Store


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Desk:
    """What the console reads and writes: the store, the configuration and rules now (the
    daemon's change with a reload), and the clock."""

    store: Store
    settings: Callable[[], Settings]
    engine: Callable[[], Engine | None]
    now: Callable[[], datetime] = _utcnow
    #: the rules' last score on the verdicts: (the engine, how many, the newest's time) → it
    scored: dict[tuple[int, int, Any], dict[str, Any]] = field(default_factory=dict)
