"""A SQL store: the domains together, with the state every backend's store keeps."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.batching import Coalescer
from monitor.store import PollRecord
from monitor.store.sql.articles import Articles
from monitor.store.sql.base import Connection
from monitor.store.sql.browse import Browse
from monitor.store.sql.desk import Desk
from monitor.store.sql.outbox import Outbox

if TYPE_CHECKING:
    from monitor.turns import HostTurns


class SQLStore(Articles, Outbox, Desk, Browse):
    """What SQLite's and PostgreSQL's stores share: a backend opens its connection (and
    migrates) in ``open``, and adds what is its own."""

    def __init__(self, db: Connection, path: str) -> None:
        self._db = db
        #: where the database is, for messages (a file; a server's host:port/database)
        self.path = path
        # write transactions take turns, each whole (one connection, or one of a pool)
        self._write_lock = asyncio.Lock()
        self._source_ids: dict[str, int] = {}
        self._polls: list[tuple[str, PollRecord, datetime]] = []
        # many polls at once: their lookups and new articles go to the database in batches
        self._hashes = Coalescer(self._stored_hashes_of)
        self._additions = Coalescer(self._add_many)

    def host_turns(self) -> HostTurns | None:
        return None  # SQLite: one daemon a database

    async def close(self) -> None:
        """Write what waits (additions being batched, buffered poll records), then close."""
        try:
            await self._additions.wait()
            await self.flush()
        finally:
            await self._db.close()
