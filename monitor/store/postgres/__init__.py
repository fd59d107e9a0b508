"""PostgreSQL storage through asyncpg: ``storage.url: postgresql://user@host:5432/db``.

The domains' SQL is ``store.sql``'s, shared with SQLite (standard ``ON CONFLICT`` and
``RETURNING``; times as ISO 8601 UTC text, which sorts as time); ``_Connection`` gives asyncpg
the small interface that SQL is written against (``?`` placeholders become ``$n``). The schema
and its migrations are PostgreSQL's own (``store.postgres.schema``), with the version in a table
of its own. A password comes from the URL's ``${PGPASSWORD}``-style substitution or the
environment (``PGPASSWORD``), and is never logged: errors name the host and database only.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import functools
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from monitor.batching import Coalescer
from monitor.errors import StorageError, StorageFull, StorageUnavailable
from monitor.store.postgres.schema import MIGRATIONS
from monitor.store.sql.store import SQLStore

__all__ = ["PostgresStore"]

#: advisory lock keys (any numbers no other program on the database uses)
_MIGRATION_LOCK = 7270000

#: the spellings where SQLite and PostgreSQL differ, in the SQL the domains share
_SPELLINGS = (("BEGIN IMMEDIATE", "BEGIN"),)


@functools.lru_cache(maxsize=512)
def _translated(sql: str) -> str:
    """``?`` placeholders numbered ``$1 … $n`` (none stand inside the domains' string
    literals), and the few spellings where the two differ."""
    for sqlite, postgres in _SPELLINGS:
        sql = sql.replace(sqlite, postgres)
    # group_concat(x) and group_concat(x, 'sep'): string_agg always names its separator
    sql = re.sub(r"group_concat\(([^,()]+)\)", r"string_agg(\1, ',')", sql)
    sql = re.sub(r"group_concat\(", "string_agg(", sql)
    # SQLite's CROSS JOIN … ON fixes the join order (a planner hint): a plain join here
    sql = re.sub(r"CROSS JOIN (\w+(?: AS \w+)?) ON", r"JOIN \1 ON", sql)
    count = 0

    def number(_m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f"${count}"

    return re.sub(r"\?", number, sql)


def _returns_rows(sql: str) -> bool:
    head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    return head in ("SELECT", "WITH", "VALUES") or " RETURNING " in f" {sql.upper()} "


class _Cursor:
    def __init__(self, rows: list[asyncpg.Record], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    async def fetchone(self) -> asyncpg.Record | None:
        return self._rows[0] if self._rows else None

    async def fetchall(self) -> list[asyncpg.Record]:
        return self._rows


class _Execution:
    """``await db.execute(...)`` and ``async with db.execute(...) as cur``, as aiosqlite."""

    def __init__(self, run: Any) -> None:
        self._run = run

    def __await__(self) -> Any:
        return self._run.__await__()

    async def __aenter__(self) -> _Cursor:
        cursor: _Cursor = await self._run
        return cursor

    async def __aexit__(
        self, kind: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


class _Connection(abc.ABC):
    """asyncpg behind the interface the shared SQL is written against (``sql.base``): a
    transaction's connection (``_Session``), or the pool for statements outside one
    (``_Pool``). A connection the server dropped (a restart, a failover) is replaced at the
    next statement; until then statements fail with ``StorageUnavailable``, naming host and
    database, and the callers pause (nothing is lost: what was not written is polled or sent
    again)."""

    url: str

    @property
    def in_transaction(self) -> bool:
        return False

    @abc.abstractmethod
    def _held(self) -> contextlib.AbstractAsyncContextManager[asyncpg.Connection]:
        """The connection a statement runs on, held while it runs."""

    def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> _Execution:
        return _Execution(self._run(sql, tuple(parameters or ())))

    async def _run(self, sql: str, params: tuple[Any, ...]) -> _Cursor:
        query = _translated(sql)
        if _returns_rows(sql):
            rows = await self._call("fetch", query, *params)
            return _Cursor(list(rows), len(rows))
        status = await self._call("execute", query, *params)
        tail = status.rsplit(" ", 1)[-1]
        return _Cursor([], int(tail) if tail.isdigit() else 0)

    async def _call(self, method: str, *args: Any) -> Any:
        async with self._held() as conn:
            try:
                return await getattr(conn, method)(*args)
            except (
                asyncpg.PostgresConnectionError,
                asyncpg.InterfaceError,
                # a connection left mid-operation when the server ended it
                asyncpg.InternalClientError,
                OSError,
            ) as e:
                if not _closed(conn):
                    conn.terminate()
                raise StorageUnavailable(
                    f"database {where(self.url)} went away: {_reason(e)}"
                ) from e
            except asyncpg.PostgresError as e:
                if _closed(conn):  # an administrator's shutdown, a failover
                    raise StorageUnavailable(f"database {where(self.url)} went away: {e}") from e
                raise _resources(e, self.url) or StorageError(f"postgresql: {e}") from e

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> None:
        rows = [tuple(p) for p in parameters]
        if rows:
            await self._call("executemany", _translated(sql), rows)

    async def execute_fetchall(
        self, sql: str, parameters: Iterable[Any] | None = None
    ) -> list[asyncpg.Record]:
        cursor = await self._run(sql, tuple(parameters or ()))
        return await cursor.fetchall()

    async def fetchval(self, sql: str, *params: Any) -> Any:
        return await self._call("fetchval", sql, *params)


def _resources(e: asyncpg.PostgresError, url: str) -> StorageUnavailable | None:
    """The server out of room ("could not extend file": class 53, insufficient resources) or
    read-only (a standby after a failover): waiting may cure it, as for a server away."""
    state = str(getattr(e, "sqlstate", "") or "")
    if state == "53100":
        headline = f"database disk full (server {where(url)})"
        return StorageFull(f"{headline}: {e}", headline=headline)
    if state.startswith("53") or state == "25006":
        return StorageUnavailable(f"database {where(url)} cannot write now: {e}")
    if state in ("40P01", "40001"):  # a deadlock, a serialisation failure: try again
        return StorageUnavailable(f"database {where(url)} busy: {e}", headline="database busy")
    return None


class _Session(_Connection):
    """One connection, its statements in the order asked: a transaction's."""

    def __init__(self, conn: asyncpg.Connection, url: str) -> None:
        self.conn = conn
        self.url = url
        self.turn = asyncio.Lock()

    @property
    def in_transaction(self) -> bool:
        return bool(self.conn.is_in_transaction())

    @contextlib.asynccontextmanager
    async def _held(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.turn:
            yield self.conn

    async def close(self) -> None:
        """Nothing: a transaction's connection goes back to the pool (``_writer``)."""


class _Pool(_Connection):
    """Statements outside a transaction, each on a connection of the pool (reads do not wait
    behind a write)."""

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self.pool = pool
        self.url = url

    @contextlib.asynccontextmanager
    async def _held(self) -> AsyncIterator[asyncpg.Connection]:
        async with _acquired(self.pool, self.url) as conn:
            yield conn

    async def close(self) -> None:
        await self.pool.close()


def _closed(conn: asyncpg.Connection) -> bool:
    """Is the connection gone? A pool's connection that was lost is also handed back to its
    pool, after which every call on it (``is_closed`` too) raises ``InterfaceError``: a
    transaction's ROLLBACK after the server went away met that, and the error escaped."""
    try:
        return bool(conn.is_closed())
    except asyncpg.InterfaceError:
        return True


@contextlib.asynccontextmanager
async def _acquired(pool: asyncpg.Pool, url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of the pool; ``StorageUnavailable`` while the server cannot be reached."""
    try:
        conn = await pool.acquire(timeout=10)
    except (
        OSError,
        TimeoutError,
        asyncpg.CannotConnectNowError,
        asyncpg.InterfaceError,
        # the pool resets a connection it hands out: one the server just ended fails there
        asyncpg.PostgresConnectionError,
        asyncpg.InternalClientError,
    ) as e:
        raise StorageUnavailable(f"cannot reach database {where(url)}: {_reason(e)}") from e
    try:
        yield conn
    finally:
        # the pool resets a connection handed back; one the server ended meanwhile fails
        # there, and the pool has already closed it: what ran on it stands or failed on its
        # own, and the next acquire makes a new one
        with contextlib.suppress(
            OSError,
            asyncpg.InterfaceError,
            asyncpg.PostgresConnectionError,
            asyncpg.InternalClientError,
        ):
            await pool.release(conn)


async def connect(url: str) -> asyncpg.Connection:
    """A connection; a ``StorageError`` naming host and database (never the password) and
    what went wrong when there is none."""
    try:
        return await asyncpg.connect(url.replace("postgres://", "postgresql://", 1), timeout=10)
    except (OSError, TimeoutError, asyncpg.CannotConnectNowError) as e:
        raise StorageUnavailable(f"cannot open database {where(url)}: {_reason(e)}") from e
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as e:
        raise StorageError(f"cannot open database {where(url)}: {_reason(e)}") from e


def where(url: str) -> str:
    """``host:port/database`` of a URL: for messages (never the user's password)."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or '/'}"


class PostgresStore(SQLStore):
    """A store on a PostgreSQL server. Open with ``await PostgresStore.open(url)``."""

    _db: _Pool
    _SKIP_LOCKED = " FOR UPDATE SKIP LOCKED"
    _SKIP_LOCKED_OF_AL = " FOR UPDATE OF al SKIP LOCKED"
    _STORY_LOCK = "SELECT pg_advisory_xact_lock(7270001)"  # (see _MIGRATION_LOCK)
    _LOCK_ROWS = " FOR UPDATE"
    _CHANNEL_LOCK = "SELECT pg_advisory_xact_lock(7270002, hashtext(?))"
    # full-text search (``store.sql.search``): each article's words, in the simple dictionary
    # (the desk's languages are many; a word is found as written, in any case)
    _SEARCH_INDEX = """INSERT INTO article_words (article_id, doc)
        SELECT a.id, to_tsvector('simple', a.title || ' ' || a.text) FROM articles a
        WHERE a.id > ? AND a.id <= ?
          AND NOT EXISTS (SELECT 1 FROM article_words w WHERE w.article_id = a.id)
        ON CONFLICT (article_id) DO NOTHING"""
    # another node's article may commit after a later id was indexed: looked for again
    _SEARCH_LOOKBACK = 10_000
    _SEARCH_DROP = "DELETE FROM article_words WHERE article_id IN ({ids})"
    _SEARCH_IDS = "SELECT article_id FROM article_words WHERE doc @@ plainto_tsquery('simple', ?)"
    _SEARCH_NEWEST = _SEARCH_IDS + " ORDER BY article_id DESC LIMIT ?"

    @staticmethod
    def search_words(text: str) -> str | None:
        return text.strip() or None

    def __init__(self, db: _Pool, url: str) -> None:
        super().__init__(db, where(url))
        #: the server's clock minus this machine's, and when it was measured (monotonic)
        self._skew = timedelta(0)
        self._skew_at = -1e9
        self._turns = _HostTurns(db)

    @classmethod
    async def open(cls, url: str, pool_size: int = 4) -> PostgresStore:
        dsn = url.replace("postgres://", "postgresql://", 1)
        try:
            pool = await asyncpg.create_pool(dsn, min_size=1, max_size=pool_size, timeout=10)
        except (OSError, TimeoutError, asyncpg.CannotConnectNowError) as e:
            raise StorageUnavailable(f"cannot open database {where(url)}: {_reason(e)}") from e
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as e:
            raise StorageError(f"cannot open database {where(url)}: {_reason(e)}") from e
        store = cls(_Pool(pool, url), url)
        try:
            await store._migrate()
        except BaseException:
            await pool.close()
            raise
        return store

    @contextlib.asynccontextmanager
    async def _writer(self) -> AsyncIterator[_Session]:
        async with _acquired(self._db.pool, self._db.url) as conn:
            yield _Session(conn, self._db.url)

    async def _migrate(self) -> None:
        # one migrating node at a time: several daemons may start together on a new
        # database (CREATE TABLE IF NOT EXISTS is not safe against a concurrent one)
        async with _acquired(self._db.pool, self._db.url) as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS monitor_schema (version INTEGER NOT NULL)"
            )
            version = await conn.fetchval("SELECT max(version) FROM monitor_schema") or 0
            if version > len(MIGRATIONS):
                raise StorageError(
                    f"database {self.path} has schema version {version}, newer than this "
                    f"monitor ({len(MIGRATIONS)}); upgrade monitor"
                )
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                await conn.execute(script)
                await conn.execute("INSERT INTO monitor_schema (version) VALUES ($1)", number)

    async def _lease_clock(self, now: datetime) -> datetime:
        """``now`` on the server's clock (this machine's offset from it, measured every
        minute): nodes whose clocks differ still agree on when a lease ends."""
        if time.monotonic() - self._skew_at > 60:
            before = datetime.now(UTC)
            server: datetime = await self._db.fetchval("SELECT statement_timestamp()")
            after = datetime.now(UTC)
            self._skew = server.astimezone(UTC) - (before + (after - before) / 2)
            self._skew_at = time.monotonic()
        return now + self._skew

    async def after_import(self, tables: Sequence[str]) -> None:
        """Identity columns continue after the imported ids."""
        for table in tables:
            has_id = await self._db.fetchval(
                """SELECT 1 FROM information_schema.columns
                   WHERE table_name = $1 AND column_name = 'id'""",
                table,
            )
            if has_id:
                await self._db.execute(
                    f"""SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                                      COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"""
                )

    async def schema_version(self) -> int:
        return int(await self._db.fetchval("SELECT max(version) FROM monitor_schema") or 0)

    def host_turns(self) -> _HostTurns:
        """Every node on this database takes its turns at a host here (one for the store:
        the turns asked together are batched together)."""
        return self._turns

    async def prune(self, before: datetime) -> int:
        pruned = await super().prune(before)
        async with self._write_lock:  # hosts not asked for a day; turns a dead node held
            await self._db.execute(
                "DELETE FROM host_turns WHERE next_at < now() - interval '1 day'"
            )
            await self._db.execute("DELETE FROM host_requests WHERE until < now()")
        return pruned

    async def compact(self) -> None:
        """PostgreSQL's autovacuum keeps the tables compact; statistics refreshed here."""
        async with self._write_lock:
            await self._db.execute("ANALYZE")

    async def check_writable(self) -> str | None:
        try:
            async with self._write_lock:
                if await self._db.fetchval("SELECT pg_is_in_recovery()"):
                    return f"database {self.path} is a read-only replica"
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
            return f"database {self.path}: {_reason(e)}"
        return None


class _HostTurns:
    """Turns at hosts shared by the nodes on one database (``fetch.HostTurns``): the function
    ``monitor_host_turn`` (``schema``) decides each, its host's row locked. The turns asked
    for at the same time are decided in one statement, hosts in order (two nodes' batches
    lock their rows in the same order), and given back in one."""

    def __init__(self, db: _Pool) -> None:
        self._db = db
        self._takes = Coalescer(self._take_many, concurrency=2)
        self._backs = Coalescer(self._give_back_many, concurrency=2)

    async def take(
        self, host: str, limit: int, delay: float, hold: float
    ) -> tuple[str, float] | None:
        token = uuid.uuid4().hex
        wait = await self._takes.submit((host, token, limit, delay, hold))
        return None if wait < 0 else (token, wait)

    async def give_back(self, token: str) -> None:
        await self._backs.submit(token)

    async def _take_many(self, asks: list[tuple[str, str, int, float, float]]) -> list[float]:
        order = sorted(range(len(asks)), key=lambda n: asks[n][0])
        rows = await self._db.execute_fetchall(
            """SELECT monitor_host_turn(host, token, lim, delay, hold) FROM unnest(
                 CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS INTEGER[]),
                 CAST(? AS DOUBLE PRECISION[]), CAST(? AS DOUBLE PRECISION[]))
                 WITH ORDINALITY AS ask (host, token, lim, delay, hold, n) ORDER BY n""",
            [[asks[n][field] for n in order] for field in range(5)],
        )
        waits = [0.0] * len(asks)
        for n, row in zip(order, rows, strict=True):
            waits[n] = float(row[0])
        return waits

    async def _give_back_many(self, tokens: list[str]) -> list[None]:
        await self._db.execute(
            "DELETE FROM host_requests WHERE token = ANY(CAST(? AS TEXT[]))", (tokens,)
        )
        return [None] * len(tokens)


def _reason(e: BaseException) -> str:
    if isinstance(e, asyncpg.InvalidPasswordError):
        return "the password was refused (check PGPASSWORD or the URL's ${…})"
    if isinstance(e, asyncpg.InvalidCatalogNameError):
        return "no such database (create it first: createdb)"
    if isinstance(e, ConnectionRefusedError | OSError) and not isinstance(e, asyncpg.PostgresError):
        return f"cannot connect ({e.strerror or e})"
    return str(e)
