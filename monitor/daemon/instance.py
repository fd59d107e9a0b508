"""One daemon per database: a lock that the system releases when the process ends, however it
ends (a SIGKILL leaves no stale lock), and that names its holder.

- SQLite: an advisory ``flock`` on ``<database>.lock``; the holder is written into the file.
- PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) held by a connection of its
  own; the holder is a row of ``monitor_instance``. Until polling is leased source by source
  across nodes, one daemon per PostgreSQL database too.

``monitor once`` beside a running daemon polls and stores (inserts are idempotent) and leaves
delivery to the daemon, so that no alert goes out from two processes.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.errors import MonitorError

#: the advisory lock's key in PostgreSQL (any 64-bit number no other program of the database
#: uses: "monitor" in ASCII)
PG_LOCK_KEY = 0x6D6F6E69746F72


class AlreadyRunning(MonitorError):
    """Another process holds the database's instance lock; ``holder`` says who."""

    def __init__(self, message: str, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


@dataclass
class InstanceLock:
    """A held lock; ``release`` gives it back (so does the end of the process)."""

    where: str
    _fd: int = -1
    _conn: Any = field(default=None, repr=False)

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
            return await cls._postgres(storage_url, record)
        path = cls.lock_path(storage_url)
        if path is None:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise _taken(_read_file(path), str(path.with_suffix(""))) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        return cls(str(path), _fd=fd)

    @classmethod
    async def _postgres(cls, url: str, record: dict[str, object]) -> InstanceLock:
        from monitor.store.postgres import connect, where

        conn = await connect(url)  # a StorageError that names host and database when it fails
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS monitor_instance (id INTEGER PRIMARY KEY, holder TEXT)"
            )
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", PG_LOCK_KEY):
                raw = await conn.fetchval("SELECT holder FROM monitor_instance WHERE id = 1")
                raise _taken(_parsed(raw), where(url))
            await conn.execute(
                """INSERT INTO monitor_instance (id, holder) VALUES (1, $1)
                   ON CONFLICT (id) DO UPDATE SET holder = excluded.holder""",
                json.dumps(record),
            )
        except BaseException:
            await conn.close()
            raise
        return cls(where(url), _conn=conn)

    async def release(self) -> None:
        if self._fd >= 0:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing releases the lock
            self._fd = -1
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()  # the session ends: its advisory lock with it


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
