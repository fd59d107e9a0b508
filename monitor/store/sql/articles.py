"""Articles: what is stored (a unique identity per source decides what is new), their
edits (the old version kept as a revision), and what the planner makes of their matches,
written in the same transaction; retention."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from monitor.batching import Coalescer
from monitor.models import (
    AlertStatus,
    Article,
    Match,
    StoryRef,
)
from monitor.plan import Earlier, Edit, Stored
from monitor.store import AddResult, Planner, PollRecord, StoredArticle
from monitor.store.sql.base import Connection, _dt, _insert_returning, _ts
from monitor.store.sql.plans import recent_stories, write_plan
from monitor.store.sql.search import Search
from monitor.store.sql.sources import Sources, write_polls


class Articles(Sources, Search):
    """Articles build on sources: a poll's articles are stored with its record."""

    _hashes: Coalescer[tuple[int, list[str]], dict[str, str]]
    _additions: Coalescer[_Addition, AddResult]

    async def unseen(self, source: str, identities: Sequence[str]) -> set[str]:
        return set(identities) - set(await self.stored_hashes(source, identities))

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
                # the first row says what type the ids are (a server database asks)
                "WITH wanted (sid, identity) AS (VALUES (CAST(? AS INTEGER), ?)"
                + ",(?, ?)" * (len(chunk) - 1)
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

    async def add_articles(
        self,
        source: str,
        batch: Sequence[tuple[Article, Sequence[Match]]],
        now: datetime,
        planner: Planner,
        record: PollRecord | None = None,
    ) -> AddResult:
        """Store new articles and, in the same transaction, what the planner makes of their
        matches and ``record``, the poll's outcome; together with the other polls that store
        at the same time (``Coalescer``). A poll whose lease (``record.lease``) another node
        has taken over stores nothing, neither articles nor record (that node polls the
        source now)."""
        if not batch:
            if record is not None:
                await self.record_poll(source, record, now)
            return AddResult(0, 0, 0)
        sid = await self._source_id(source)
        return await self._additions.submit(_Addition(source, sid, batch, now, planner, record))

    async def _add_many(self, additions: list[_Addition]) -> list[AddResult]:
        """Several polls' new articles in one transaction, a handful of statements in all."""
        with self._buffer_taken() as buffered:
            return await self._add_taken(additions, buffered)

    async def _add_taken(
        self, additions: list[_Addition], buffered: list[tuple[str, PollRecord, datetime]]
    ) -> list[AddResult]:
        async with self._transaction() as db:
            lost = await _lost_leases(db, [a.lease for a in additions], self._LOCK_ROWS)
            every = additions
            additions = [a for n, a in enumerate(every) if n not in lost]
            # the polls' records first (a record buffered earlier before a later one)
            await write_polls(
                db,
                buffered + [(a.source, a.record, a.now) for a in additions if a.record is not None],
            )
            ids = await _insert_returning(
                db, _INSERT_ARTICLE, _article_rows(additions), "source_id, identity"
            )
            # an article already stored (ids has no entry) is never matched or alerted twice;
            # one stored by this batch belongs to the first poll that brought it
            claimed: set[tuple[int, str]] = set()
            stored: list[int] = []
            found: list[tuple[int, Stored]] = []
            for n, add in enumerate(additions):
                mine = 0
                for a, matches in add.batch:
                    key = (add.sid, a.identity)
                    if key not in ids or key in claimed:
                        continue
                    claimed.add(key)
                    mine += 1
                    if matches:
                        found.append((n, Stored(ids[key], a, add.source, matches, add.now)))
                stored.append(mine)
            counts = await _planned(db, additions, found, self._STORY_LOCK)
        results = iter(
            [AddResult(stored[n], *counts.get(n, (0, 0, 0))) for n in range(len(additions))]
        )
        # a poll whose lease was lost stores nothing: the node that holds it now polls
        return [AddResult(0, 0, 0) if n in lost else next(results) for n in range(len(every))]

    async def revise_articles(
        self,
        source: str,
        batch: Sequence[tuple[Article, Sequence[Match]]],
        now: datetime,
        planner: Planner,
        lease: str | None = None,
    ) -> AddResult:
        """Store edited versions of stored articles (the old version becomes a revision) and
        what the planner makes of the edit; nothing when ``lease``, the poll's claim on the
        source, was taken over by another node."""
        if not batch:
            return AddResult(0, 0, 0)
        sid = await self._source_id(source)
        stamp = _ts(now)
        edits: list[Edit] = []
        async with self._transaction() as db:
            if await _lost_leases(db, [(sid, lease)], self._LOCK_ROWS):
                return AddResult(0, 0, 0)
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
                await self._reindex(db, [article_id], again=True)
                stored = Stored(article_id, article, source, found, now)
                earlier = await _earlier_matches(db, article_id)
                edits.append(Edit(stored, old["title"], old["text"], earlier))
            stories = planner.needs_stories([e.stored for e in edits])
            if stories and self._STORY_LOCK:
                await db.execute(self._STORY_LOCK)
            recent = await recent_stories(db, now, planner.window) if stories else []
            plan = planner.plan_edits(edits, recent)
            written = await write_plan(db, plan)
        alerted = sum(
            any(a.status is AlertStatus.PENDING for a in pm.alerts) for pm in plan.matches
        )
        return AddResult(len(edits), len(plan.matches), written.pending + written.notices, alerted)

    _ARTICLE_SELECT = """
        SELECT a.*, s.name AS source,
          (SELECT group_concat(rule, ',') FROM matches m WHERE m.article_id = a.id) AS rules
        FROM articles a JOIN sources s ON s.id = a.source_id
    """

    async def articles(self, limit: int = 20) -> list[StoredArticle]:
        """The newest stored articles, by publication (by fetch where the date is unknown)."""
        async with self._db.execute(
            self._ARTICLE_SELECT
            + " ORDER BY COALESCE(a.published, a.fetched) DESC, a.id DESC LIMIT ?",
            (limit,),
        ) as cur:
            return [_stored(r) for r in await cur.fetchall()]

    async def search_articles(self, text: str, limit: int = 20) -> list[StoredArticle]:
        """The newest stored articles that hold every word of ``text`` (the index caught up
        first: ``store.sql.search``)."""
        words = self.search_words(text)
        if words is None:
            return []
        await self.index_everything()
        newest = await self._db.execute_fetchall(self._SEARCH_NEWEST, (words, limit))
        ids = [int(r[0]) for r in newest]
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        sql = f"{self._ARTICLE_SELECT} WHERE a.id IN ({marks}) ORDER BY a.id DESC"
        async with self._db.execute(sql, ids) as cur:
            return [_stored(r) for r in await cur.fetchall()]

    async def article(self, article_id: int) -> StoredArticle | None:
        """The stored article of this id (None: no such article)."""
        async with self._db.execute(self._ARTICLE_SELECT + " WHERE a.id = ?", (article_id,)) as cur:
            row = await cur.fetchone()
        return _stored(row) if row is not None else None

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

    async def prune(self, before: datetime) -> int:
        cutoff = _ts(before)
        async with self._transaction() as db:
            pruned = await db.execute_fetchall(
                "SELECT id FROM articles WHERE fetched < ? AND pruned = 0", (cutoff,)
            )
            await self._reindex(db, [int(r[0]) for r in pruned], again=False)
            cur = await db.execute(
                """UPDATE articles SET text = '', summary = '', pruned = 1
                   WHERE fetched < ? AND pruned = 0""",
                (cutoff,),
            )
            await db.execute("DELETE FROM revisions WHERE replaced < ?", (cutoff,))
            # a failing link not tried again since (it left its listing page)
            await db.execute("DELETE FROM link_failures WHERE next_try < ?", (cutoff,))
            return int(cur.rowcount)

    async def article_count(self) -> int:
        async with self._db.execute("SELECT count(*) FROM articles") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0


_INSERT_ARTICLE = """INSERT INTO articles (source_id, identity, url, guid, title, text,
                         published, fetched, content_hash, summary) VALUES {values}
                       ON CONFLICT (source_id, identity) DO NOTHING RETURNING id, {key}"""


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


@dataclass(frozen=True, slots=True)
class _Addition:
    """One poll's new articles, and who plans what they become."""

    source: str
    sid: int
    batch: Sequence[tuple[Article, Sequence[Match]]]
    now: datetime
    planner: Planner
    #: the poll's outcome, written with its articles (None: recorded apart)
    record: PollRecord | None = None

    @property
    def lease(self) -> tuple[int, str | None]:
        """The source and the poll's lease on it (None: an unleased poll, ``once``)."""
        return self.sid, self.record.lease if self.record is not None else None


async def _lost_leases(
    db: Connection, leases: Sequence[tuple[int, str | None]], lock_rows: str = ""
) -> set[int]:
    """Of these (source, lease) of polls, those whose lease is no longer the source's
    (another node took it over, and may have polled it since). ``lock_rows``: the sources'
    rows stay locked until the transaction ends, so that no node claims them in between
    (PostgreSQL: FOR UPDATE; SQLite has one writer at a time)."""
    leased = {sid for sid, lease in leases if lease is not None}
    if not leased:
        return set()
    marks = ",".join("?" * len(leased))
    rows = await db.execute_fetchall(
        f"SELECT id, lease FROM sources WHERE id IN ({marks}) ORDER BY id{lock_rows}",
        sorted(leased),
    )
    held = {int(r[0]): r[1] for r in rows}
    return {
        n for n, (sid, lease) in enumerate(leases) if lease is not None and held.get(sid) != lease
    }


async def _planned(
    db: Connection,
    additions: Sequence[_Addition],
    found: Sequence[tuple[int, Stored]],
    story_lock: str = "",
) -> dict[int, tuple[int, int, int]]:
    """The plans for stored articles' matches, written: (matches, pending alert rows, alerts)
    for each addition that had any. Additions that share a planner are planned together, so that an
    article may join a story another poll of the batch started."""
    counts: dict[int, tuple[int, int, int]] = {}
    groups: list[tuple[Planner, list[tuple[int, Stored]]]] = []
    for n, s in found:
        planner = additions[n].planner
        if not groups or groups[-1][0] is not planner:
            groups.append((planner, []))
        groups[-1][1].append((n, s))
    for planner, members in groups:
        stored = [s for _n, s in members]
        recent: list[StoryRef] = []
        if planner.needs_stories(stored):
            if story_lock:  # one node at a time reads and places stories
                await db.execute(story_lock)
            recent = await recent_stories(db, stored[0].at, planner.window)
        plan = planner.plan(stored, recent)
        await asyncio.sleep(0)  # a pass's batch is big: planning and writing, two loop steps
        await write_plan(db, plan)
        request = {s.article_id: n for n, s in members}
        for pm in plan.matches:
            n = request[pm.article_id]
            matches, pending, alerted = counts.get(n, (0, 0, 0))
            rows = sum(a.status is AlertStatus.PENDING for a in pm.alerts)
            counts[n] = (matches + 1, pending + rows, alerted + (rows > 0))
    return counts


async def _earlier_matches(db: Connection, article_id: int) -> list[Earlier]:
    """An article's matches before an edit, each with the channels it alerted on."""
    async with db.execute(
        """SELECT m.id, m.rule, m.mode,
             (SELECT group_concat(DISTINCT al.channel) FROM alerts al
               WHERE al.match_id = m.id AND al.kind = 'alert') AS channels
           FROM matches m WHERE m.article_id = ?""",
        (article_id,),
    ) as cur:
        rows = await cur.fetchall()
    return [
        Earlier(int(r["id"]), r["rule"], r["mode"], tuple(sorted(_channels(r["channels"]))))
        for r in rows
    ]


def _channels(joined: str | None) -> set[str]:
    return set((joined or "").split(",")) - {""}
