"""Alerts and notices waiting to go out (the outbox) and their deliveries (the lists that read
them back are ``browse``'s)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.models import (
    Alert,
    AlertStatus,
    Delivery,
    Notice,
    match_from_dict,
)
from monitor.store.sql.base import Base, _dt, _ts


class Outbox(Base):
    _ALERT_SELECT = """
        SELECT al.*, m.explanation, m.story_id, m.article_id, a.title, a.url, a.published,
          s.name AS source,
          (SELECT p.external_id FROM alerts p JOIN matches pm ON pm.id = p.match_id
            WHERE pm.story_id = m.story_id AND p.channel = al.channel AND p.kind = 'alert'
              AND p.id != al.id ORDER BY p.id LIMIT 1) AS thread_ref,
          (SELECT st.title FROM stories st WHERE st.id = m.story_id) AS story_title
        FROM alerts al
        JOIN matches m ON m.id = al.match_id
        JOIN articles a ON a.id = m.article_id
        JOIN sources s ON s.id = a.source_id
    """

    _DUE = """ al.status = 'pending' AND al.next_attempt <= ?
                AND NOT (al.kind != 'alert' AND EXISTS (
                  SELECT 1 FROM alerts p JOIN matches pm ON pm.id = p.match_id
                  WHERE pm.story_id = m.story_id AND p.channel = al.channel
                    AND p.kind = 'alert' AND p.status = 'pending'))"""

    async def due_alerts(self, now: datetime, limit: int = 100) -> list[Alert]:
        """Pending alerts due now, oldest first (a follow-up after its story's alert). A
        store that claims (``claim_as``) hands out only alerts no other node holds, each
        claimed for this node until its send is recorded or the claim runs out."""
        if self._claimant is None:
            async with self._db.execute(
                self._ALERT_SELECT + " WHERE" + self._DUE + " ORDER BY al.id LIMIT ?",
                (_ts(now), limit),
            ) as cur:
                return [_alert(r) for r in await cur.fetchall()]
        node, lease = self._claimant
        leased = await self._lease_clock(now)  # claims run out by the lease clock
        async with self._transaction() as db:
            claimed = await db.execute_fetchall(
                f"""UPDATE alerts SET claimed_by = ?, claim_until = ? WHERE id IN (
                      SELECT al.id FROM alerts al JOIN matches m ON m.id = al.match_id
                      WHERE {self._DUE} AND (al.claim_until IS NULL OR al.claim_until <= ?)
                      ORDER BY al.id LIMIT ?{self._SKIP_LOCKED_OF_AL})
                    RETURNING id""",
                (node, _ts(leased + timedelta(seconds=lease)), _ts(now), _ts(leased), limit),
            )
            ids = sorted(int(r[0]) for r in claimed)
            if not ids:
                return []
            marks = ",".join("?" * len(ids))
            rows = await db.execute_fetchall(
                self._ALERT_SELECT + f" WHERE al.id IN ({marks}) ORDER BY al.id", ids
            )
        return [_alert(r) for r in rows]

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
                     external_id = COALESCE(?, external_id),
                     claimed_by = NULL, claim_until = NULL
                   WHERE id = ? AND (claimed_by IS NULL OR claimed_by = COALESCE(?, claimed_by))""",
                (
                    status,
                    when,
                    None if delivery.ok else delivery.reason,
                    delivery.ok,
                    _ts(now),
                    delivery.external_id,
                    alert_id,
                    self._claimant[0] if self._claimant else None,
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
            return bool(cur.rowcount == 1)

    async def due_notices(self, now: datetime, limit: int = 100) -> list[Notice]:
        """Pending source-health notices due now (claimed, as alerts are, by a claiming
        store)."""
        if self._claimant is None:
            async with self._db.execute(
                """SELECT * FROM notices WHERE status = 'pending' AND next_attempt <= ?
                   ORDER BY id LIMIT ?""",
                (_ts(now), limit),
            ) as cur:
                rows = list(await cur.fetchall())
        else:
            node, lease = self._claimant
            leased = await self._lease_clock(now)
            async with self._transaction() as db:
                rows = list(
                    await db.execute_fetchall(
                        f"""UPDATE notices SET claimed_by = ?, claim_until = ? WHERE id IN (
                              SELECT id FROM notices WHERE status = 'pending'
                                AND next_attempt <= ?
                                AND (claim_until IS NULL OR claim_until <= ?)
                              ORDER BY id LIMIT ?{self._SKIP_LOCKED})
                            RETURNING *""",
                        (
                            node,
                            _ts(leased + timedelta(seconds=lease)),
                            _ts(now),
                            _ts(leased),
                            limit,
                        ),
                    )
                )
            rows.sort(key=lambda r: int(r["id"]))
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
            for r in rows
        ]

    async def record_notice(
        self, notice_id: int, delivery: Delivery, now: datetime, next_attempt: datetime | None
    ) -> None:
        status = "sent" if delivery.ok else ("pending" if next_attempt else "failed")
        async with self._transaction() as db:
            await db.execute(
                """UPDATE notices SET status = ?, attempts = attempts + 1,
                     next_attempt = COALESCE(?, next_attempt), last_error = ?,
                     sent = CASE WHEN ? THEN ? ELSE sent END,
                     claimed_by = NULL, claim_until = NULL
                   WHERE id = ? AND (claimed_by IS NULL OR claimed_by = COALESCE(?, claimed_by))""",
                (
                    status,
                    _ts(next_attempt),
                    None if delivery.ok else delivery.reason,
                    delivery.ok,
                    _ts(now),
                    notice_id,
                    self._claimant[0] if self._claimant else None,
                ),
            )

    async def reserve_messages(
        self, channel: str, wanted: int, limit: int, now: datetime, window: float = 60.0
    ) -> int:
        """Up to ``wanted`` messages for ``channel`` now, so that it is given at most
        ``limit`` in any ``window`` seconds by all the nodes together: how many it may send.
        One node decides at a time for a channel (PostgreSQL: an advisory lock; SQLite's
        writer lock); times on the database's clock."""
        now = await self._lease_clock(now)
        since = _ts(now - timedelta(seconds=window))
        async with self._transaction() as db:
            if self._CHANNEL_LOCK:
                await db.execute(self._CHANNEL_LOCK, (channel,))
            await db.execute("DELETE FROM messages WHERE channel = ? AND at < ?", (channel, since))
            rows = list(
                await db.execute_fetchall(
                    "SELECT count(*) FROM messages WHERE channel = ?", (channel,)
                )
            )
            granted = max(0, min(wanted, limit - int(rows[0][0])))
            await db.executemany(
                "INSERT INTO messages (channel, at) VALUES (?, ?)", [(channel, _ts(now))] * granted
            )
        return granted

    async def tell_channels(
        self, source: str, event: str, message: str, channels: Sequence[str], at: datetime
    ) -> None:
        """Notices of ``event`` about ``source`` on ``channels``, unless the same was said
        in the last day (a channel that keeps failing is told of once a day, not per alert)."""
        async with self._transaction() as db:
            await db.executemany(
                """INSERT INTO notices (source, event, message, channel, status, next_attempt,
                     created) SELECT ?, ?, ?, ?, 'pending', ?, ?
                   WHERE NOT EXISTS (SELECT 1 FROM notices WHERE source = ? AND event = ?
                     AND channel = ? AND created > ?)""",
                [
                    (
                        source,
                        event,
                        message,
                        c,
                        _ts(at),
                        _ts(at),
                        source,
                        event,
                        c,
                        _ts(at - timedelta(days=1)),
                    )
                    for c in channels
                ],
            )

    async def oldest_due_alert(self, now: datetime) -> datetime | None:
        """Since when the longest-waiting pending alert has been due (None: none is): an
        alert never tried, since its due time; one tried and failing, since it was made."""
        rows = list(
            await self._db.execute_fetchall(
                """SELECT min(CASE WHEN attempts = 0 THEN next_attempt ELSE created END)
                   FROM alerts WHERE status = 'pending' AND (attempts > 0 OR next_attempt <= ?)""",
                (_ts(now),),
            )
        )
        return _dt(rows[0][0]) if rows and rows[0][0] is not None else None

    async def alert_counts(self) -> dict[str, int]:
        async with self._db.execute("SELECT status, count(*) FROM alerts GROUP BY status") as cur:
            return {r[0]: int(r[1]) for r in await cur.fetchall()}


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
        article_id=int(r["article_id"]),
        match_id=int(r["match_id"]),
    )
