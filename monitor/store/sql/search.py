"""Full-text search over stored articles: SQLite's FTS5, PostgreSQL's text search.

The index is not written as articles are stored: indexing twenty thousand articles costs
SQLite about 0.7 s, which a first pass over a thousand feeds must not pay. It catches up
afterwards, in batches, with what was stored since it last did (the daemon's maintenance, every
minute), and before every search (a search sees every article stored until then). An article
pruned (retention) or edited leaves the index, and an edited one comes back with its new text.
A backend gives its SQL (``_SEARCH_*``); the watermark is kept in ``state``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from monitor.store.sql.base import Base, Connection

#: articles indexed in one transaction at most (a catch-up holds the writer this long)
INDEX_BATCH = 2000
_KEY = "search_indexed"
_WORD = re.compile(r"\w+", re.UNICODE)


class Search(Base):
    #: index the articles whose ids are in (?, ?]
    _SEARCH_INDEX = """INSERT INTO articles_fts (rowid, title, text)
                       SELECT id, title, text FROM articles WHERE id > ? AND id <= ?"""
    #: ids to look back over at each catch-up: where an article's id can be taken before an
    #: earlier id's transaction commits (PostgreSQL's nodes), those ids come in late
    _SEARCH_LOOKBACK = 0
    #: drop articles from the index: ``{ids}``, a list of placeholders
    _SEARCH_DROP = "DELETE FROM articles_fts WHERE rowid IN ({ids})"
    #: the ids of the articles that hold the words (one placeholder: ``search_words``)
    _SEARCH_IDS = "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?"
    #: the same, newest first, at most ``?``
    _SEARCH_NEWEST = _SEARCH_IDS + " ORDER BY rowid DESC LIMIT ?"

    @staticmethod
    def search_words(text: str) -> str | None:
        """What the backend's search is given for a reader's words (None: no word in them):
        for FTS5 each word quoted, all of them required."""
        words = _WORD.findall(text)
        return " ".join(f'"{w}"' for w in words) if words else None

    async def index_articles(self, limit: int = INDEX_BATCH) -> int:
        """Index up to ``limit`` articles stored since the last catch-up; how many."""
        async with self._transaction() as db:
            done = await _watermark(db)
            rows = await db.execute_fetchall(
                "SELECT count(*), max(id) FROM "
                "(SELECT id FROM articles WHERE id > ? ORDER BY id LIMIT ?) AS batch",
                (done, limit),
            )
            count, upto = next(iter(rows))
            if not count:
                return 0
            await db.execute(self._SEARCH_INDEX, (max(0, done - self._SEARCH_LOOKBACK), upto))
            await db.execute(
                """INSERT INTO state (key, value) VALUES (?, ?)
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value""",
                (_KEY, str(upto)),
            )
        return int(count)

    async def index_everything(self) -> int:
        """Catch the index up with every stored article (before a search)."""
        total = 0
        while n := await self.index_articles():
            total += n
        return total

    async def _reindex(self, db: Connection, ids: Sequence[int], again: bool) -> None:
        """In the caller's transaction: articles whose text changed leave the index; with
        ``again``, those already indexed come back with their text of now."""
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            await db.execute(self._SEARCH_DROP.format(ids=",".join("?" * len(chunk))), chunk)
        if not again or not ids:
            return
        done = await _watermark(db)
        for i in ids:
            if i <= done:
                await db.execute(self._SEARCH_INDEX, (i - 1, i))


async def _watermark(db: Connection) -> int:
    rows = await db.execute_fetchall("SELECT value FROM state WHERE key = ?", (_KEY,))
    found = list(rows)
    return int(found[0][0]) if found else 0
