"""What only the SQLite store does: WAL mode, its own migrations from old schemas. What every
store does is in test_store_contract.py."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import pytest

from monitor.models import ActorMention, Article, Match, Source, Span
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
