"""One exception hierarchy for the whole package.

    MonitorError
     ├── ConfigError      the configuration cannot be used (file, key path, line, what is wrong)
     ├── FetchError       a source could not be fetched (expected, per source; a short reason)
     ├── ParseError       a fetched document could not be read as a feed or page
     ├── StorageError     the database cannot be opened, migrated or written
     └── DeliveryError    a channel could not deliver an alert

"Not modified" is not an error: it is a normal fetch result (see models.FetchResult).
Expected failures are values or these exceptions, converted at the edge with ``raise ... from``;
anything else is a bug and is allowed to be loud.
"""

from __future__ import annotations

from dataclasses import dataclass


class MonitorError(Exception):
    """Base of every error this package raises on purpose."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with a configuration file."""

    #: the configuration file
    file: str
    #: dotted key path, e.g. ``rules[0].channels[1]`` ("" for the whole file)
    path: str
    #: what is wrong and what is expected
    message: str
    #: 1-based line in the file, where known
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(MonitorError):
    """The configuration is unusable; ``problems`` lists every problem found at once."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class FetchError(MonitorError):
    """A source could not be fetched; ``reason`` is short and stable (``timeout``, ``http 503``)."""

    def __init__(self, reason: str, detail: str = "", retry_after: float | None = None) -> None:
        self.reason = reason
        self.detail = detail
        #: seconds the server asked us to wait (429/503 Retry-After), if any
        self.retry_after = retry_after
        super().__init__(f"{reason}: {detail}" if detail else reason)


class ParseError(MonitorError):
    """A document could not be parsed."""


class StorageError(MonitorError):
    """The database could not be opened, migrated or written."""


class DeliveryError(MonitorError):
    """A channel could not deliver an alert."""
