"""What every part of a SQL store shares: the connection (``Connection``: the part of
aiosqlite's interface the domain modules use, which the PostgreSQL store provides over
asyncpg too), its one writer at a time, the transaction, how times are stored (ISO 8601 UTC
text, which sorts as time), and source ids."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from monitor.errors import StorageError


class Cursor(Protocol):
    rowcount: int

    async def fetchone(self) -> Any: ...

    async def fetchall(self) -> Iterable[Any]: ...


class Connection(Protocol):
    """What the domain modules ask of a connection: SQL with ``?`` placeholders, standard
    ``ON CONFLICT`` and ``RETURNING``; rows read by position or by column name."""

    @property
    def in_transaction(self) -> bool: ...

    def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Any:
        """Awaitable, and an async context manager, giving a ``Cursor``."""

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Any: ...

    async def execute_fetchall(
        self, sql: str, parameters: Iterable[Any] | None = None
    ) -> Iterable[Any]: ...

    async def close(self) -> None: ...


def _ts(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC)
    return dt.isoformat(timespec="microseconds")


def _dt(s: str | None) -> datetime | None:
    return None if s is None else datetime.fromisoformat(s)


class Base:
    """The connection and what every domain's methods use."""

    _db: Connection
    path: str
    #: (node, seconds): hand out deliveries claimed for this node (``claim_as``); None: not
    #: claiming (one process alone, ``once``)
    _claimant: tuple[str, float] | None = None
    #: what a claim's row selection adds so that nodes claiming at once skip each other's
    #: rows (PostgreSQL: FOR UPDATE SKIP LOCKED); SQLite has one writer at a time
    _SKIP_LOCKED = ""
    _SKIP_LOCKED_OF_AL = ""
    #: taken in a transaction before it reads the open stories and places articles in them,
    #: so that two nodes never open two stories for one event (PostgreSQL: an advisory lock
    #: until the transaction ends); SQLite's writer lock already serialises it
    _STORY_LOCK = ""
    #: what a read of source rows adds to keep them locked until the transaction ends
    #: (PostgreSQL: FOR UPDATE); SQLite's writer lock already does
    _LOCK_ROWS = ""
    #: taken (with a channel's name) before a channel's messages are counted and reserved,
    #: so that nodes never give it more than its limit together (PostgreSQL: an advisory
    #: lock); SQLite's writer lock already serialises it
    _CHANNEL_LOCK = ""

    async def release_claims(self, node: str | None) -> None:
        """Claims left by ``node`` in an earlier life (None: by anyone — a database only
        this process uses): its sources and deliveries are free again at once, instead of
        when their leases run out."""
        async with self._transaction() as db:
            for table, who, until in (
                ("sources", "owner", "lease_until"),
                ("alerts", "claimed_by", "claim_until"),
                ("notices", "claimed_by", "claim_until"),
            ):
                lease = ", lease = NULL" if table == "sources" else ""
                await db.execute(
                    f"UPDATE {table} SET {who} = NULL, {until} = NULL{lease} "
                    f"WHERE {who} IS NOT NULL AND {who} = COALESCE(?, {who})",
                    (node,),
                )

    async def _lease_clock(self, now: datetime) -> datetime:
        """The time leases and claims are measured by: one clock for every node. SQLite
        serves one machine, whose clock is ``now``; a server database uses its own."""
        return now

    def claim_as(self, node: str, lease: float) -> None:
        """From now on, deliveries handed out are claimed for ``node`` for ``lease`` seconds
        and recorded only while the claim holds (several nodes share the outbox)."""
        self._claimant = (node, lease)

    _write_lock: asyncio.Lock
    _source_ids: dict[str, int]

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Connection]:
        """One write transaction at a time in this process, on the writer's connection."""
        async with self._write_lock, self._writer() as db:
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                with contextlib.suppress(StorageError):  # a connection lost rolls back itself
                    await db.execute("ROLLBACK")
                raise
            try:
                await db.execute("COMMIT")
            except BaseException:
                # a commit that failed (a full disk) may leave the transaction open: the
                # next one could not begin
                if db.in_transaction:
                    with contextlib.suppress(StorageError):
                        await db.execute("ROLLBACK")
                raise

    @contextlib.asynccontextmanager
    async def _writer(self) -> AsyncIterator[Connection]:
        """The connection a transaction runs on: the one connection (SQLite); a server
        database's store takes one from its pool."""
        yield self._db

    async def after_import(self, tables: Sequence[str]) -> None:
        """After rows came in with their ids (``sql.transfer``): what the database needs to
        number new rows after them (nothing, for SQLite)."""

    async def _source_id(self, name: str) -> int:
        """A source's row id (never changes: source rows are deactivated, not deleted)."""
        known = self._source_ids.get(name)
        if known is not None:
            return known
        rows = list(
            await self._db.execute_fetchall("SELECT id FROM sources WHERE name = ?", (name,))
        )
        if not rows:
            raise StorageError(f"unknown source {name!r}")
        self._source_ids[name] = int(rows[0][0])
        return int(rows[0][0])

    async def _lookup(self, sql: str, source: str, keys: Sequence[str]) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` (``... WHERE source_id = ? AND key IN ({marks})``) for these keys,
        500 at a time."""
        if not keys:
            return []
        sid = await self._source_id(source)
        wanted = list(dict.fromkeys(keys))
        rows: list[tuple[Any, ...]] = []
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            found = await self._db.execute_fetchall(
                sql.format(marks=",".join("?" * len(chunk))), (sid, *chunk)
            )
            rows.extend(tuple(r) for r in found)
        return rows


_ROWS_PER_INSERT = 500


async def _insert_returning(
    db: Connection, sql: str, rows: Sequence[tuple[object, ...]], key: str
) -> dict[Any, int]:
    """Insert ``rows`` with multi-row INSERT statements; the new rows' ids by ``key`` (rows
    that were not inserted have no entry; RETURNING gives rows in no set order)."""
    out: dict[Any, int] = {}
    if not rows:
        return out
    one = "(" + ",".join("?" * len(rows[0])) + ")"
    for i in range(0, len(rows), _ROWS_PER_INSERT):
        chunk = rows[i : i + _ROWS_PER_INSERT]
        statement = sql.format(values=",".join([one] * len(chunk)), key=key)
        for r in await db.execute_fetchall(statement, [v for row in chunk for v in row]):
            out[r[1] if len(r) == 2 else tuple(r[1:])] = int(r[0])
    return out
