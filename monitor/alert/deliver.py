"""The outbox dispatcher: sends pending alert rows and records every attempt.

An alert row exists before anything is sent (it is written with its article and match), so a
crash loses nothing: whatever was pending is sent after the restart. A row is marked sent right
after its channel confirms. Failures that may pass are retried with exponential backoff and
jitter; an alert still undelivered after ``max_age`` is marked failed.

Two kinds of bundling: alerts of a rule with ``digest: 1h`` become due together at the end of
each period and go out as one digest per channel; and per channel at most ``max_per_minute``
messages are sent, counted over every node on the database (``Store.reserve_messages``), the
overflow going out as one digest instead of being dropped (further overflow within the same
minute waits for the next minute).
"""

from __future__ import annotations

import logging
import math
import random
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from monitor.alert import Channel
from monitor.config import DeliverySettings
from monitor.logs import event
from monitor.models import Alert, Delivery, Match, Notice
from monitor.store import Store

log = logging.getLogger("monitor.deliver")
WINDOW = 60.0


@dataclass(frozen=True, slots=True)
class DispatchResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def digest_due(now: datetime, period: float) -> datetime:
    """The end of the current digest period, on a clock-aligned grid ("every hour, on the hour")."""
    ts = now.timestamp()
    return datetime.fromtimestamp((math.floor(ts / period) + 1) * period, tz=UTC)


def deliver_at(digest_rules: Mapping[str, float]) -> Callable[[Match, datetime], datetime]:
    def when(match: Match, now: datetime) -> datetime:
        period = digest_rules.get(match.rule)
        return digest_due(now, period) if period else now

    return when


def next_attempt(
    alert: Alert | Notice,
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


@dataclass
class _Tally:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    #: channels that failed for good, and why (the others are told)
    broken: dict[str, str] = field(default_factory=dict)


async def dispatch(
    store: Store,
    channels: Mapping[str, Channel],
    settings: DeliverySettings,
    now: Callable[[], datetime],
    digest_rules: Mapping[str, float] | None = None,
) -> DispatchResult:
    """Deliver every due alert once; return what happened."""
    digest_rules = digest_rules or {}
    tally = _Tally()
    done: set[int] = set()
    while True:
        due = [a for a in await store.due_alerts(now(), limit=500) if a.id not in done]
        if not due:
            break
        done.update(a.id for a in due)
        due = await _unmuted(store, due, now())
        by_channel: dict[str, list[Alert]] = defaultdict(list)
        for alert in due:
            by_channel[alert.channel].append(alert)
        for name, alerts in by_channel.items():
            await _dispatch_channel(
                store, channels.get(name), name, alerts, settings, now, digest_rules, tally
            )
    await _tell_the_others(store, channels, tally.broken, now())
    await _dispatch_notices(store, channels, settings, now, tally)
    return DispatchResult(tally.sent, tally.retrying, tally.failed)


async def _unmuted(store: Store, due: list[Alert], at: datetime) -> list[Alert]:
    """The due alerts no mute covers; the others are marked muted (stored, listed, never
    sent), each saying which mute kept it."""
    mutes = await store.mutes(at) if due else []
    if not mutes:
        return due
    kept: dict[str, list[int]] = defaultdict(list)
    out = []
    for alert in due:
        mute = next((m for m in mutes if m.covers(alert)), None)
        if mute is None:
            out.append(alert)
        else:
            kept[mute.describe()].append(alert.id)
    for why, ids in kept.items():
        await store.mark_muted(ids, why)
        event(log, logging.INFO, "alerts muted", alerts=len(ids), mute=why)
    return out


async def _tell_the_others(
    store: Store, channels: Mapping[str, Channel], broken: Mapping[str, str], at: datetime
) -> None:
    """A channel that failed for good (a refused login, a channel gone, a server that lacks
    what it is asked): the other channels are told, once a day at most, as a source's health
    is told, so that a desk does not learn of it from the silence."""
    for name, reason in broken.items():
        others = [c for c in channels if c != name]
        if not others:
            continue
        message = (
            f"channel {name} cannot deliver ({reason}): its alerts are marked failed; "
            f"`monitor alerts --failed` lists them, `monitor check --channels` tries it again"
        )
        await store.tell_channels(f"channel {name}", "channel-failing", message, others, at)


async def _dispatch_notices(
    store: Store,
    channels: Mapping[str, Channel],
    settings: DeliverySettings,
    now: Callable[[], datetime],
    tally: _Tally,
) -> None:
    """Source-health notices: sent like alerts, retried like alerts, never flood-limited."""
    for notice in await store.due_notices(now(), limit=500):
        channel = channels.get(notice.channel)
        if channel is None:
            delivery = Delivery(ok=False, reason=f"channel {notice.channel!r} is not configured")
        else:
            try:
                delivery = await channel.send_notice(notice)
            except Exception as e:  # a channel bug must not stop the outbox
                log.exception("channel raised", extra={"fields": {"channel": notice.channel}})
                delivery = Delivery(ok=False, retry=True, reason=f"error: {type(e).__name__}")
        at = now()
        when = None if delivery.ok else next_attempt(notice, delivery, at, settings)
        await store.record_notice(notice.id, delivery, at, when)
        fields = {"notice": notice.id, "channel": notice.channel, "source": notice.source}
        if delivery.ok:
            tally.sent += 1
            event(log, logging.INFO, "notice sent", event=notice.event, **fields)
        else:
            tally.retrying += when is not None
            tally.failed += when is None
            event(log, logging.WARNING, "notice delivery failed", reason=delivery.reason, **fields)


async def _dispatch_channel(
    store: Store,
    channel: Channel | None,
    name: str,
    alerts: list[Alert],
    settings: DeliverySettings,
    now: Callable[[], datetime],
    digest_rules: Mapping[str, float],
    tally: _Tally,
) -> None:
    """A channel's due alerts as messages: one each, a digest rule's together, a story's
    follow-ups due together as one ("also reported by A, B and C"); more messages than the
    channel may take this minute (``max_per_minute``, every node's count): as many as it
    may, the last of them a digest of the overflow; none at all: the next minute."""
    groups: dict[str, list[Alert]] = defaultdict(list)
    followups: dict[int, list[Alert]] = defaultdict(list)
    messages: list[list[Alert]] = []
    for alert in alerts:
        if alert.kind == "alert" and alert.match.rule in digest_rules:
            groups[alert.match.rule].append(alert)
        elif alert.kind == "followup" and alert.story_id is not None and settings.followup_wait:
            followups[alert.story_id].append(alert)
        else:
            messages.append([alert])
    messages += [g for g in groups.values() if g]
    messages += list(followups.values())
    limit = settings.max_per_minute
    if limit:
        at = now()
        room = await store.reserve_messages(name, len(messages), limit, at, WINDOW)
        if room == 0:
            waiting = [a.id for m in messages for a in m]
            await store.defer(waiting, at + timedelta(seconds=WINDOW))
            event(
                log, logging.INFO, "flood control: alerts wait", channel=name, alerts=len(waiting)
            )
            return
        if len(messages) > room:
            overflow = [a for m in messages[room - 1 :] for a in m]
            messages = [*messages[: room - 1], overflow]
    for message in messages:
        delivery = await _send(channel, name, message)
        await _record(store, message, delivery, settings, now, tally)
        if not delivery.ok and not delivery.retry and channel is not None:
            tally.broken.setdefault(name, delivery.reason)


async def _send(channel: Channel | None, name: str, alerts: list[Alert]) -> Delivery:
    if channel is None:
        return Delivery(ok=False, reason=f"channel {name!r} is not configured")
    try:
        if len(alerts) == 1:
            return await channel.send(alerts[0])
        if all(a.kind == "followup" and a.story_id == alerts[0].story_id for a in alerts):
            return await channel.send(merged_followup(alerts))
        return await channel.send_digest(alerts)
    except Exception as e:  # a channel bug must not stop the outbox
        log.exception("channel raised", extra={"fields": {"channel": name}})
        return Delivery(ok=False, retry=True, reason=f"error: {type(e).__name__}")


def merged_followup(alerts: Sequence[Alert]) -> Alert:
    """A story's follow-ups due together, as one: the latest, saying every outlet ("also
    reported by outlet-1, outlet-2 and outlet-3, 4 outlets so far")."""
    latest = max(alerts, key=lambda a: a.id)
    outlets = list(dict.fromkeys(a.source for a in sorted(alerts, key=lambda a: a.id)))
    named = outlets[0] if len(outlets) == 1 else f"{', '.join(outlets[:-1])} and {outlets[-1]}"
    so_far = _SO_FAR.search(latest.note or "")
    count = f", {so_far.group(1)} outlets so far" if so_far else ""
    return replace(latest, note=f"also reported by {named}{count}")


_SO_FAR = re.compile(r"(\d+) outlets so far")


async def _record(
    store: Store,
    alerts: list[Alert],
    delivery: Delivery,
    settings: DeliverySettings,
    now: Callable[[], datetime],
    tally: _Tally,
) -> None:
    at = now()
    for alert in alerts:
        when = None if delivery.ok else next_attempt(alert, delivery, at, settings)
        await store.record_delivery(alert.id, delivery, at, when)
        fields = {"alert": alert.id, "channel": alert.channel, "rule": alert.match.rule}
        if len(alerts) > 1:
            fields["digest"] = len(alerts)
        if delivery.ok:
            tally.sent += 1
            event(log, logging.INFO, "alert sent", **fields)
        elif when is not None:
            tally.retrying += 1
            event(
                log,
                logging.WARNING,
                "alert delivery failed; will retry",
                reason=delivery.reason,
                retry_at=when.isoformat(),
                **fields,
            )
        else:
            tally.failed += 1
            event(
                log,
                logging.ERROR,
                "alert delivery failed for good",
                reason=delivery.reason,
                **fields,
            )
