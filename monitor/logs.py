"""Logging: one event per line, a stable message plus key=value fields (or JSON).

Use ``event(log, level, "poll ok", source=..., new=3)``. Never pass a secret or a body.

The log cannot fill the disk: a warning or error repeated word for word (same message, same
fields) within a minute is written once; the repeats are counted and said in one line when
the minute is over ("… 312 more times in the last minute"), by the next identical line or by
``flush_repeats`` (the daemon calls it every minute, and when it stops).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any


def event(log: logging.Logger, level: int, message: str, **fields: Any) -> None:
    log.log(level, message, extra={"fields": fields})


def _quote(value: Any) -> str:
    s = str(value)
    if s == "" or any(c.isspace() or c in '"=' for c in s):
        return json.dumps(s, ensure_ascii=False)
    return s


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        fields: dict[str, Any] = getattr(record, "fields", {}) or {}
        parts = [ts, record.levelname.lower(), _quote(record.getMessage())]
        parts += [f"{k}={_quote(v)}" for k, v in fields.items()]
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "msg": record.getMessage(),
            "logger": record.name,
        }
        data.update(getattr(record, "fields", {}) or {})
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


#: repeats of a line within this many seconds are counted, not written
REPEAT_WINDOW = 60.0


class Repeats(logging.Filter):
    """Warnings and errors repeated word for word within ``REPEAT_WINDOW``: the first is
    written, the others counted and summarised in one line."""

    def __init__(self) -> None:
        super().__init__()
        #: line → [when its window began (monotonic), repeats since, level, logger, fields]
        self._seen: dict[tuple[str, int, str, str], list[Any]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or getattr(record, "summary", False):
            return True
        fields = getattr(record, "fields", None) or {}
        key = (record.name, record.levelno, record.getMessage(), json.dumps(fields, default=str))
        now = time.monotonic()
        with self._lock:
            seen = self._seen.get(key)
            if seen is not None and now - seen[0] < REPEAT_WINDOW:
                seen[1] += 1
                return False
            if seen is not None and seen[1]:
                record.fields = {**fields, "repeated": f"{seen[1]} more times before this"}
            self._seen[key] = [now, 0, fields]
        return True

    def flush(self) -> None:
        """Say the repeats of every line whose minute is over; forget lines long quiet."""
        now = time.monotonic()
        due = []
        with self._lock:
            for key, seen in list(self._seen.items()):
                if now - seen[0] < REPEAT_WINDOW:
                    continue
                del self._seen[key]
                if seen[1]:
                    due.append((key, seen[1], seen[2]))
        for (name, level, message, _), count, fields in due:
            logging.getLogger(name).log(
                level,
                f"{message} ({count} more times in the last minute)",
                extra={"fields": fields, "summary": True},
            )


_repeats = Repeats()


def flush_repeats() -> None:
    """Say the repeats counted (the daemon calls this every minute)."""
    _repeats.flush()


def setup(level: str = "info", fmt: str = "text") -> None:
    global _repeats
    _repeats = Repeats()  # a new process's log (or a new command's, in tests)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler", "aiosqlite", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if root.level > logging.DEBUG:
        handler.addFilter(_ours)
    handler.addFilter(_repeats)  # last: only lines that would be written are counted


def _ours(record: logging.LogRecord) -> bool:
    """Below debug, the libraries' own chatter stays out ("parsed tree length: 0", "Notifying
    1 service(s)."): monitor's events, asyncio's slow-callback reports, and errors pass."""
    return (
        record.name.startswith("monitor")
        or record.name == "asyncio"
        or record.levelno >= logging.ERROR
    )
