"""One daemon per SQLite database: an advisory lock on ``<database>.lock``.

The kernel releases the lock when the process ends, however it ends (a SIGKILL leaves no stale
lock). The holder writes who it is into the file, so a second ``monitor run`` can name it.
``monitor once`` beside a running daemon polls and stores (inserts are idempotent) and leaves
delivery to the daemon, so no alert goes out twice. A server database (several daemons by
design) takes no lock.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from monitor.errors import MonitorError


class AlreadyRunning(MonitorError):
    """Another process holds the database's instance lock."""


@dataclass
class InstanceLock:
    path: Path
    _fd: int

    @staticmethod
    def lock_path(storage_url: str) -> Path | None:
        """``<database>.lock`` for a SQLite file; None where no lock applies."""
        if not storage_url.startswith("sqlite:///"):
            return None
        db = storage_url[len("sqlite:///") :]
        return None if db == ":memory:" else Path(db + ".lock")

    @classmethod
    def acquire(cls, storage_url: str, role: str, **about: object) -> InstanceLock | None:
        """Take the lock, writing who holds it (``role``: run or once; ``about``: what helps a
        reader find it, such as the endpoint); raise ``AlreadyRunning`` naming the holder."""
        path = cls.lock_path(storage_url)
        if path is None:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunning(
                f"{describe(holder(path))} is already using {path.with_suffix('')}; "
                "stop it first (one daemon per SQLite database; `monitor once` may run beside it)"
            ) from None
        record = {
            "role": role,
            "pid": os.getpid(),
            "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            **{k: v for k, v in about.items() if v is not None},
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        return cls(path, fd)

    def release(self) -> None:
        if self._fd >= 0:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing releases the lock
            self._fd = -1


def holder(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def describe(who: dict[str, object]) -> str:
    """``monitor run (pid 4121, since 2026-11-30 09:57 UTC, endpoint 127.0.0.1:9108,
    config /srv/desk/monitor.yaml)``."""
    if not who:
        return "another monitor process"
    details = [f"pid {who.get('pid', '?')}", f"since {who.get('started', '?')}"]
    if who.get("listen"):
        details.append(f"endpoint {who['listen']}")
    if who.get("config"):
        details.append(f"config {who['config']}")
    return f"monitor {who.get('role', 'run')} ({', '.join(details)})"
