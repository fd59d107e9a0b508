"""A progress line for long commands: drawn on a terminal's standard error, silent otherwise
(piped, redirected, or under a scheduler), so scripts see only the output they asked for."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class Progress:
    def __init__(
        self, total: int, label: str, stream: TextIO | None = None, enabled: bool | None = None
    ) -> None:
        self.total = max(total, 0)
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.done = 0
        self._drawn = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self._drawn >= 0.1 or self.done >= self.total):
            self._drawn = now
            self._draw()

    def _draw(self) -> None:
        share = self.done / self.total if self.total else 1.0
        bar = "#" * int(WIDTH * min(share, 1.0))
        self.stream.write(f"\r[{bar:<{WIDTH}}] {self.done}/{self.total} {self.label} ({share:.0%})")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.done:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
