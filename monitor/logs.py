"""Logging: one event per line, a stable message plus key=value fields (or JSON).

Use ``event(log, level, "poll ok", source=..., new=3)``. Never pass a secret or a body.
"""

from __future__ import annotations

import json
import logging
import sys
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


def setup(level: str = "info", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler", "aiosqlite", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if root.level > logging.DEBUG:
        handler.addFilter(_ours)


def _ours(record: logging.LogRecord) -> bool:
    """Below debug, the libraries' own chatter stays out ("parsed tree length: 0", "Notifying
    1 service(s)."): monitor's events, asyncio's slow-callback reports, and errors pass."""
    return (
        record.name.startswith("monitor")
        or record.name == "asyncio"
        or record.levelno >= logging.ERROR
    )
