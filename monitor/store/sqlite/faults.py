"""The machine's faults under a SQLite file, named as such: a full disk, a file made read-only
or removed under the daemon, an I/O error, a writer that holds the file too long. Each becomes
``StorageUnavailable`` (waiting may cure it: the daemon pauses and tries again) with a
headline an operator acts on ("database disk full (/var/lib/monitor/monitor.db, 12 KB
free)"); anything else SQLite raises stays what it is (a bug is allowed to be loud).

``GuardedConnection`` gives the domains' SQL (``store.sql``) the connection they are written
against, with every statement's fault translated at this one edge.
"""

from __future__ import annotations

import contextlib
import errno
import sqlite3
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from monitor.errors import StorageFull, StorageUnavailable, free_bytes

if TYPE_CHECKING:
    import aiosqlite

# SQLite's primary result codes (an extended code keeps its primary in the low byte)
_BUSY, _LOCKED, _READONLY, _IOERR, _FULL, _CANTOPEN = 5, 6, 8, 10, 13, 14
#: an I/O error with less room than this left is a full disk (SQLite reports a failed write
#: of its log as an I/O error, not always as "full")
_LOW_ROOM = 256 * 1024


def fault(e: BaseException, path: str) -> StorageUnavailable | None:
    """The machine's fault behind ``e`` on the database at ``path``, or None (not one)."""
    if isinstance(e, OSError) and e.errno == errno.ENOSPC:
        return StorageFull.at(path, e)
    if not isinstance(e, sqlite3.OperationalError):
        return None
    code = getattr(e, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    room = free_bytes(path)
    if primary == _FULL or (primary == _IOERR and room is not None and room < _LOW_ROOM):
        return StorageFull.at(path, e)
    if primary == _READONLY:
        return StorageUnavailable(
            f"database read-only ({path}): {e}", headline=f"database read-only or moved ({path})"
        )
    if primary == _CANTOPEN:
        return StorageUnavailable(
            f"database cannot be opened ({path}): {e}", headline=f"database file gone ({path})"
        )
    if primary == _IOERR:
        return StorageUnavailable(
            f"database I/O error ({path}): {e}", headline=f"database I/O error ({path})"
        )
    if primary in (_BUSY, _LOCKED):
        return StorageUnavailable(f"database busy ({path}): {e}", headline="database busy")
    return None


@contextlib.contextmanager
def guarded(path: str) -> Iterator[None]:
    """Statements run inside it raise the machine's faults as ``StorageUnavailable``."""
    try:
        yield
    except (sqlite3.OperationalError, OSError) as e:
        translated = fault(e, path)
        if translated is None:
            raise
        raise translated from e


class GuardedConnection:
    """An aiosqlite connection whose faults come out as ``StorageUnavailable``."""

    def __init__(self, db: aiosqlite.Connection, path: str) -> None:
        self._db = db
        self.path = path

    def use(self, db: aiosqlite.Connection) -> None:
        """Go on with ``db`` (the file was replaced and opened again)."""
        self._db = db

    @property
    def in_transaction(self) -> bool:
        return bool(self._db.in_transaction)

    def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> _Execution:
        return _Execution(self, self._db.execute(sql, parameters))

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Any:
        with guarded(self.path):
            return await self._db.executemany(sql, parameters)

    async def execute_fetchall(self, sql: str, parameters: Iterable[Any] | None = None) -> Any:
        with guarded(self.path):
            return await self._db.execute_fetchall(sql, parameters)

    async def close(self) -> None:
        await self._db.close()


class _Execution:
    """``await db.execute(...)`` and ``async with db.execute(...) as cur``, as aiosqlite's."""

    def __init__(self, conn: GuardedConnection, running: Any) -> None:
        self._conn = conn
        self._running = running
        self._cursor: aiosqlite.Cursor | None = None

    def __await__(self) -> Any:
        return self._run().__await__()

    async def _run(self) -> _Cursor:
        with guarded(self._conn.path):
            self._cursor = await self._running
        return _Cursor(self._cursor, self._conn.path)

    async def __aenter__(self) -> _Cursor:
        return await self._run()

    async def __aexit__(
        self, kind: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._cursor is not None:
            await self._cursor.close()


class _Cursor:
    def __init__(self, cursor: aiosqlite.Cursor, path: str) -> None:
        self._cursor = cursor
        self._path = path

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)

    async def fetchone(self) -> Any:
        with guarded(self._path):
            return await self._cursor.fetchone()

    async def fetchall(self) -> Any:
        with guarded(self._path):
            return await self._cursor.fetchall()
