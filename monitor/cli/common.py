"""What every command shares: exit codes, and how times are written."""

from __future__ import annotations

from typing import Any

EXIT_OK, EXIT_PROBLEMS, EXIT_CONFIG, EXIT_STORAGE = 0, 1, 2, 3


def iso(dt: Any) -> str | None:
    return dt.isoformat() if dt is not None else None


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 poll``, ``2 polls``; ``words`` when the plural is not ``word + "s"``."""
    return f"{n} {word if n == 1 else (words or word + 's')}"
