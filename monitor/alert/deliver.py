"""The outbox dispatcher: sends pending alert rows and records every attempt.

An alert row exists before anything is sent (it is written with its article and match), so a
crash loses nothing: whatever was pending is sent after the restart. A row is marked sent right
after its channel confirms. Failures that may pass are retried with exponential backoff and
jitter; an alert still undelivered after ``max_age`` is marked failed.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.alert import Channel
from monitor.config import DeliverySettings
from monitor.logs import event
from monitor.models import Alert, Delivery
from monitor.store import Store

log = logging.getLogger("monitor.deliver")


@dataclass(frozen=True, slots=True)
class DispatchResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def next_attempt(
    alert: Alert,
    delivery: Delivery,
    now: datetime,
    settings: DeliverySettings,
    rand: Callable[[], float] = random.random,
) -> datetime | None:
    """When to try again, or None when the alert has failed for good."""
    if not delivery.retry:
        return None
    delay = min(settings.retry_max, settings.retry_base * 2 ** min(alert.attempts, 16))
    delay *= 0.5 + rand()  # jitter: 50% to 150%
    if delivery.retry_after is not None:
        delay = max(delay, min(delivery.retry_after, settings.retry_max))
    when = now + timedelta(seconds=delay)
    if when - alert.created > timedelta(seconds=settings.max_age):
        return None
    return when


async def dispatch(
    store: Store,
    channels: Mapping[str, Channel],
    settings: DeliverySettings,
    now: Callable[[], datetime],
) -> DispatchResult:
    """Deliver every due alert once; return what happened."""
    sent = retrying = failed = 0
    done: set[int] = set()
    while True:
        due = [a for a in await store.due_alerts(now(), limit=100) if a.id not in done]
        if not due:
            break
        for alert in due:
            done.add(alert.id)
            channel = channels.get(alert.channel)
            if channel is None:
                delivery = Delivery(ok=False, reason=f"channel {alert.channel!r} is not configured")
            else:
                try:
                    delivery = await channel.send(alert)
                except Exception as e:  # a channel bug must not stop the outbox
                    log.exception("channel raised", extra=_fields(alert))
                    delivery = Delivery(ok=False, retry=True, reason=f"error: {type(e).__name__}")
            at = now()
            when = None if delivery.ok else next_attempt(alert, delivery, at, settings)
            await store.record_delivery(alert.id, delivery, at, when)
            if delivery.ok:
                sent += 1
                event(log, logging.INFO, "alert sent", **_fields(alert)["fields"])
            elif when is not None:
                retrying += 1
                event(
                    log,
                    logging.WARNING,
                    "alert delivery failed; will retry",
                    reason=delivery.reason,
                    retry_at=when.isoformat(),
                    **_fields(alert)["fields"],
                )
            else:
                failed += 1
                event(
                    log,
                    logging.ERROR,
                    "alert delivery failed for good",
                    reason=delivery.reason,
                    **_fields(alert)["fields"],
                )
    return DispatchResult(sent, retrying, failed)


def _fields(alert: Alert) -> dict[str, dict[str, object]]:
    return {"fields": {"alert": alert.id, "channel": alert.channel, "rule": alert.match.rule}}
