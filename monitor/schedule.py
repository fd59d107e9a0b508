"""When to poll: a pure policy (``next_due``) and the APScheduler 3 wiring.

``next_due`` never reads the clock or the database: it is given the interval, the consecutive
failures, what the server asked for, and ``now``. APScheduler is confined to this module.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

MAX_RETRY_AFTER = 7 * 24 * 3600.0
#: first polls after a start are spread over the first interval, at most this long
FIRST_SPREAD = 300.0
#: adaptation moves a source's interval at most this factor away from the configured one
ADAPT_FACTOR = 4.0


@dataclass(frozen=True, slots=True)
class Bounds:
    """A source's configured interval and the limits every poll delay stays within."""

    interval: float
    min_interval: float = 60.0
    max_interval: float = 24 * 3600.0
    #: adapt to how often the source publishes
    adapt: bool = True


@dataclass(frozen=True, slots=True)
class Signals:
    """What the last poll and the source's history say about when to poll next."""

    #: consecutive failures, this one included (0 after a success)
    failures: int = 0
    #: seconds a 429/503 Retry-After asked for
    retry_after: float | None = None
    #: Cache-Control max-age and the feed's <ttl>, in seconds
    max_age: float | None = None
    ttl: float | None = None
    #: typical seconds between new articles, learned from the source's history
    publish_interval: float | None = None
    #: seconds since the source last had something new
    quiet_for: float | None = None
    #: the source answered 410 Gone
    gone: bool = False


def poll_delay(
    bounds: Bounds, signals: Signals, rand: Callable[[], float] = random.random
) -> float | None:
    """Seconds until the next poll; None: never (410 Gone).

    The configured interval, adapted to the publishing rate (busier sources more often, quiet
    ones less, within a factor of four), pushed out where Cache-Control max-age or the feed's
    TTL ask for longer, always within [min_interval, max_interval]. After failures:
    exponential backoff with jitter up to max_interval (a source failing for days is polled at
    the maximum interval, never abandoned). Retry-After is honoured up to seven days."""
    if signals.gone:
        return None
    lo = bounds.min_interval
    hi = max(lo, bounds.max_interval)
    interval = min(max(bounds.interval, lo), hi)
    if signals.failures > 0:
        delay = interval * 2.0 ** min(signals.failures - 1, 30) * (0.75 + 0.5 * rand())
        delay = max(interval, delay)
    else:
        delay = interval
        if bounds.adapt:
            low, high = interval / ADAPT_FACTOR, interval * ADAPT_FACTOR
            if signals.publish_interval is not None:
                delay = min(max(signals.publish_interval / 2, low), high)
            if signals.quiet_for is not None and signals.quiet_for > 4 * delay:
                delay = min(max(delay, signals.quiet_for / 8), high)
        asked = max(signals.max_age or 0.0, signals.ttl or 0.0)
        delay = max(delay, asked)
    delay = min(max(delay, lo), hi)
    if signals.retry_after is not None:
        delay = max(delay, min(signals.retry_after, MAX_RETRY_AFTER))
    return delay


def next_due(
    bounds: Bounds,
    now: datetime,
    signals: Signals = Signals(),
    rand: Callable[[], float] = random.random,
) -> datetime | None:
    delay = poll_delay(bounds, signals, rand)
    return None if delay is None else now + timedelta(seconds=delay)


def learn_publish_interval(
    previous: float | None, last_new: datetime | None, now: datetime, new: int
) -> float | None:
    """The typical gap between new articles, updated by a poll that found ``new`` of them
    (a moving average; the first batch a source gives is its backlog and teaches nothing)."""
    if new <= 0 or last_new is None:
        return previous
    gap = max(0.0, (now - last_new).total_seconds()) / new
    return gap if previous is None else 0.7 * previous + 0.3 * gap


def first_run(
    interval: float,
    now: datetime,
    stored: datetime | None,
    rand: Callable[[], float] = random.random,
) -> datetime:
    """When a source is first polled after start: its stored due time if that is still ahead
    (a restart continues the schedule), else somewhere in the first interval (at most the
    first five minutes), so that sources do not all fire at once."""
    if stored is not None and stored > now:
        return min(stored, now + timedelta(seconds=interval))
    return now + timedelta(seconds=rand() * min(interval, FIRST_SPREAD))


class Scheduler:
    """The daemon's own periodic jobs (delivering, maintaining) on APScheduler 3. Times are
    given as delays and read on the scheduler's own clock, never another's: a job woken "in
    50 ms" runs then, whatever the daemon's clock says. After the wall clock steps,
    ``realign`` puts every job one period (at most) from now again: APScheduler measures its
    intervals on the wall clock, and a step back would hold them for as long as the step."""

    def __init__(self) -> None:
        # imported here: APScheduler takes ~40 ms to load, and only the daemon needs it
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self._scheduler: AsyncIOScheduler = AsyncIOScheduler(timezone="UTC")
        self._periods: dict[str, float] = {}

    def add_periodic(
        self,
        name: str,
        seconds: float,
        job: Callable[[], Awaitable[Any]],
        first_after: float | None = None,
    ) -> None:
        """A job every ``seconds``; the first run ``first_after`` seconds from now (default:
        one period)."""
        extra: dict[str, Any] = {}
        if first_after is not None:
            extra["next_run_time"] = _later(first_after)
        self._periods[name] = seconds
        self._scheduler.add_job(
            job,
            _interval(seconds=seconds, timezone="UTC"),
            id=name,
            name=name,
            **extra,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(int(seconds), 1),
            replace_existing=True,
        )

    def wake(self, name: str, after: float = 0.0) -> None:
        """Run job ``name`` ``after`` seconds from now (and every period from then)."""
        job = self._scheduler.get_job(name)
        if job is not None:
            job.modify(next_run_time=_later(after))

    def realign(self) -> None:
        """Every job at most one period from now (after the wall clock stepped)."""
        for name, seconds in self._periods.items():
            job = self._scheduler.get_job(name)
            due = job.next_run_time if job is not None else None
            if due is not None and abs((due - _later(0)).total_seconds()) > seconds:
                job.modify(next_run_time=_later(min(seconds, 1.0)))

    def start(self) -> None:
        self._scheduler.start()

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def pause(self) -> None:
        """Start no new jobs; running ones go on (``shutdown`` would cancel them)."""
        if self._scheduler.running:
            self._scheduler.pause()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)


def _later(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def _interval(**kw: Any) -> Any:
    from apscheduler.triggers.interval import IntervalTrigger

    return IntervalTrigger(**kw)
