"""What a desk says back (``monitor.desk``): verdicts on articles, and mutes, and the alerts a
mute kept from being sent."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from monitor.desk import Mute, Verdict
from monitor.models import AlertStatus
from monitor.store.sql.base import Base, _dt, _ts


class Desk(Base):
    async def record_verdict(self, verdict: Verdict, now: datetime) -> Verdict:
        """Keep the desk's word on an article, replacing an earlier word; the article as it
        was first judged stays (its text may have been pruned since). The verdict as kept."""
        row = (
            verdict.article_id,
            verdict.kind,
            json.dumps(list(verdict.actors), ensure_ascii=False),
            verdict.reason,
            verdict.match_id,
            verdict.rule,
            verdict.title,
            verdict.text,
            verdict.url,
            verdict.source,
            _ts(verdict.published),
            _ts(now),
        )
        async with self._transaction() as db:
            await db.execute(
                """INSERT INTO verdicts (article_id, kind, actors, reason, match_id, rule, title,
                     text, url, source, published, created)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (article_id) DO UPDATE SET kind = excluded.kind,
                     actors = excluded.actors, reason = excluded.reason,
                     match_id = excluded.match_id, rule = excluded.rule,
                     created = excluded.created""",
                row,
            )
            [kept] = await db.execute_fetchall(
                "SELECT * FROM verdicts WHERE article_id = ?", (verdict.article_id,)
            )
        return _verdict(kept)

    async def verdicts(self, limit: int | None = None) -> list[Verdict]:
        """The desk's verdicts, newest first."""
        sql = "SELECT * FROM verdicts ORDER BY created DESC, id DESC"
        args: list[Any] = []
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        async with self._db.execute(sql, args) as cur:
            return [_verdict(r) for r in await cur.fetchall()]

    async def add_mute(self, mute: Mute, now: datetime) -> Mute:
        async with self._transaction() as db:
            found = await db.execute_fetchall(
                """INSERT INTO mutes (kind, target, until, reason, created)
                   VALUES (?, ?, ?, ?, ?) RETURNING id""",
                (mute.kind, mute.target, _ts(mute.until), mute.reason, _ts(now)),
            )
        return Mute(mute.kind, mute.target, mute.until, mute.reason, now, int(next(iter(found))[0]))

    async def mutes(self, now: datetime, ended: bool = False) -> list[Mute]:
        """The mutes in force at ``now`` (``ended``: those ended too), newest first."""
        sql = "SELECT * FROM mutes"
        args: list[Any] = []
        if not ended:
            sql += " WHERE until > ?"
            args.append(_ts(now))
        async with self._db.execute(sql + " ORDER BY id DESC", args) as cur:
            return [_mute(r) for r in await cur.fetchall()]

    async def end_mute(self, mute_id: int, now: datetime) -> bool:
        """End a mute now (it stays on record); False if there is none in force of this id."""
        async with self._transaction() as db:
            cur = await db.execute(
                "UPDATE mutes SET until = ? WHERE id = ? AND until > ?",
                (_ts(now), mute_id, _ts(now)),
            )
            return bool(cur.rowcount)

    async def mark_muted(self, alert_ids: Sequence[int], why: str) -> None:
        """Alerts a mute keeps from being sent: stored, listed as muted, never sent."""
        if not alert_ids:
            return
        async with self._transaction() as db:
            await db.executemany(
                """UPDATE alerts SET status = ?, last_error = ?, claimed_by = NULL,
                     claim_until = NULL WHERE id = ? AND status = 'pending'""",
                [(AlertStatus.MUTED.value, why, i) for i in alert_ids],
            )


def _verdict(r: Any) -> Verdict:
    return Verdict(
        article_id=int(r["article_id"]),
        kind=r["kind"],
        actors=tuple(json.loads(r["actors"])),
        reason=r["reason"],
        match_id=None if r["match_id"] is None else int(r["match_id"]),
        rule=r["rule"],
        title=r["title"],
        text=r["text"],
        url=r["url"],
        source=r["source"],
        published=_dt(r["published"]),
        created=_dt(r["created"]),
        id=int(r["id"]),
    )


def _mute(r: Any) -> Mute:
    until = _dt(r["until"])
    assert until is not None
    return Mute(r["kind"], r["target"], until, r["reason"], _dt(r["created"]), int(r["id"]))
