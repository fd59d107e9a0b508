"""SQLite storage through aiosqlite: WAL mode, migrations at open, one transaction per batch.

The SQL of each domain is in ``store.sql`` (sources, articles, plans, outbox), shared with the
PostgreSQL store; here is what is SQLite's own: opening the file, its pragmas, migrations
(``store.migrations``), compaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite

from monitor.errors import StorageError, StorageUnavailable
from monitor.logs import event
from monitor.store.migrations import MIGRATIONS
from monitor.store.sql.base import Connection
from monitor.store.sql.store import SQLStore
from monitor.store.sqlite.faults import GuardedConnection, fault

__all__ = ["SQLiteStore", "sqlite_path"]

log = logging.getLogger("monitor.store")


def sqlite_path(url: str) -> str:
    """``sqlite:///data/x.db`` → ``data/x.db``; ``sqlite:////abs/x.db`` → ``/abs/x.db``."""
    if not url.startswith("sqlite:///"):
        raise StorageError(f"not a SQLite URL: {url!r} (expected sqlite:///path/to/file.db)")
    return url[len("sqlite:///") :]


class SQLiteStore(SQLStore):
    """The default store. Open with ``await SQLiteStore.open(url)``. The domains' SQL runs on
    the connection guarded against the machine's faults (``faults``); opening, migrating
    and compacting, SQLite's own business, on the plain one (``_raw``)."""

    _raw: aiosqlite.Connection
    #: (device, inode) of the file open (None: in memory)
    _file: tuple[int, int] | None = None

    @classmethod
    async def open(cls, url: str, pool_size: int = 1) -> SQLiteStore:
        """``pool_size`` is a server database's: a SQLite file has one connection."""
        path = sqlite_path(url)
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            db = await aiosqlite.connect(path, isolation_level=None)
        except (sqlite3.Error, OSError) as e:
            raise StorageError(f"cannot open database {path}: {_why(Path(path), e)}") from e
        store = cls(GuardedConnection(db, path), path)
        await store._begin(db)
        return store

    async def _begin(self, db: aiosqlite.Connection) -> None:
        """Use ``db``, just opened on the file: its settings, the schema brought up to date,
        and which file it is (``_same_file``)."""
        self._raw = db
        self._guarded.use(db)
        try:
            db.row_factory = aiosqlite.Row
            await db.execute("PRAGMA busy_timeout = 10000")
            if self.path != ":memory:":
                await _wal(db)
            await db.execute("PRAGMA synchronous = NORMAL")
            await db.execute("PRAGMA foreign_keys = ON")
            await self._migrate()
            self._file = _identity(self.path)
        except BaseException as e:
            await db.close()  # never leave the connection's thread behind
            if isinstance(e, sqlite3.Error):
                why = StorageError(f"cannot open database {self.path!r}: {e}")
                raise fault(e, self.path) or why from e
            raise

    @property
    def _guarded(self) -> GuardedConnection:
        assert isinstance(self._db, GuardedConnection)
        return self._db

    @contextlib.asynccontextmanager
    async def _writer(self) -> AsyncIterator[Connection]:
        await self._same_file()
        yield self._db

    async def _same_file(self) -> None:
        """Is the file at the path still the one open? A file removed or moved under the
        daemon (a backup script, an operator) takes no more writes that nobody would find:
        they pause, said once, until a file is back at the path; a file put there (restored,
        replaced) is opened in its place, and work resumes on it."""
        if self._file is None:
            return
        try:
            now = _identity(self.path)
        except FileNotFoundError:
            raise StorageUnavailable(
                f"database file {self.path} was removed or moved: nothing is written until "
                f"a file is back at that path",
                headline=f"database file gone ({self.path})",
            ) from None
        except OSError:
            return
        if now != self._file:
            event(log, logging.WARNING, "database file replaced: opening it", path=self.path)
            # the old connection first: its log is checkpointed into the old file and
            # removed, never replayed into the new one
            await self._raw.close()
            self._source_ids.clear()
            try:
                db = await aiosqlite.connect(self.path, isolation_level=None)
            except (sqlite3.Error, OSError) as e:
                raise fault(e, self.path) or StorageError(
                    f"cannot open database {self.path}: {e}"
                ) from e
            await self._begin(db)

    async def _migrate(self) -> None:
        async with self._raw.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        version = int(row[0]) if row else 0
        if version > len(MIGRATIONS):
            raise StorageError(
                f"database {self.path!r} has schema version {version}, newer than this "
                f"monitor ({len(MIGRATIONS)}); upgrade monitor"
            )
        if version == len(MIGRATIONS):
            return
        # SQLite's way to change a table: foreign keys off (outside the transaction), rebuild,
        # check every reference before committing, foreign keys on again
        await self._raw.execute("PRAGMA foreign_keys = OFF")
        try:
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                await self._raw.execute("BEGIN IMMEDIATE")
                try:
                    # another process may have migrated since the version was read (two
                    # starting together): the writer's lock makes this reading the truth
                    if await self.schema_version() >= number:
                        await self._raw.execute("ROLLBACK")
                        continue
                    for statement in _statements(script):  # not executescript: it commits
                        await self._raw.execute(statement)
                    async with self._raw.execute("PRAGMA foreign_key_check") as cur:
                        broken = await cur.fetchall()
                    if broken:
                        raise StorageError(
                            f"migration {number} broke references: {list(broken)[:3]}"
                        )
                    await self._raw.execute(f"PRAGMA user_version = {number}")
                    await self._raw.execute("COMMIT")
                except BaseException:
                    if self._raw.in_transaction:
                        await self._raw.execute("ROLLBACK")
                    raise
        finally:
            await self._raw.execute("PRAGMA foreign_keys = ON")

    async def schema_version(self) -> int:
        async with self._raw.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def compact(self) -> None:
        async with self._write_lock:
            try:
                async with self._raw.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur:
                    await cur.fetchall()
                await self._raw.execute("VACUUM")
            except sqlite3.Error as e:  # a reader busy on the connection: try again later
                raise StorageError(f"compaction postponed: {e}") from e

    async def check_writable(self) -> str | None:
        """None when the database takes writes; else why not (for /healthz)."""
        if self.path != ":memory:":
            try:
                mode = (await asyncio.to_thread(os.stat, self.path)).st_mode
            except OSError as e:
                return f"database file {self.path}: {e.strerror or e}"
            if not mode & 0o222:
                return f"database file {self.path} is read-only"
        try:
            async with self._write_lock:
                await self._raw.execute("BEGIN IMMEDIATE")
                await self._raw.execute("ROLLBACK")
        except sqlite3.Error as e:
            return f"database not writable: {e}"
        return None


async def _wal(db: aiosqlite.Connection) -> None:
    """WAL mode. Switching a new file to it needs the file to itself, and SQLite answers
    "database is locked" at once (no busy wait) while another process migrates it (two
    starting together): try again for a while."""
    for attempt in range(100):
        try:
            await db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or attempt == 99:
                raise
            await asyncio.sleep(0.1)


def _identity(path: str) -> tuple[int, int] | None:
    if path == ":memory:":
        return None
    st = os.stat(path)
    return (st.st_dev, st.st_ino)


def _statements(script: str) -> list[str]:
    """The SQL statements of a migration script, one by one."""
    out, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    if current.strip():
        out.append(current.strip())
    return [stmt for stmt in out if stmt.rstrip(";").strip()]


def nearest_folder(path: Path) -> Path:
    """The nearest existing path above a database file still to be created: the folder it
    will be created in, unless that is a file (``storage.url`` under a file)."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _why(path: Path, e: BaseException) -> str:
    """An open that failed, in words: a file where a folder must be, a folder not writable."""
    folder = nearest_folder(path)
    if folder.exists() and not folder.is_dir():
        return f"{folder} is a file, not a folder (check storage.url)"
    if isinstance(e, PermissionError) or (folder.is_dir() and not os.access(folder, os.W_OK)):
        return f"{folder} is not writable by this user"
    return getattr(e, "strerror", None) or str(e)
