"""Stories and plans: the stories still open, and a plan (``monitor.plan``) written as it is
given — stories, matches, their alert rows, edit notices and evidence — inside the caller's
transaction."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.models import AlertStatus, StoryRef, match_to_dict
from monitor.plan import Plan, StoryKey
from monitor.store.sql.base import Connection, _dt, _insert_returning, _ts

_INSERT_MATCH = """INSERT INTO matches (article_id, rule, severity, score, mode, explanation,
                     created, story_id) VALUES {values} RETURNING id, {key}"""


async def recent_stories(db: Connection, now: datetime, window: float | None) -> list[StoryRef]:
    """The stories that something has joined within ``window`` seconds before ``now``."""
    if window is None:
        return []
    since = _ts(now - timedelta(seconds=window))
    async with db.execute(
        """SELECT st.*, (SELECT m.explanation FROM matches m WHERE m.story_id = st.id
             ORDER BY m.id LIMIT 1) AS first_match
           FROM stories st WHERE st.last_seen >= ? ORDER BY st.id""",
        (since,),
    ) as cur:
        return [
            StoryRef(
                r["id"],
                bytes(r["signature"]),
                tuple(json.loads(r["outlets"])),
                r["followups"],
                bool(r["escalated"]),
                r["title"],
                _actors(r["first_match"]),
                _dt(r["created"]),
            )
            for r in await cur.fetchall()
        ]


def _actors(explanation: str | None) -> frozenset[str]:
    """The actors of a stored match's explanation (``models.match_to_dict``)."""
    if not explanation:
        return frozenset()
    return frozenset(a["actor"] for a in json.loads(explanation).get("actors", ()))


@dataclass(frozen=True, slots=True)
class Written:
    #: pending alert rows written
    pending: int
    #: edit notices written (one already there for a match and channel is not written again)
    notices: int


async def write_plan(db: Connection, plan: Plan) -> Written:
    """Write a plan, in order; new stories get their ids as they are written."""
    story_ids: dict[int, int] = {}

    def story_id(key: StoryKey | None) -> int | None:
        if key is None:
            return None
        if key.id is not None:
            return key.id
        assert key.new is not None
        return story_ids[key.new]

    for w in plan.stories:
        if w.create:
            [(new_id,)] = await db.execute_fetchall(
                """INSERT INTO stories (signature, title, url, severity, outlets, created,
                     last_seen) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                (
                    w.signature,
                    w.title,
                    w.url,
                    w.severity,
                    json.dumps(list(w.outlets)),
                    _ts(w.at),
                    _ts(w.at),
                ),
            )
            assert w.key.new is not None
            story_ids[w.key.new] = int(new_id)
            continue
        await db.execute(
            """UPDATE stories SET last_seen = ?, outlets = ?, followups = ?, escalated = ?
               WHERE id = ?""",
            (_ts(w.at), json.dumps(list(w.outlets)), w.followups, w.escalated, story_id(w.key)),
        )

    match_ids = await _insert_returning(
        db,
        _INSERT_MATCH,
        [
            (
                pm.article_id,
                pm.match.rule,
                pm.match.severity,
                pm.match.score,
                pm.match.mode,
                json.dumps(match_to_dict(pm.match), ensure_ascii=False),
                _ts(pm.at),
                story_id(pm.story),
            )
            for pm in plan.matches
        ],
        "article_id, rule",
    )
    alert_rows = [
        (
            match_ids[(pm.article_id, pm.match.rule)],
            a.channel,
            a.status.value,
            _ts(a.due),
            _ts(pm.at),
            a.kind,
            a.note,
        )
        for pm in plan.matches
        for a in pm.alerts
    ]
    if alert_rows:
        await db.executemany(
            """INSERT INTO alerts (match_id, channel, status, next_attempt, created,
                 kind, note) VALUES (?, ?, ?, ?, ?, ?, ?)""",
            alert_rows,
        )
    notices = 0
    for n in plan.notices:
        cur = await db.execute(
            """INSERT INTO alerts (match_id, channel, status, next_attempt, created, kind, note)
               VALUES (?, ?, 'pending', ?, ?, 'edit', ?)
               ON CONFLICT (match_id, channel, kind) DO NOTHING""",
            (n.match_id, n.channel, _ts(n.at), _ts(n.at), n.note),
        )
        notices += cur.rowcount == 1
    if plan.evidence:
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
                    _ts(at),
                )
                for article_id, (a, at) in plan.evidence.items()
            ],
        )
    pending = sum(a.status is AlertStatus.PENDING for pm in plan.matches for a in pm.alerts)
    return Written(pending, notices)
