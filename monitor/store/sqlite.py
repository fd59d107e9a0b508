"""SQLite storage through aiosqlite: WAL mode, migrations at open, one transaction per batch.

The only module that speaks SQL to SQLite. Times are stored as ISO 8601 UTC text.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from monitor.batching import Coalescer
from monitor.errors import StorageError
from monitor.models import (
    SEVERITIES,
    Alert,
    AlertStatus,
    Article,
    Delivery,
    Match,
    Notice,
    Source,
    SourceState,
    StoryDecision,
    StoryRef,
    match_from_dict,
    match_to_dict,
)
from monitor.revisions import edit_note
from monitor.store import AddResult, LinkFailure, PollRecord, StoredArticle, StoryDecider
from monitor.store.migrations import MIGRATIONS


def _ts(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC)
    return dt.isoformat(timespec="microseconds")


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
        # one connection serves every coroutine: writes take turns, each in its own transaction
        self._write_lock = asyncio.Lock()
        self._source_ids: dict[str, int] = {}
        self._polls: list[tuple[str, tuple[object, ...]]] = []
        # many polls at once: their lookups and new articles go to the database in batches
        self._hashes = Coalescer(self._stored_hashes_of)
        self._additions = Coalescer(self._add_many)

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._write_lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")

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
        if version == len(MIGRATIONS):
            return
        # SQLite's way to change a table: foreign keys off (outside the transaction), rebuild,
        # check every reference before committing, foreign keys on again
        await self._db.execute("PRAGMA foreign_keys = OFF")
        try:
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                await self._db.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _statements(script):  # not executescript: it commits
                        await self._db.execute(statement)
                    async with self._db.execute("PRAGMA foreign_key_check") as cur:
                        broken = await cur.fetchall()
                    if broken:
                        raise StorageError(
                            f"migration {number} broke references: {list(broken)[:3]}"
                        )
                    await self._db.execute(f"PRAGMA user_version = {number}")
                    await self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:
                        await self._db.execute("ROLLBACK")
                    raise
        finally:
            await self._db.execute("PRAGMA foreign_keys = ON")

    async def schema_version(self) -> int:
        async with self._db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def close(self) -> None:
        try:
            await self._additions.wait()
            await self.flush()
        finally:
            await self._db.close()

    # -- sources --------------------------------------------------------------------------

    async def sync_sources(self, sources: Sequence[Source]) -> None:
        await self.flush()
        now = _ts(datetime.now(UTC))
        async with self._transaction() as db:
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
            self._polls.append(_poll_statement(name, record, now))
            if len(self._polls) >= POLL_BUFFER:
                await self.flush()
            return
        await self.flush()
        async with self._transaction() as db:
            await db.execute(*_poll_statement(name, record, now))
            if record.health is not None:
                await db.execute(
                    "UPDATE sources SET health = NULLIF(?, '') WHERE name = ?",
                    (record.health, name),
                )
            await db.executemany(
                """INSERT INTO notices (source, event, message, channel, status, next_attempt,
                     created) VALUES (?, ?, ?, ?, 'pending', ?, ?)""",
                [(name, e, msg, ch, _ts(now), _ts(now)) for e, msg, ch in record.notices],
            )

    async def flush(self) -> None:
        """Write buffered poll records, in order, one statement per kind."""
        if not self._polls:
            return
        polls, self._polls = self._polls, []
        async with self._transaction() as db:
            run: list[tuple[object, ...]] = []
            sql = polls[0][0]
            for statement, params in polls:
                if statement != sql:
                    await db.executemany(sql, run)
                    sql, run = statement, []
                run.append(params)
            await db.executemany(sql, run)

    # -- articles -------------------------------------------------------------------------

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

    async def unseen(self, source: str, identities: Sequence[str]) -> set[str]:
        return set(identities) - set(await self.stored_hashes(source, identities))

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

    async def add_articles(
        self,
        source: str,
        batch: Sequence[tuple[Article, Sequence[Match]]],
        channels_for: Callable[[Match], Sequence[str]],
        now: datetime,
        stories: StoryDecider | None = None,
        deliver_at: Callable[[Match, datetime], datetime] | None = None,
    ) -> AddResult:
        """Store new articles, their matches and alert rows in one transaction, together
        with those of the other polls that store at the same time (``Coalescer``)."""
        if not batch:
            return AddResult(0, 0, 0)
        sid = await self._source_id(source)
        return await self._additions.submit(
            _Addition(source, sid, batch, channels_for, now, stories, deliver_at)
        )

    async def _add_many(self, additions: list[_Addition]) -> list[AddResult]:
        """Several polls' new articles in one transaction, a handful of statements in all."""
        async with self._transaction() as db:
            ids = await _insert_returning(
                db,
                _INSERT_ARTICLE,
                _article_rows(additions),
                "source_id, identity",
            )
            # an article already stored (ids has no entry) is never matched or alerted twice;
            # one stored by this batch belongs to the first poll that brought it
            claimed: set[tuple[int, str]] = set()
            stored: list[int] = []
            found: list[_Found] = []
            for n, add in enumerate(additions):
                mine = 0
                for a, matches in add.batch:
                    key = (add.sid, a.identity)
                    if key not in ids or key in claimed:
                        continue
                    claimed.add(key)
                    mine += 1
                    if matches:
                        found.append(_Found(n, add, ids[key], a, matches, None))
                stored.append(mine)
            counts = await self._store_matches(db, found)
        return [AddResult(stored[n], *counts.get(n, (0, 0))) for n in range(len(additions))]

    async def _store_matches(
        self, db: aiosqlite.Connection, found: Sequence[_Found]
    ) -> dict[int, tuple[int, int]]:
        """Matches of stored articles and their alert rows; the story each alerting article
        starts or joins; evidence of each alerting article. Returns (matches, pending
        alerts) for each request number (``_Found.request``) that had any."""
        candidates: list[StoryRef] | None = None
        rows: list[tuple[_Found, Match, StoryDecision | None, bool]] = []
        alerting: dict[int, tuple[Article, str | None]] = {}
        for f in found:
            live = [m for m in f.matches if m.mode == "live"]
            decision: StoryDecision | None = None
            stories = f.addition.stories
            if live:
                alerting[f.article_id] = (f.article, f.addition.stamp)
                if stories is not None:
                    # one by one: each article may start a story that the next one joins
                    if candidates is None:
                        candidates = await self._recent_stories(f.addition.now, stories.window)
                    decision = await self._place_in_story(
                        f.article, live, f.addition.source, stories, candidates, f.addition.now
                    )
            for m in f.matches:
                rows.append((f, m, decision, m is (live[0] if live else None)))
        match_ids = await _insert_returning(
            db,
            _INSERT_MATCH,
            [
                (
                    f.article_id,
                    m.rule,
                    m.severity,
                    m.score,
                    m.mode,
                    json.dumps(match_to_dict(m), ensure_ascii=False),
                    f.addition.stamp,
                    decision.story_id if decision and m.mode == "live" else None,
                )
                for f, m, decision, _first in rows
            ],
            "article_id, rule",
        )
        alert_rows = []
        counts: dict[int, tuple[int, int]] = {}
        for f, m, decision, first in rows:
            add, note = f.addition, f.note
            stamp = add.stamp
            due = _ts(add.deliver_at(m, add.now)) if add.deliver_at else stamp
            match_id = match_ids[(f.article_id, m.rule)]
            pending = 0
            for channel in add.channels_for(m):
                for kind, status, extra in _alert_rows(m, decision, add.source, first):
                    text = f"{extra}; {note}" if extra and note else (extra or note)
                    alert_rows.append((match_id, channel, status.value, due, stamp, kind, text))
                    pending += status is AlertStatus.PENDING
            matches, alerts = counts.get(f.request, (0, 0))
            counts[f.request] = (matches + 1, alerts + pending)
        if alert_rows:
            await db.executemany(
                """INSERT INTO alerts (match_id, channel, status, next_attempt, created,
                     kind, note) VALUES (?, ?, ?, ?, ?, ?, ?)""",
                alert_rows,
            )
        await _keep_evidence(db, alerting)
        return counts

    async def stored_hashes(self, source: str, identities: Sequence[str]) -> dict[str, str]:
        if not identities:
            return {}
        sid = await self._source_id(source)
        return await self._hashes.submit((sid, list(dict.fromkeys(identities))))

    async def _stored_hashes_of(
        self, requests: list[tuple[int, list[str]]]
    ) -> list[dict[str, str]]:
        """Several polls' lookups in one query (or one per 500 identities)."""
        pairs = [(sid, identity) for sid, identities in requests for identity in identities]
        found: dict[tuple[int, str], str] = {}
        for i in range(0, len(pairs), 500):
            chunk = pairs[i : i + 500]
            rows = await self._db.execute_fetchall(
                "WITH wanted (sid, identity) AS (VALUES "
                + ",".join(["(?, ?)"] * len(chunk))
                + ") SELECT a.source_id, a.identity, a.content_hash FROM wanted "
                "CROSS JOIN articles AS a "
                "ON a.source_id = wanted.sid AND a.identity = wanted.identity",
                [v for pair in chunk for v in pair],
            )
            found.update(((r[0], r[1]), r[2]) for r in rows)
        return [
            {i: found[(sid, i)] for i in identities if (sid, i) in found}
            for sid, identities in requests
        ]

    async def revise_articles(
        self,
        source: str,
        batch: Sequence[tuple[Article, Sequence[Match]]],
        channels_for: Callable[[Match], Sequence[str]],
        now: datetime,
        stories: StoryDecider | None = None,
        deliver_at: Callable[[Match, datetime], datetime] | None = None,
    ) -> AddResult:
        if not batch:
            return AddResult(0, 0, 0)
        sid = await self._source_id(source)
        stamp = _ts(now)
        revised = pending = 0
        addition = _Addition(source, sid, batch, channels_for, now, stories, deliver_at)
        fresh: list[_Found] = []
        async with self._transaction() as db:
            for article, found in batch:
                async with db.execute(
                    "SELECT id, title, text, content_hash FROM articles "
                    "WHERE source_id = ? AND identity = ?",
                    (sid, article.identity),
                ) as cur:
                    old = await cur.fetchone()
                if old is None or old["content_hash"] == article.content_hash:
                    continue
                article_id = int(old["id"])
                await db.execute(
                    """INSERT INTO revisions (article_id, title, text, content_hash, replaced)
                       VALUES (?, ?, ?, ?, ?)""",
                    (article_id, old["title"], old["text"], old["content_hash"], stamp),
                )
                await db.execute(
                    """UPDATE articles SET title = ?, text = ?, summary = ?, url = ?,
                         content_hash = ?, fetched = ? WHERE id = ?""",
                    (
                        article.title,
                        article.text,
                        article.summary,
                        article.url,
                        article.content_hash,
                        stamp,
                        article_id,
                    ),
                )
                revised += 1
                async with db.execute(
                    "SELECT id, rule, mode FROM matches WHERE article_id = ?", (article_id,)
                ) as cur:
                    earlier = list(await cur.fetchall())
                note = edit_note(old["title"], old["text"], article.title, article.text)
                # a rule the new version meets for the first time alerts, showing the edit
                before = {r["rule"] for r in earlier}
                new_rules = [m for m in found if m.rule not in before]
                if new_rules:
                    fresh.append(_Found(0, addition, article_id, article, new_rules, note))
                # an earlier alert whose rule the edited article no longer meets: say so
                still = {m.rule for m in found}
                for r in earlier:
                    if r["mode"] == "live" and r["rule"] not in still:
                        pending += await _edit_notice(db, r["id"], stamp, note)
            matches, alerts = (await self._store_matches(db, fresh)).get(0, (0, 0))
        return AddResult(revised, matches, pending + alerts)

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
                   ON CONFLICT (source_id, url) DO UPDATE SET failures = failures + 1,
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

    async def _recent_stories(self, now: datetime, window: float) -> list[StoryRef]:
        since = _ts(now - timedelta(seconds=window))
        async with self._db.execute(
            "SELECT * FROM stories WHERE last_seen >= ? ORDER BY id", (since,)
        ) as cur:
            return [
                StoryRef(
                    r["id"],
                    bytes(r["signature"]),
                    tuple(json.loads(r["outlets"])),
                    r["followups"],
                    bool(r["escalated"]),
                )
                for r in await cur.fetchall()
            ]

    async def _place_in_story(
        self,
        article: Article,
        live: Sequence[Match],
        source: str,
        stories: StoryDecider,
        candidates: list[StoryRef],
        now: datetime,
    ) -> StoryDecision:
        """Start a story or join one; keep ``candidates`` in step with the database."""
        signature = stories.fingerprint(article)
        decision = stories.decide(signature, source, candidates)
        if decision.story_id is None:
            severity = max((m.severity for m in live), key=SEVERITIES.index)
            cur = await self._db.execute(
                """INSERT INTO stories (signature, title, url, severity, outlets, created,
                     last_seen) VALUES (?, ?, ?, ?, ?, ?, ?)""",
                (
                    signature,
                    article.title,
                    article.url,
                    severity,
                    json.dumps([source]),
                    _ts(now),
                    _ts(now),
                ),
            )
            story_id = cur.lastrowid
            assert story_id is not None
            candidates.append(StoryRef(story_id, signature, (source,), 0, False))
            return StoryDecision(story_id, new_outlet=True, outlets=1, created=True)
        k = next(i for i, c in enumerate(candidates) if c.id == decision.story_id)
        old = candidates[k]
        outlets = old.outlets + ((source,) if decision.new_outlet else ())
        candidates[k] = StoryRef(
            old.id,
            old.signature,
            outlets,
            old.followups + decision.followup,
            old.escalated or decision.escalate,
        )
        await self._db.execute(
            """UPDATE stories SET last_seen = ?, outlets = ?, followups = ?, escalated = ?
               WHERE id = ?""",
            (
                _ts(now),
                json.dumps(list(outlets)),
                candidates[k].followups,
                candidates[k].escalated,
                old.id,
            ),
        )
        return decision

    async def defer(self, alert_ids: Sequence[int], until: datetime) -> None:
        async with self._transaction() as db:
            await db.executemany(
                "UPDATE alerts SET next_attempt = ? WHERE id = ? AND status = 'pending'",
                [(_ts(until), i) for i in alert_ids],
            )

    async def retry_alert(self, alert_id: int, now: datetime) -> bool:
        async with self._transaction() as db:
            cur = await db.execute(
                "UPDATE alerts SET status = 'pending', next_attempt = ? WHERE id = ? "
                "AND status != 'shadow'",
                (_ts(now), alert_id),
            )
            return cur.rowcount == 1

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
        SELECT al.*, m.explanation, m.story_id, a.title, a.url, a.published, s.name AS source,
          (SELECT p.external_id FROM alerts p JOIN matches pm ON pm.id = p.match_id
            WHERE pm.story_id = m.story_id AND p.channel = al.channel AND p.kind = 'alert'
              AND p.id != al.id ORDER BY p.id LIMIT 1) AS thread_ref,
          (SELECT st.title FROM stories st WHERE st.id = m.story_id) AS story_title
        FROM alerts al
        JOIN matches m ON m.id = al.match_id
        JOIN articles a ON a.id = m.article_id
        JOIN sources s ON s.id = a.source_id
    """

    async def due_alerts(self, now: datetime, limit: int = 100) -> list[Alert]:
        async with self._db.execute(
            self._ALERT_SELECT
            + """ WHERE al.status = 'pending' AND al.next_attempt <= ?
                AND NOT (al.kind != 'alert' AND EXISTS (
                  SELECT 1 FROM alerts p JOIN matches pm ON pm.id = p.match_id
                  WHERE pm.story_id = m.story_id AND p.channel = al.channel
                    AND p.kind = 'alert' AND p.status = 'pending'))
                ORDER BY al.id LIMIT ?""",
            (_ts(now), limit),
        ) as cur:
            return [_alert(r) for r in await cur.fetchall()]

    async def due_notices(self, now: datetime, limit: int = 100) -> list[Notice]:
        async with self._db.execute(
            """SELECT * FROM notices WHERE status = 'pending' AND next_attempt <= ?
               ORDER BY id LIMIT ?""",
            (_ts(now), limit),
        ) as cur:
            return [
                Notice(
                    id=r["id"],
                    source=r["source"],
                    event=r["event"],
                    message=r["message"],
                    channel=r["channel"],
                    created=_dt(r["created"]) or now,
                    attempts=r["attempts"],
                )
                for r in await cur.fetchall()
            ]

    async def record_notice(
        self, notice_id: int, delivery: Delivery, now: datetime, next_attempt: datetime | None
    ) -> None:
        status = "sent" if delivery.ok else ("pending" if next_attempt else "failed")
        async with self._transaction() as db:
            await db.execute(
                """UPDATE notices SET status = ?, attempts = attempts + 1,
                     next_attempt = COALESCE(?, next_attempt), last_error = ?,
                     sent = CASE WHEN ? THEN ? ELSE sent END WHERE id = ?""",
                (
                    status,
                    _ts(next_attempt),
                    None if delivery.ok else delivery.reason,
                    delivery.ok,
                    _ts(now),
                    notice_id,
                ),
            )

    async def record_delivery(
        self, alert_id: int, delivery: Delivery, now: datetime, next_attempt: datetime | None
    ) -> None:
        if delivery.ok:
            status, when = AlertStatus.SENT.value, None
        elif next_attempt is not None:
            status, when = AlertStatus.PENDING.value, _ts(next_attempt)
        else:
            status, when = AlertStatus.FAILED.value, None
        async with self._transaction() as db:
            await db.execute(
                """UPDATE alerts SET status = ?, attempts = attempts + 1,
                     next_attempt = COALESCE(?, next_attempt),
                     last_error = ?, sent = CASE WHEN ? THEN ? ELSE sent END,
                     external_id = COALESCE(?, external_id)
                   WHERE id = ?""",
                (
                    status,
                    when,
                    None if delivery.ok else delivery.reason,
                    delivery.ok,
                    _ts(now),
                    delivery.external_id,
                    alert_id,
                ),
            )
            await db.execute(
                "INSERT INTO deliveries (alert_id, at, ok, reason) VALUES (?, ?, ?, ?)",
                (alert_id, _ts(now), delivery.ok, delivery.reason or "ok"),
            )

    async def get_alert(self, alert_id: int) -> Alert | None:
        async with self._db.execute(self._ALERT_SELECT + " WHERE al.id = ?", (alert_id,)) as cur:
            row = await cur.fetchone()
        return _alert(row) if row is not None else None

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

    async def prune(self, before: datetime) -> int:
        cutoff = _ts(before)
        async with self._transaction() as db:
            cur = await db.execute(
                """UPDATE articles SET text = '', summary = '', pruned = 1
                   WHERE fetched < ? AND pruned = 0""",
                (cutoff,),
            )
            await db.execute("DELETE FROM revisions WHERE replaced < ?", (cutoff,))
            # a failing link not tried again since (it left its listing page)
            await db.execute("DELETE FROM link_failures WHERE next_try < ?", (cutoff,))
            return int(cur.rowcount)

    async def compact(self) -> None:
        async with self._write_lock:
            try:
                async with self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur:
                    await cur.fetchall()
                await self._db.execute("VACUUM")
            except sqlite3.Error as e:  # a reader busy on the connection: try again later
                raise StorageError(f"compaction postponed: {e}") from e

    async def article_count(self) -> int:
        async with self._db.execute("SELECT count(*) FROM articles") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def alert_counts(self) -> dict[str, int]:
        async with self._db.execute("SELECT status, count(*) FROM alerts GROUP BY status") as cur:
            return {r[0]: int(r[1]) for r in await cur.fetchall()}

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
                await self._db.execute("BEGIN IMMEDIATE")
                await self._db.execute("ROLLBACK")
        except sqlite3.Error as e:
            return f"database not writable: {e}"
        return None


@dataclass(frozen=True, slots=True)
class _Addition:
    """One poll's new (or edited) articles, and how their alerts are made."""

    source: str
    sid: int
    batch: Sequence[tuple[Article, Sequence[Match]]]
    channels_for: Callable[[Match], Sequence[str]]
    now: datetime
    stories: StoryDecider | None
    deliver_at: Callable[[Match, datetime], datetime] | None
    #: ``now`` as stored (written once per match and alert row)
    stamp: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "stamp", _ts(self.now))


@dataclass(frozen=True, slots=True)
class _Found:
    """A stored article's matches to store: which request of the batch it came with, its
    row id, and a note for its alerts (what an edit changed)."""

    request: int
    addition: _Addition
    article_id: int
    article: Article
    matches: Sequence[Match]
    note: str | None


_INSERT_ARTICLE = """INSERT INTO articles (source_id, identity, url, guid, title, text,
                         published, fetched, content_hash, summary) VALUES {values}
                       ON CONFLICT (source_id, identity) DO NOTHING RETURNING id, {key}"""
_INSERT_MATCH = """INSERT INTO matches (article_id, rule, severity, score, mode, explanation,
                     created, story_id) VALUES {values} RETURNING id, {key}"""
#: rows per multi-row INSERT (SQLite allows 32,766 bound values in one statement)
_ROWS_PER_INSERT = 500


#: poll records buffered before they are written together
POLL_BUFFER = 256

_POLL_REREAD = """UPDATE sources SET last_attempt = ?, last_success = ?, failures = 0,
     last_error = NULL, next_due = ?, etag = NULL, last_modified = NULL,
     body_hash = NULL, fetch_url = COALESCE(?, fetch_url),
     detected = COALESCE(?, detected),
     publish_interval = COALESCE(?, publish_interval),
     last_new = COALESCE(?, last_new)
   WHERE name = ?"""
_POLL_OK = """UPDATE sources SET last_attempt = ?, last_success = ?, failures = 0,
     last_error = NULL, next_due = ?,
     etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified),
     body_hash = COALESCE(?, body_hash), fetch_url = COALESCE(?, fetch_url),
     detected = COALESCE(?, detected),
     publish_interval = COALESCE(?, publish_interval),
     last_new = COALESCE(?, last_new)
   WHERE name = ?"""
_POLL_FAILED = """UPDATE sources SET last_attempt = ?, failures = failures + 1,
     last_error = ?, next_due = ?, fetch_url = COALESCE(?, fetch_url),
     gone = CASE WHEN ? THEN ? ELSE gone END
   WHERE name = ?"""


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
        )
    return _POLL_FAILED, (at, record.error, due, record.url, record.gone, at, name)


async def _edit_notice(
    db: aiosqlite.Connection, match_id: int, stamp: str | None, note: str
) -> int:
    """One ``edit`` notice on each channel the match alerted on; how many were added."""
    async with db.execute(
        "SELECT DISTINCT channel FROM alerts WHERE match_id = ? AND kind = 'alert'", (match_id,)
    ) as cur:
        channels = [c[0] for c in await cur.fetchall()]
    added = 0
    for channel in channels:
        cur2 = await db.execute(
            """INSERT INTO alerts (match_id, channel, status, next_attempt, created, kind, note)
               VALUES (?, ?, 'pending', ?, ?, 'edit', ?)
               ON CONFLICT (match_id, channel, kind) DO NOTHING""",
            (match_id, channel, stamp, stamp, f"the matched text is gone after an edit; {note}"),
        )
        added += cur2.rowcount == 1
    return added


async def _keep_evidence(
    db: aiosqlite.Connection, articles: dict[int, tuple[Article, str | None]]
) -> None:
    """Keep each alerting article as it is now (and its page, compressed): articles get
    edited or pulled after the fact."""
    if articles:
        await db.executemany(
            """INSERT INTO evidence (article_id, content_hash, title, text, raw_gzip, captured)
               VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (article_id, content_hash) DO NOTHING""",
            [
                (
                    article_id,
                    a.content_hash,
                    a.title,
                    a.text,
                    gzip.compress(a.raw_html, mtime=0) if a.raw_html else None,
                    stamp,
                )
                for article_id, (a, stamp) in articles.items()
            ],
        )


async def _insert_returning(
    db: aiosqlite.Connection, sql: str, rows: Sequence[tuple[object, ...]], key: str
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


def _article_rows(additions: Sequence[_Addition]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    fetched: datetime | None = None
    fetched_ts: str | None = None
    for add in additions:
        for a, _matches in add.batch:
            if a.fetched is not fetched:  # the same for a whole poll, as a rule
                fetched, fetched_ts = a.fetched, _ts(a.fetched)
            rows.append(
                (
                    add.sid,
                    a.identity,
                    a.url,
                    a.guid,
                    a.title,
                    a.text,
                    _ts(a.published),
                    fetched_ts,
                    a.content_hash,
                    a.summary,
                )
            )
    return rows


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
            summary=r["summary"],
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
        kind=r["kind"],
        story_id=r["story_id"],
        note=r["note"],
        thread_ref=r["thread_ref"],
        story_title=r["story_title"],
    )


def _alert_rows(
    m: Match, decision: StoryDecision | None, source: str, first: bool
) -> list[tuple[str, AlertStatus, str | None]]:
    """(kind, status, note) of the alert rows a match gets on each channel."""
    if m.mode == "shadow":
        return [("alert", AlertStatus.SHADOW, None)]
    if decision is None or decision.created:
        return [("alert", AlertStatus.PENDING, None)]
    rows: list[tuple[str, AlertStatus, str | None]] = []
    if first and decision.followup:
        rows.append(
            (
                "followup",
                AlertStatus.PENDING,
                f"also reported by {source} ({decision.outlets} outlets)",
            )
        )
    if first and decision.escalate:
        rows.append(
            ("escalation", AlertStatus.PENDING, f"now reported by {decision.outlets} outlets")
        )
    return rows


async def open_store(url: str) -> SQLiteStore:
    """The store for a ``storage.url``."""
    return await SQLiteStore.open(url)
