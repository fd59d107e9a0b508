"""SQLite storage through aiosqlite: WAL mode, migrations at open, one transaction per batch.

The only module that speaks SQL to SQLite. Times are stored as ISO 8601 UTC text.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from monitor.errors import StorageError
from monitor.models import (
    Alert,
    AlertStatus,
    Article,
    Delivery,
    Match,
    Source,
    SourceState,
    match_from_dict,
    match_to_dict,
)
from monitor.store import AddResult, PollRecord, StoredArticle
from monitor.store.migrations import MIGRATIONS


def _ts(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(s: str | None) -> datetime | None:
    return None if s is None else datetime.fromisoformat(s)


def sqlite_path(url: str) -> str:
    """``sqlite:///data/x.db`` → ``data/x.db``; ``sqlite:////abs/x.db`` → ``/abs/x.db``."""
    if not url.startswith("sqlite:///"):
        raise StorageError(f"not a SQLite URL: {url!r} (expected sqlite:///path/to/file.db)")
    return url[len("sqlite:///") :]


class SQLiteStore:
    """The default store. Open with ``await SQLiteStore.open(url)``."""

    def __init__(self, db: aiosqlite.Connection, path: str) -> None:
        self._db = db
        self.path = path

    @classmethod
    async def open(cls, url: str) -> SQLiteStore:
        path = sqlite_path(url)
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            db = await aiosqlite.connect(path, isolation_level=None)
        except (sqlite3.Error, OSError) as e:
            raise StorageError(f"cannot open database {path!r}: {e}") from e
        store = cls(db, path)
        try:
            db.row_factory = aiosqlite.Row
            await db.execute("PRAGMA busy_timeout = 10000")
            if path != ":memory:":
                await db.execute("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA synchronous = NORMAL")
            await db.execute("PRAGMA foreign_keys = ON")
            await store._migrate()
        except BaseException as e:
            await db.close()  # never leave the connection's thread behind
            if isinstance(e, sqlite3.Error):
                raise StorageError(f"cannot open database {path!r}: {e}") from e
            raise
        return store

    async def _migrate(self) -> None:
        async with self._db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        version = int(row[0]) if row else 0
        if version > len(MIGRATIONS):
            raise StorageError(
                f"database {self.path!r} has schema version {version}, newer than this "
                f"monitor ({len(MIGRATIONS)}); upgrade monitor"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            await self._db.executescript(
                f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )

    async def schema_version(self) -> int:
        async with self._db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def close(self) -> None:
        await self._db.close()

    # -- sources --------------------------------------------------------------------------

    async def sync_sources(self, sources: Sequence[Source]) -> None:
        now = _ts(datetime.now(UTC))
        await self._db.execute("BEGIN")
        try:
            await self._db.execute("UPDATE sources SET active = 0")
            for s in sources:
                await self._db.execute(
                    """INSERT INTO sources (name, url, fetch_url, kind, active, created)
                       VALUES (?, ?, ?, ?, 1, ?)
                       ON CONFLICT (name) DO UPDATE SET
                         active = 1, kind = excluded.kind,
                         fetch_url = CASE WHEN sources.url = excluded.url
                                          THEN sources.fetch_url ELSE excluded.url END,
                         url = excluded.url""",
                    (s.name, s.url, s.url, s.kind, now),
                )
            await self._db.execute("COMMIT")
        except BaseException:
            await self._db.execute("ROLLBACK")
            raise

    async def source_state(self, name: str) -> SourceState:
        async with self._db.execute("SELECT * FROM sources WHERE name = ?", (name,)) as cur:
            row = await cur.fetchone()
        if row is None:
            raise StorageError(f"unknown source {name!r}")
        return _state(row)

    async def source_states(self) -> list[SourceState]:
        async with self._db.execute("SELECT * FROM sources WHERE active = 1 ORDER BY name") as cur:
            return [_state(r) for r in await cur.fetchall()]

    async def record_poll(self, name: str, record: PollRecord, now: datetime) -> None:
        if record.ok:
            await self._db.execute(
                """UPDATE sources SET last_attempt = ?, last_success = ?, failures = 0,
                     last_error = NULL, next_due = ?,
                     etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified),
                     body_hash = COALESCE(?, body_hash), fetch_url = COALESCE(?, fetch_url)
                   WHERE name = ?""",
                (
                    _ts(now),
                    _ts(now),
                    _ts(record.next_due),
                    record.etag,
                    record.last_modified,
                    record.body_hash,
                    record.url,
                    name,
                ),
            )
        else:
            await self._db.execute(
                """UPDATE sources SET last_attempt = ?, failures = failures + 1,
                     last_error = ?, next_due = ?, fetch_url = COALESCE(?, fetch_url)
                   WHERE name = ?""",
                (_ts(now), record.error, _ts(record.next_due), record.url, name),
            )

    # -- articles -------------------------------------------------------------------------

    async def _source_id(self, name: str) -> int:
        async with self._db.execute("SELECT id FROM sources WHERE name = ?", (name,)) as cur:
            row = await cur.fetchone()
        if row is None:
            raise StorageError(f"unknown source {name!r}")
        return int(row[0])

    async def unseen(self, source: str, identities: Sequence[str]) -> set[str]:
        if not identities:
            return set()
        sid = await self._source_id(source)
        seen: set[str] = set()
        wanted = list(dict.fromkeys(identities))
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            marks = ",".join("?" * len(chunk))
            async with self._db.execute(
                f"SELECT identity FROM articles WHERE source_id = ? AND identity IN ({marks})",
                (sid, *chunk),
            ) as cur:
                seen.update(r[0] for r in await cur.fetchall())
        return set(wanted) - seen

    async def add_articles(
        self,
        source: str,
        batch: Sequence[tuple[Article, Sequence[Match]]],
        channels_for: Callable[[Match], Sequence[str]],
        now: datetime,
    ) -> AddResult:
        if not batch:
            return AddResult(0, 0, 0)
        sid = await self._source_id(source)
        new = matches = alerts = 0
        db = self._db
        await db.execute("BEGIN IMMEDIATE")
        try:
            for article, found in batch:
                cur = await db.execute(
                    """INSERT INTO articles (source_id, identity, url, guid, title, text,
                         published, fetched, content_hash)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (source_id, identity) DO NOTHING""",
                    (
                        sid,
                        article.identity,
                        article.url,
                        article.guid,
                        article.title,
                        article.text,
                        _ts(article.published),
                        _ts(article.fetched),
                        article.content_hash,
                    ),
                )
                if cur.rowcount != 1:
                    continue  # already stored: never match or alert twice
                new += 1
                article_id = cur.lastrowid
                for m in found:
                    mcur = await db.execute(
                        """INSERT INTO matches (article_id, rule, severity, score, mode,
                             explanation, created) VALUES (?, ?, ?, ?, ?, ?, ?)""",
                        (
                            article_id,
                            m.rule,
                            m.severity,
                            m.score,
                            m.mode,
                            json.dumps(match_to_dict(m), ensure_ascii=False),
                            _ts(now),
                        ),
                    )
                    matches += 1
                    status = AlertStatus.SHADOW if m.mode == "shadow" else AlertStatus.PENDING
                    for channel in channels_for(m):
                        await db.execute(
                            """INSERT INTO alerts (match_id, channel, status, next_attempt,
                                 created) VALUES (?, ?, ?, ?, ?)""",
                            (mcur.lastrowid, channel, status.value, _ts(now), _ts(now)),
                        )
                        alerts += status is AlertStatus.PENDING
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        return AddResult(new, matches, alerts)

    _ARTICLE_SELECT = """
        SELECT a.*, s.name AS source,
          (SELECT group_concat(rule, ',') FROM matches m WHERE m.article_id = a.id) AS rules
        FROM articles a JOIN sources s ON s.id = a.source_id
    """

    async def articles(self, limit: int = 20) -> list[StoredArticle]:
        async with self._db.execute(
            self._ARTICLE_SELECT + " ORDER BY a.id DESC LIMIT ?", (limit,)
        ) as cur:
            return [_stored(r) for r in await cur.fetchall()]

    async def iter_articles(
        self, since: datetime | None = None, batch: int = 500
    ) -> AsyncIterator[list[StoredArticle]]:
        last = 0
        while True:
            async with self._db.execute(
                self._ARTICLE_SELECT + " WHERE a.id > ? AND a.fetched >= ? ORDER BY a.id LIMIT ?",
                (last, _ts(since) or "", batch),
            ) as cur:
                rows = await cur.fetchall()
            if not rows:
                return
            items = [_stored(r) for r in rows]
            last = items[-1].id
            yield items

    # -- alerts ---------------------------------------------------------------------------

    _ALERT_SELECT = """
        SELECT al.*, m.explanation, a.title, a.url, a.published, s.name AS source
        FROM alerts al
        JOIN matches m ON m.id = al.match_id
        JOIN articles a ON a.id = m.article_id
        JOIN sources s ON s.id = a.source_id
    """

    async def due_alerts(self, now: datetime, limit: int = 100) -> list[Alert]:
        async with self._db.execute(
            self._ALERT_SELECT
            + " WHERE al.status = 'pending' AND al.next_attempt <= ? ORDER BY al.id LIMIT ?",
            (_ts(now), limit),
        ) as cur:
            return [_alert(r) for r in await cur.fetchall()]

    async def record_delivery(
        self, alert_id: int, delivery: Delivery, now: datetime, next_attempt: datetime | None
    ) -> None:
        if delivery.ok:
            status, when = AlertStatus.SENT.value, None
        elif next_attempt is not None:
            status, when = AlertStatus.PENDING.value, _ts(next_attempt)
        else:
            status, when = AlertStatus.FAILED.value, None
        await self._db.execute("BEGIN IMMEDIATE")
        try:
            await self._db.execute(
                """UPDATE alerts SET status = ?, attempts = attempts + 1,
                     next_attempt = COALESCE(?, next_attempt),
                     last_error = ?, sent = CASE WHEN ? THEN ? ELSE sent END
                   WHERE id = ?""",
                (
                    status,
                    when,
                    None if delivery.ok else delivery.reason,
                    delivery.ok,
                    _ts(now),
                    alert_id,
                ),
            )
            await self._db.execute(
                "INSERT INTO deliveries (alert_id, at, ok, reason) VALUES (?, ?, ?, ?)",
                (alert_id, _ts(now), delivery.ok, delivery.reason or "ok"),
            )
            await self._db.execute("COMMIT")
        except BaseException:
            await self._db.execute("ROLLBACK")
            raise

    async def alerts(
        self, limit: int = 20, status: str | None = None, rule: str | None = None
    ) -> list[Alert]:
        where, args = [], []
        if status:
            where.append("al.status = ?")
            args.append(status)
        if rule:
            where.append("m.rule = ?")
            args.append(rule)
        sql = self._ALERT_SELECT + (" WHERE " + " AND ".join(where) if where else "")
        async with self._db.execute(sql + " ORDER BY al.id DESC LIMIT ?", (*args, limit)) as cur:
            return [_alert(r) for r in await cur.fetchall()]


def _state(r: Any) -> SourceState:
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
    )


def _stored(r: Any) -> StoredArticle:
    return StoredArticle(
        r["id"],
        Article(
            source=r["source"],
            identity=r["identity"],
            url=r["url"],
            guid=r["guid"],
            title=r["title"],
            text=r["text"],
            published=_dt(r["published"]),
            fetched=_dt(r["fetched"]) or datetime.now(UTC),
            content_hash=r["content_hash"],
        ),
        tuple(r["rules"].split(",")) if r["rules"] else (),
    )


def _alert(r: Any) -> Alert:
    return Alert(
        id=r["id"],
        channel=r["channel"],
        status=AlertStatus(r["status"]),
        attempts=r["attempts"],
        created=_dt(r["created"]) or datetime.now(UTC),
        match=match_from_dict(json.loads(r["explanation"])),
        article_title=r["title"],
        article_url=r["url"],
        source=r["source"],
        published=_dt(r["published"]),
        last_error=r["last_error"],
        sent=_dt(r["sent"]),
    )


async def open_store(url: str) -> SQLiteStore:
    """The store for a ``storage.url``."""
    return await SQLiteStore.open(url)
