"""Sources: the configured list, each one's state and poll records (buffered, written
together), links whose pages failed, and the text blocks of watched pages."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.errors import StorageError
from monitor.models import (
    Source,
    SourceState,
)
from monitor.store import LinkFailure, PollRecord, sources_hash
from monitor.store.sql.base import Base, Connection, _dt, _ts

POLL_BUFFER = 256


class Sources(Base):
    #: plain poll records not written yet: (source, record, when)
    _polls: list[tuple[str, PollRecord, datetime]]

    async def claim_sources(
        self, node: str, now: datetime, limit: int, lease: float
    ) -> list[SourceState]:
        """Due sources (active, not gone, next poll due by ``now``; the longest waiting
        first), at most ``limit``, claimed for ``node``: each gets a lease token, and its
        next poll is pushed to the lease's end, so that the sources of a node that died
        come due again by themselves. Their states carry the token (``PollRecord.lease``)."""
        await self.flush()
        # due by the schedule's time; a lease held until the lease clock says it ran out
        leased = await self._lease_clock(now)
        until = _ts(leased + timedelta(seconds=lease))
        async with self._transaction() as db:
            rows = await db.execute_fetchall(
                f"""UPDATE sources SET owner = ?, lease = ?, lease_until = ?,
                      claimed_due = next_due, next_due = ?
                    WHERE id IN (
                      SELECT id FROM sources
                      WHERE active = 1 AND gone IS NULL AND (next_due IS NULL OR next_due <= ?)
                        AND (lease_until IS NULL OR lease_until <= ?)
                      ORDER BY next_due IS NOT NULL, next_due LIMIT ?{self._SKIP_LOCKED})
                    RETURNING *""",
                (node, uuid.uuid4().hex, until, until, _ts(now), _ts(leased), limit),
            )
        return [_state(r) for r in rows]

    async def renew_lease(self, name: str, lease: str, now: datetime, seconds: float) -> bool:
        """Extend a lease still held (a long poll); False: it was lost to another node."""
        now = await self._lease_clock(now)
        until = _ts(now + timedelta(seconds=seconds))
        async with self._transaction() as db:
            cur = await db.execute(
                "UPDATE sources SET lease_until = ?, next_due = ? WHERE name = ? AND lease = ?",
                (until, until, name, lease),
            )
            return bool(cur.rowcount == 1)

    async def release_lease(self, name: str, lease: str, due: datetime) -> None:
        """A poll whose record could not be written (the database was unwritable): its
        source is free again and due at ``due``, not when the lease runs out."""
        async with self._transaction() as db:
            await db.execute(
                """UPDATE sources SET owner = NULL, lease = NULL, lease_until = NULL,
                     next_due = ? WHERE name = ? AND lease = ?""",
                (_ts(due), name, lease),
            )

    async def shift_schedule(self, seconds: float) -> None:
        """The wall clock stepped by ``seconds``: every due time, lease and claim moves with
        it, so that what was due in a minute is due in a minute still."""
        await self.flush()
        step = timedelta(seconds=seconds)

        def moved(value: str | None) -> str | None:
            return None if value is None else _ts(datetime.fromisoformat(value) + step)

        async with self._transaction() as db:
            for table, columns, which in _SCHEDULED:
                rows = await db.execute_fetchall(
                    f"SELECT id, {', '.join(columns)} FROM {table} WHERE {which}"
                )
                sets = ", ".join(f"{c} = ?" for c in columns)
                await db.executemany(
                    f"UPDATE {table} SET {sets} WHERE id = ?",
                    [(*(moved(r[c]) for c in columns), r["id"]) for r in rows],
                )

    async def heartbeat(self, node: str, listed: str, now: datetime) -> None:
        """``node`` is alive, with this source list (its fingerprint)."""
        async with self._transaction() as db:
            await db.execute(
                """INSERT INTO state (key, value) VALUES (?, ?)
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value""",
                (f"node:{node}", json.dumps({"sources": listed, "seen": _ts(now)})),
            )

    async def forget_node(self, node: str) -> None:
        """``node`` stopped: no longer listed among the nodes alive."""
        async with self._transaction() as db:
            await db.execute("DELETE FROM state WHERE key = ?", (f"node:{node}",))

    async def nodes(self, since: datetime) -> dict[str, tuple[str, datetime]]:
        """Nodes seen alive since ``since``: name → (source list fingerprint, last seen)."""
        rows = await self._db.execute_fetchall(
            "SELECT key, value FROM state WHERE key LIKE 'node:%'"
        )
        out = {}
        for key, value in rows:
            data = json.loads(value)
            seen = _dt(data["seen"])
            if seen is not None and seen >= since:
                out[key.removeprefix("node:")] = (str(data["sources"]), seen)
        return out

    async def synced_hash(self) -> str | None:
        """The fingerprint of the source list last synced, by any node."""
        rows = list(
            await self._db.execute_fetchall("SELECT value FROM state WHERE key = 'sources_hash'")
        )
        return str(rows[0][0]) if rows else None

    async def next_due(self) -> datetime | None:
        """When the next source comes due (None: none will)."""
        await self.flush()
        rows = list(
            await self._db.execute_fetchall(
                "SELECT min(next_due) FROM sources WHERE active = 1 AND gone IS NULL"
            )
        )
        return _dt(rows[0][0]) if rows and rows[0][0] is not None else None

    async def first_polls(self, due: Mapping[str, datetime], now: datetime) -> None:
        """Spread the first polls after a start: a source never polled (or due further off
        than its time here) is due at the time given."""
        async with self._transaction() as db:
            await db.executemany(
                """UPDATE sources SET next_due = ?
                   WHERE name = ? AND lease IS NULL AND (next_due IS NULL OR next_due > ?)""",
                [(_ts(when), name, _ts(when)) for name, when in due.items()],
            )

    async def sync_sources(self, sources: Sequence[Source]) -> None:
        """The configured sources: new ones added, changed ones updated, the others set
        aside (kept, not polled). The list's fingerprint is kept (``sources_hash``): a node
        whose configuration lists other sources claims nothing."""
        await self.flush()
        now = _ts(datetime.now(UTC))
        async with self._transaction() as db:
            await db.execute(
                """INSERT INTO state (key, value) VALUES ('sources_hash', ?)
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value""",
                (sources_hash(sources),),
            )
            await db.execute("UPDATE sources SET active = 0")
            await db.executemany(
                """INSERT INTO sources (name, url, fetch_url, kind, active, created)
                       VALUES (?, ?, ?, ?, 1, ?)
                       ON CONFLICT (name) DO UPDATE SET
                         active = 1, kind = excluded.kind,
                         fetch_url = CASE WHEN sources.url = excluded.url
                                          THEN sources.fetch_url ELSE excluded.url END,
                         gone = CASE WHEN sources.url = excluded.url
                                     THEN sources.gone ELSE NULL END,
                         url = excluded.url""",
                [(s.name, s.url, s.url, s.kind, now) for s in sources],
            )
        rows = await self._db.execute_fetchall("SELECT name, id FROM sources")
        self._source_ids = {r[0]: int(r[1]) for r in rows}

    async def source_state(self, name: str) -> SourceState:
        await self.flush()
        async with self._db.execute("SELECT * FROM sources WHERE name = ?", (name,)) as cur:
            row = await cur.fetchone()
        if row is None:
            raise StorageError(f"unknown source {name!r}")
        return _state(row)

    async def source_states(self) -> list[SourceState]:
        await self.flush()
        async with self._db.execute(
            """SELECT s.*, (SELECT count(*) FROM link_failures f WHERE f.source_id = s.id)
                 AS failing_links
               FROM sources s WHERE s.active = 1 ORDER BY s.name"""
        ) as cur:
            return [_state(r, r["failing_links"]) for r in await cur.fetchall()]

    async def record_poll(self, name: str, record: PollRecord, now: datetime) -> None:
        """Record a poll. A plain record (no health change) is buffered and written with
        others in one transaction (a pass over a thousand unchanged feeds is then a handful
        of writes, not a thousand); anything that reads sources writes the buffer first."""
        if record.health is None and not record.notices:
            self._polls.append((name, record, now))
            if len(self._polls) >= POLL_BUFFER:
                await self.flush()
            return
        with self._buffer_taken() as polls:
            async with self._transaction() as db:
                await write_polls(db, [*polls, (name, record, now)])

    async def flush(self) -> None:
        """Write buffered poll records, in order."""
        if not self._polls:
            return
        with self._buffer_taken() as polls:
            async with self._transaction() as db:
                await write_polls(db, polls)

    @contextlib.contextmanager
    def _buffer_taken(self) -> Iterator[list[tuple[str, PollRecord, datetime]]]:
        """The buffered records, taken to be written (before any later record of a source)
        by a transaction inside; if it writes nothing (a full disk, a server away), they go
        back, in order, for the next, so that their sources' leases end when the database
        takes writes again."""
        polls, self._polls = self._polls, []
        try:
            yield polls
        except StorageError:
            self._polls = polls + self._polls
            raise

    async def link_failures(self, source: str, links: Sequence[str]) -> dict[str, LinkFailure]:
        rows = await self._lookup(
            """SELECT url, failures, next_try FROM link_failures
               WHERE source_id = ? AND url IN ({marks})""",
            source,
            links,
        )
        return {r[0]: LinkFailure(int(r[1]), datetime.fromisoformat(r[2])) for r in rows}

    async def record_links(
        self,
        source: str,
        failed: Mapping[str, tuple[str, datetime]],
        read: Sequence[str],
    ) -> None:
        if not failed and not read:
            return
        sid = await self._source_id(source)
        async with self._transaction() as db:
            await db.executemany(
                """INSERT INTO link_failures (source_id, url, failures, next_try, last_error)
                   VALUES (?, ?, 1, ?, ?)
                   ON CONFLICT (source_id, url) DO UPDATE SET failures = link_failures.failures + 1,
                     next_try = excluded.next_try, last_error = excluded.last_error""",
                [(sid, url, _ts(when), reason) for url, (reason, when) in failed.items()],
            )
            await db.executemany(
                "DELETE FROM link_failures WHERE source_id = ? AND url = ?",
                [(sid, url) for url in read],
            )

    async def unseen_blocks(self, source: str, hashes: Sequence[str]) -> set[str]:
        rows = await self._lookup(
            "SELECT hash FROM page_blocks WHERE source_id = ? AND hash IN ({marks})",
            source,
            hashes,
        )
        return set(hashes) - {r[0] for r in rows}

    async def remember_blocks(self, source: str, hashes: Sequence[str], now: datetime) -> None:
        if not hashes:
            return
        sid = await self._source_id(source)
        async with self._transaction() as db:
            await db.executemany(
                """INSERT INTO page_blocks (source_id, hash, first_seen) VALUES (?, ?, ?)
                   ON CONFLICT (source_id, hash) DO NOTHING""",
                [(sid, h, _ts(now)) for h in dict.fromkeys(hashes)],
            )


async def write_polls(db: Connection, polls: Sequence[tuple[str, PollRecord, datetime]]) -> None:
    """Poll records, in order, one statement per run of one kind; a record's health change
    and notices with it (first: the record ends the lease). A leased poll's record is written
    only while the source's lease is still that poll's (not after another node took the
    source over, even once that node's poll has ended); an unleased one's always."""
    notices = [
        (name, e, msg, ch, _ts(now), _ts(now), name, r.lease)
        for name, r, now in polls
        for e, msg, ch in r.notices
    ]
    if notices:
        await db.executemany(
            f"""INSERT INTO notices (source, event, message, channel, status, next_attempt,
                 created) SELECT ?, ?, ?, ?, 'pending', ?, ?
                 WHERE EXISTS (SELECT 1 FROM sources WHERE name = ? AND {_HELD})""",
            notices,
        )
    healthy = [(r.health, name, r.lease) for name, r, _now in polls if r.health is not None]
    if healthy:
        await db.executemany(
            f"UPDATE sources SET health = NULLIF(?, '') WHERE name = ? AND {_HELD}", healthy
        )
    run: list[tuple[object, ...]] = []
    sql = ""
    for name, record, now in polls:
        statement, params = _poll_statement(name, record, now)
        if statement != sql and run:
            await db.executemany(sql, run)
            run = []
        sql = statement
        run.append(params)
    if run:
        await db.executemany(sql, run)


#: the times of the schedule, by table: what a step of the wall clock shifts
_SCHEDULED = (
    ("sources", ("next_due", "lease_until"), "next_due IS NOT NULL OR lease_until IS NOT NULL"),
    ("alerts", ("next_attempt", "claim_until"), "status = 'pending'"),
    ("notices", ("next_attempt", "claim_until"), "status = 'pending'"),
)


#: the poll's lease (a parameter) is the source's, or the poll had none
_HELD = "COALESCE(lease, '') = COALESCE(?, lease, '')"


_POLL_REREAD = f"""UPDATE sources SET last_attempt = ?, last_success = ?, failures = 0,
     last_error = NULL, next_due = ?, etag = NULL, last_modified = NULL,
     body_hash = NULL, fetch_url = COALESCE(?, fetch_url),
     detected = COALESCE(?, detected),
     publish_interval = COALESCE(?, publish_interval),
     last_new = COALESCE(?, last_new),
     owner = NULL, lease = NULL, lease_until = NULL
   WHERE name = ? AND {_HELD}"""


_POLL_OK = f"""UPDATE sources SET last_attempt = ?, last_success = ?, failures = 0,
     last_error = NULL, next_due = ?,
     etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified),
     body_hash = COALESCE(?, body_hash), fetch_url = COALESCE(?, fetch_url),
     detected = COALESCE(?, detected),
     publish_interval = COALESCE(?, publish_interval),
     last_new = COALESCE(?, last_new),
     owner = NULL, lease = NULL, lease_until = NULL
   WHERE name = ? AND {_HELD}"""


_POLL_FAILED = f"""UPDATE sources SET last_attempt = ?, failures = failures + 1,
     last_error = ?, next_due = ?, fetch_url = COALESCE(?, fetch_url),
     gone = CASE WHEN ? THEN ? ELSE gone END,
     owner = NULL, lease = NULL, lease_until = NULL
   WHERE name = ? AND {_HELD}"""


def _poll_statement(name: str, record: PollRecord, now: datetime) -> tuple[str, tuple[object, ...]]:
    at, due = _ts(now), _ts(record.next_due)
    if record.ok and record.reread:
        return _POLL_REREAD, (
            at,
            at,
            due,
            record.url,
            record.detected,
            record.publish_interval,
            _ts(record.last_new),
            name,
            record.lease,
        )
    if record.ok:
        return _POLL_OK, (
            at,
            at,
            due,
            record.etag,
            record.last_modified,
            record.body_hash,
            record.url,
            record.detected,
            record.publish_interval,
            _ts(record.last_new),
            name,
            record.lease,
        )
    return _POLL_FAILED, (at, record.error, due, record.url, record.gone, at, name, record.lease)


def _state(r: Any, failing_links: int = 0) -> SourceState:
    return SourceState(
        name=r["name"],
        url=r["fetch_url"],
        etag=r["etag"],
        last_modified=r["last_modified"],
        body_hash=r["body_hash"],
        last_success=_dt(r["last_success"]),
        last_attempt=_dt(r["last_attempt"]),
        failures=r["failures"],
        last_error=r["last_error"],
        next_due=_dt(r["next_due"]),
        gone=_dt(r["gone"]),
        detected=r["detected"],
        publish_interval=r["publish_interval"],
        last_new=_dt(r["last_new"]),
        health=r["health"],
        failing_links=failing_links,
        lease=r["lease"],
        owner=r["owner"],
        lease_until=_dt(r["lease_until"]),
        claimed_due=_dt(r["claimed_due"]),
    )
