"""What a desk reads: the alert lists (``monitor alerts``, the console's alerts found by what
they are about), a story's every row and its texts as they were, the verdicts on a page's
articles, and each source's activity."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from monitor.desk import Verdict
from monitor.models import Alert
from monitor.store import AlertFilter, SourceActivity, Version
from monitor.store.sql.base import _dt, _ts
from monitor.store.sql.desk import _verdict
from monitor.store.sql.outbox import _alert
from monitor.store.sql.search import Search


class Browse(Search):
    _ALERT_SELECT: str  # (``Outbox``'s)

    async def alerts(
        self,
        limit: int = 20,
        status: str | None = None,
        rule: str | None = None,
        by_alert: bool = False,
    ) -> list[Alert]:
        """The newest alert rows (one per channel), ``limit`` of them; ``by_alert``: every
        channel's row of the ``limit`` newest alerts (an alert: one match's message of one
        kind, on whichever channels it went to). Shadow rules' records included."""
        if by_alert:
            return await self.find_alerts(AlertFilter(rule=rule, status=status, shadow=True), limit)
        where, args = [], []
        if status:
            where.append("al.status = ?")
            args.append(status)
        if rule:
            where.append("m.rule = ?")
            args.append(rule)
        cond = " WHERE " + " AND ".join(where) if where else ""
        sql = self._ALERT_SELECT + cond + " ORDER BY al.id DESC LIMIT ?"
        async with self._db.execute(sql, [*args, limit]) as cur:
            return [_alert(r) for r in await cur.fetchall()]

    async def find_alerts(self, f: AlertFilter, limit: int = 50) -> list[Alert]:
        """Every channel's row of the ``limit`` newest alerts (one match's message of one
        kind) that ``f`` lets through, newest first; ``f.before``: older than that alert."""
        if f.search:
            await self.index_everything()  # every article stored until now is found
        where, args = self._filtered(f)
        cond = " WHERE " + " AND ".join(where) if where else ""
        having, having_args = "", []
        if f.before is not None:
            having, having_args = " HAVING max(al.id) < ?", [f.before]
        # the articles and sources only for a filter on the source (joined, they cost
        # PostgreSQL a scan of every article)
        by_source = (
            " JOIN articles a ON a.id = m.article_id JOIN sources s ON s.id = a.source_id"
            if f.source
            else ""
        )
        newest = f"""SELECT al.match_id, al.kind FROM alerts al
            JOIN matches m ON m.id = al.match_id{by_source}{cond}
            GROUP BY al.match_id, al.kind{having} ORDER BY max(al.id) DESC LIMIT ?"""
        sql = f"{self._ALERT_SELECT} WHERE (al.match_id, al.kind) IN ({newest}) ORDER BY al.id DESC"
        async with self._db.execute(sql, [*args, *having_args, limit]) as cur:
            return [_alert(r) for r in await cur.fetchall()]

    def _filtered(self, f: AlertFilter) -> tuple[list[str], list[Any]]:
        where: list[str] = ["al.status != 'shadow'"] if not f.shadow else []
        args: list[Any] = []
        for column, value in (("m.rule", f.rule), ("m.severity", f.severity), ("s.name", f.source)):
            if value:
                where.append(f"{column} = ?")
                args.append(value)
        if f.status:
            where.append("al.status = ?")
            args.append(f.status)
        if f.actor:
            where.append("m.explanation LIKE ? ESCAPE '\\'")
            args.append(f"%{_like(json.dumps(f.actor, ensure_ascii=False))}%")
        if f.since is not None:
            where.append("al.created >= ?")
            args.append(_ts(f.since))
        if f.until is not None:
            where.append("al.created < ?")
            args.append(_ts(f.until))
        if f.verdict == "none":
            where.append("NOT EXISTS (SELECT 1 FROM verdicts v WHERE v.article_id = m.article_id)")
        elif f.verdict:
            where.append(
                "EXISTS (SELECT 1 FROM verdicts v WHERE v.article_id = m.article_id AND v.kind = ?)"
            )
            args.append(f.verdict)
        if f.search:
            words = self.search_words(f.search)
            if words is None:
                where.append("1 = 0")  # no word to look for: nothing is found
            else:
                where.append(f"m.article_id IN ({self._SEARCH_IDS})")
                args.append(words)
        if f.story is not None:
            where.append("m.story_id = ?")
            args.append(f.story)
        return where, args

    async def story_alerts(self, story_id: int) -> list[Alert]:
        """Every row of a story (its alert, follow-ups, escalations, edit notices, on every
        channel), in the order they were made."""
        sql = self._ALERT_SELECT + " WHERE m.story_id = ? ORDER BY al.id"
        async with self._db.execute(sql, (story_id,)) as cur:
            return [_alert(r) for r in await cur.fetchall()]

    async def story_outlets(self, story_ids: Sequence[int]) -> dict[int, list[str]]:
        """The sources that reported each story, in the order they did."""
        ids = sorted(set(story_ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        out: dict[int, list[str]] = {}
        async with self._db.execute(
            f"""SELECT m.story_id, s.name, min(m.id) AS first FROM matches m
                JOIN articles a ON a.id = m.article_id JOIN sources s ON s.id = a.source_id
                WHERE m.story_id IN ({marks}) GROUP BY m.story_id, s.name ORDER BY first""",
            ids,
        ) as cur:
            for r in await cur.fetchall():
                out.setdefault(int(r["story_id"]), []).append(r["name"])
        return out

    async def article_versions(self, article_ids: Sequence[int]) -> dict[int, list[Version]]:
        """Each article's texts as they were: captured when it alerted (the evidence) and
        replaced by an edit, oldest first."""
        ids = sorted(set(article_ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        out: dict[int, list[Version]] = {}
        for table, what, at in (
            ("evidence", "fetched", "captured"),
            ("revisions", "replaced", "replaced"),
        ):
            async with self._db.execute(
                f"SELECT article_id, title, text, {at} AS at FROM {table} "
                f"WHERE article_id IN ({marks})",
                ids,
            ) as cur:
                for r in await cur.fetchall():
                    when = _dt(r["at"])
                    assert when is not None
                    version = Version(what, when, r["title"], r["text"])
                    out.setdefault(int(r["article_id"]), []).append(version)
        for versions in out.values():
            versions.sort(key=lambda v: v.at)
        return out

    async def verdicts_on(self, article_ids: Sequence[int]) -> dict[int, Verdict]:
        """The verdicts on these articles, by article."""
        ids = sorted(set(article_ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        async with self._db.execute(
            f"SELECT * FROM verdicts WHERE article_id IN ({marks})", ids
        ) as cur:
            return {int(r["article_id"]): _verdict(r) for r in await cur.fetchall()}

    async def source_activity(self, since: datetime) -> dict[str, SourceActivity]:
        """Each source's articles and alerts since ``since``."""
        articles: dict[str, int] = {}
        alerts: dict[str, int] = {}
        async with self._db.execute(
            """SELECT s.name, count(*) AS n FROM articles a JOIN sources s ON s.id = a.source_id
               WHERE a.fetched >= ? GROUP BY s.name""",
            (_ts(since),),
        ) as cur:
            articles = {r["name"]: int(r["n"]) for r in await cur.fetchall()}
        async with self._db.execute(
            """SELECT s.name, count(DISTINCT al.match_id) AS n FROM alerts al
               JOIN matches m ON m.id = al.match_id JOIN articles a ON a.id = m.article_id
               JOIN sources s ON s.id = a.source_id
               WHERE al.created >= ? AND al.kind = 'alert' AND al.status != 'shadow'
               GROUP BY s.name""",
            (_ts(since),),
        ) as cur:
            alerts = {r["name"]: int(r["n"]) for r in await cur.fetchall()}
        return {
            name: SourceActivity(articles.get(name, 0), alerts.get(name, 0))
            for name in articles.keys() | alerts.keys()
        }


def _like(text: str) -> str:
    """``text`` for a LIKE pattern, its wildcards taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
