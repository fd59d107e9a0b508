"""What every command shares: exit codes, and how times are written."""

from __future__ import annotations

from typing import Any

EXIT_OK, EXIT_PROBLEMS, EXIT_CONFIG, EXIT_STORAGE = 0, 1, 2, 3


def iso(dt: Any) -> str | None:
    return dt.isoformat() if dt is not None else None
