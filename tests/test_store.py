"""SQLite storage: migrations, uniqueness, the outbox written with its article."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest

from monitor.alert.planner import AlertPlanner
from monitor.errors import StorageError
from monitor.models import ActorMention, AlertStatus, Article, Delivery, Match, Source, Span
from monitor.parse.feeds import make_article
from monitor.store import PollRecord
from monitor.store.migrations import MIGRATIONS
from monitor.store.sqlite import SQLiteStore

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def article(identity: str, title: str = "t") -> Article:
    return Article(
        "desk",
        identity,
        f"https://x.example/{identity}",
        identity,
        title,
        "body",
        NOW,
        NOW,
        "h" + identity,
    )


MATCH = Match(
    "r",
    "high",
    1.5,
    (ActorMention("Hezbollah", ("Hizbollah",)),),
    ("clash",),
    (Span("body", 0, 4, "body", ((0, 4),)),),
)


@pytest.fixture
async def store(tmp_path: Path):
    s = await SQLiteStore.open(f"sqlite:///{tmp_path}/m.db")
    await s.sync_sources([Source("desk", "https://x.example/feed", 60)])
    yield s
    await s.close()


async def test_schema_is_migrated_and_in_wal_mode(store: SQLiteStore, tmp_path: Path):
    assert await store.schema_version() == len(MIGRATIONS)
    async with aiosqlite.connect(tmp_path / "m.db") as db, db.execute("PRAGMA journal_mode") as cur:
        assert (await cur.fetchone())[0] == "wal"


async def test_same_item_is_never_stored_twice(store: SQLiteStore):
    first = await store.add_articles(
        "desk", [(article("1"), [MATCH])], NOW, AlertPlanner(lambda m: ["c"])
    )
    again = await store.add_articles(
        "desk", [(article("1"), [MATCH])], NOW, AlertPlanner(lambda m: ["c"])
    )
    assert (first.new_articles, first.matches, first.alerts) == (1, 1, 1)
    assert (again.new_articles, again.matches, again.alerts) == (0, 0, 0)
    assert len(await store.articles()) == 1
    assert await store.unseen("desk", ["1", "2"]) == {"2"}


async def test_alert_rows_round_trip_and_delivery_is_recorded(store: SQLiteStore):
    await store.add_articles(
        "desk", [(article("1", "Title"), [MATCH])], NOW, AlertPlanner(lambda m: ["a", "b"])
    )
    due = await store.due_alerts(NOW)
    assert [a.channel for a in due] == ["a", "b"]
    assert due[0].match == MATCH and due[0].article_title == "Title"
    await store.record_delivery(due[0].id, Delivery(ok=True), NOW, None)
    await store.record_delivery(
        due[1].id,
        Delivery(ok=False, retry=True, reason="http 503"),
        NOW,
        NOW + timedelta(minutes=5),
    )
    assert [a.channel for a in await store.due_alerts(NOW)] == []
    assert [a.channel for a in await store.due_alerts(NOW + timedelta(minutes=6))] == ["b"]
    sent = await store.alerts(status="sent")
    assert [(a.channel, a.status, a.attempts) for a in sent] == [("a", AlertStatus.SENT, 1)]
    pending = await store.alerts(status="pending")
    assert pending[0].last_error == "http 503"


async def test_shadow_matches_record_but_never_send(store: SQLiteStore):
    shadow = Match(**{**{f: getattr(MATCH, f) for f in MATCH.__slots__}, "mode": "shadow"})
    result = await store.add_articles(
        "desk", [(article("1"), [shadow])], NOW, AlertPlanner(lambda m: ["c"])
    )
    assert result.alerts == 0
    assert await store.due_alerts(NOW) == []
    assert [a.status for a in await store.alerts(rule="r")] == [AlertStatus.SHADOW]


async def test_poll_state_is_kept(store: SQLiteStore):
    await store.record_poll("desk", PollRecord(ok=False, next_due=NOW, error="timeout"), NOW)
    await store.record_poll("desk", PollRecord(ok=False, next_due=NOW, error="http 500"), NOW)
    state = await store.source_state("desk")
    assert (state.failures, state.last_error) == (2, "http 500")
    await store.record_poll(
        "desk", PollRecord(ok=True, next_due=NOW, etag='"e"', url="https://moved.example/feed"), NOW
    )
    state = await store.source_state("desk")
    assert (state.failures, state.last_error, state.etag, state.url) == (
        0,
        None,
        '"e"',
        "https://moved.example/feed",
    )
    assert state.last_success == NOW


async def test_removed_sources_leave_status(store: SQLiteStore):
    await store.sync_sources([Source("other", "https://o.example/", 60)])
    assert [s.name for s in await store.source_states()] == ["other"]


async def test_newer_schema_is_refused(tmp_path: Path):
    path = tmp_path / "future.db"
    async with aiosqlite.connect(path) as db:
        await db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    with pytest.raises(StorageError, match="newer than this monitor"):
        await SQLiteStore.open(f"sqlite:///{path}")


async def test_concurrent_writers_on_one_store_do_not_collide(store: SQLiteStore):
    import asyncio

    sources = [Source(f"s{i}", f"https://x.example/{i}", 60) for i in range(20)]
    await store.sync_sources(sources)

    async def write(i: int) -> None:
        name = f"s{i}"
        batch = [
            (Article(name, f"{name}-{k}", "", None, "t", "b", NOW, NOW, "h"), [MATCH])
            for k in range(5)
        ]
        await store.add_articles(name, batch, NOW, AlertPlanner(lambda m: ["c"]))
        await store.record_poll(name, PollRecord(ok=True, next_due=NOW), NOW)

    await asyncio.gather(*(write(i) for i in range(20)))
    assert len(await store.articles(limit=1000)) == 100
    assert len(await store.due_alerts(NOW, limit=1000)) == 100
    assert all(s.last_success == NOW for s in await store.source_states())


async def test_upgrade_from_schema_1_keeps_alerts_and_deliveries(tmp_path: Path):
    path = tmp_path / "old.db"
    async with aiosqlite.connect(path) as db:
        await db.executescript(MIGRATIONS[0] + "\nPRAGMA user_version = 1;")
        await db.executescript("""
            PRAGMA foreign_keys = ON;
            INSERT INTO sources (id, name, url, fetch_url, created)
                VALUES (1, 'desk', 'u', 'u', 't');
            INSERT INTO articles (id, source_id, identity, url, title, text, fetched, content_hash)
                VALUES (1, 1, 'i', 'u', 'T', 'x', '2026-11-22T00:00:00+00:00', 'h');
            INSERT INTO matches (id, article_id, rule, severity, score, mode, explanation, created)
                VALUES (1, 1, 'r', 'high', 1.0, 'live', '{}', 't');
            INSERT INTO alerts (id, match_id, channel, status, attempts, next_attempt, created)
                VALUES (1, 1, 'hook', 'sent', 1, 't', 't');
            INSERT INTO deliveries (alert_id, at, ok, reason) VALUES (1, 't', 1, 'ok');
        """)
        await db.commit()
    store = await SQLiteStore.open(f"sqlite:///{path}")
    try:
        assert await store.schema_version() == len(MIGRATIONS)
    finally:
        await store.close()
    async with aiosqlite.connect(path) as db:
        async with db.execute("SELECT id, channel, status, kind FROM alerts") as cur:
            assert await cur.fetchall() == [(1, "hook", "sent", "alert")]
        async with db.execute("SELECT alert_id, reason FROM deliveries") as cur:
            assert await cur.fetchall() == [(1, "ok")]
        async with db.execute("PRAGMA foreign_key_check") as cur:
            assert await cur.fetchall() == []


async def test_articles_without_matches_are_counted_once(store: SQLiteStore):
    batch = [(article(str(i)), []) for i in range(5)]
    first = await store.add_articles("desk", batch, NOW, AlertPlanner(lambda m: ["c"]))
    again = await store.add_articles(
        "desk", [*batch, (article("new"), [])], NOW, AlertPlanner(lambda m: [])
    )
    assert (first.new_articles, again.new_articles) == (5, 1)
    assert len(await store.articles(limit=100)) == 6


async def test_pruned_articles_keep_their_identity_so_nothing_old_is_stored_again(
    tmp_path: Path,
):
    store = await SQLiteStore.open(f"sqlite:///{tmp_path}/p.db")
    try:
        await store.sync_sources([Source("desk", "https://desk.example/feed", 900)])
        old = make_article("desk", "urn:1", "https://desk.example/1", "Old", "Old text.", None, NOW)
        await store.add_articles("desk", [(old, [])], NOW, AlertPlanner(lambda m: []))
        later = NOW + timedelta(days=100)
        assert await store.prune(later - timedelta(days=90)) == 1
        assert await store.prune(later - timedelta(days=90)) == 0  # once
        [stored] = await store.articles()
        assert stored.article.text == "" and stored.article.identity == "urn:1"
        assert await store.unseen("desk", ["urn:1", "urn:2"]) == {"urn:2"}
        await store.compact()
        assert await store.check_writable() is None
    finally:
        await store.close()
