"""One daemon per SQLite database: an advisory ``flock`` on ``<database>.lock`` that the
system releases when the process ends, however it ends (a SIGKILL leaves no stale lock); the
holder writes who it is into the file, so that a second ``monitor run`` can name it.

A server database (PostgreSQL) takes no such lock: several daemons share it, and each source
and each delivery is claimed by one of them at a time (``Store.claim_sources``,
``Store.claim_as``).

``monitor once`` beside a running daemon polls and stores (inserts are idempotent) and leaves
delivery to the daemon, so that no alert goes out from two processes.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from monitor.errors import StartRefused, StorageError, StorageFull


class AlreadyRunning(StartRefused):
    """Another process holds the database's instance lock; ``holder`` says who."""

    def __init__(self, message: str, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


@dataclass
class InstanceLock:
    """A held lock; ``release`` gives it back (so does the end of the process)."""

    where: str
    _fd: int = -1

    @staticmethod
    def lock_path(storage_url: str) -> Path | None:
        """``<database>.lock`` for a SQLite file; None where no file lock applies."""
        if not storage_url.startswith("sqlite:///"):
            return None
        db = storage_url[len("sqlite:///") :]
        return None if db == ":memory:" else Path(db + ".lock")

    @classmethod
    async def acquire(cls, storage_url: str, role: str, **about: object) -> InstanceLock | None:
        """Take the lock, recording who holds it (``role``: run or once; ``about``: what
        helps find it, such as the endpoint); raise ``AlreadyRunning`` naming the holder.
        None: a database that takes no lock (in memory)."""
        record = {
            "role": role,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            **{k: v for k, v in about.items() if v is not None},
        }
        if storage_url.startswith(("postgresql://", "postgres://")):
            return None  # several daemons share a server database: sources and deliveries
            # are claimed one by one (``Store.claim_sources``, ``claim_as``)
        path = cls.lock_path(storage_url)
        if path is None:
            return None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            if e.errno == errno.ENOSPC:
                raise StorageFull.at(str(path.with_suffix("")), e) from e
            raise StorageError(f"cannot create the lock file {path}: {e.strerror or e}") from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise _taken(_read_file(path), str(path.with_suffix(""))) from None
        with contextlib.suppress(OSError):  # who holds it, for messages (a full disk: unsaid)
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(record).encode(), 0)
        return cls(str(path), _fd=fd)

    async def release(self) -> None:
        if self._fd >= 0:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing releases the lock
            self._fd = -1


def _taken(who: dict[str, object], database: str) -> AlreadyRunning:
    holder = describe(who)
    return AlreadyRunning(
        f"{holder} is already using {database}; stop it first (one daemon per database; "
        "`monitor once` may run beside it)",
        holder,
    )


def _read_file(path: Path) -> dict[str, object]:
    try:
        return _parsed(path.read_text(encoding="utf-8"))
    except OSError:
        return {}


def _parsed(raw: str | None) -> dict[str, object]:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def describe(who: dict[str, object]) -> str:
    """``monitor run (pid 4121 on desk-1, since 2026-11-30 09:57 UTC, endpoint
    127.0.0.1:9108, config /srv/desk/monitor.yaml)``."""
    if not who:
        return "another monitor process"
    pid = f"pid {who.get('pid', '?')}" + (f" on {who['host']}" if who.get("host") else "")
    details = [pid, f"since {who.get('started', '?')}"]
    if who.get("listen"):
        details.append(f"endpoint {who['listen']}")
    if who.get("config"):
        details.append(f"config {who['config']}")
    return f"monitor {who.get('role', 'run')} ({', '.join(details)})"
