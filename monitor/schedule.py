"""When to poll: a pure policy (``next_due``) and the APScheduler 3 wiring.

``next_due`` never reads the clock or the database: it is given the interval, the consecutive
failures, what the server asked for, and ``now``. APScheduler is confined to this module.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

MAX_BACKOFF = 24 * 3600.0
MAX_RETRY_AFTER = 7 * 24 * 3600.0


def next_due(
    interval: float,
    now: datetime,
    failures: int = 0,
    retry_after: float | None = None,
    rand: Callable[[], float] = random.random,
) -> datetime:
    """Next poll: the interval; after failures, exponential backoff with jitter (capped at a
    day, never abandoned); at least what Retry-After asked for (capped at seven days)."""
    delay = interval
    if failures > 0:
        delay = min(MAX_BACKOFF, interval * 2 ** min(failures - 1, 20))
        delay = max(interval, delay * (0.75 + 0.5 * rand()))
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return now + timedelta(seconds=delay)


def first_run(
    interval: float,
    now: datetime,
    stored: datetime | None,
    rand: Callable[[], float] = random.random,
    spread: float = 30.0,
) -> datetime:
    """When a source is first polled after start: its stored due time if that is still ahead
    (a restart continues the schedule), else soon, spread so that sources do not all fire at
    once."""
    if stored is not None and stored > now:
        return min(stored, now + timedelta(seconds=interval))
    return now + timedelta(seconds=rand() * min(interval, spread))


class Scheduler:
    """One interval job per source, one for the outbox; each poll sets its own next run."""

    def __init__(self) -> None:
        # imported here: APScheduler takes ~40 ms to load, and only the daemon needs it
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self._scheduler: AsyncIOScheduler = AsyncIOScheduler(timezone="UTC")

    def add_source(
        self,
        name: str,
        interval: float,
        first: datetime,
        job: Callable[[], Awaitable[Any]],
    ) -> None:
        self._scheduler.add_job(
            job,
            _interval(seconds=interval, jitter=min(interval * 0.1, 60.0), timezone="UTC"),
            id=f"source:{name}",
            name=name,
            next_run_time=first,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(int(interval), 1),
            replace_existing=True,
        )

    def add_periodic(
        self,
        name: str,
        seconds: float,
        job: Callable[[], Awaitable[Any]],
        first: datetime | None = None,
    ) -> None:
        """A job every ``seconds``; the first run at ``first`` (default: one period from now)."""
        extra: dict[str, Any] = {"next_run_time": first} if first is not None else {}
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

    def reschedule(self, name: str, when: datetime) -> None:
        job = self._scheduler.get_job(f"source:{name}")
        if job is not None:
            job.modify(next_run_time=when)

    def remove(self, name: str) -> None:
        job = self._scheduler.get_job(f"source:{name}")
        if job is not None:
            job.remove()

    def wake(self, name: str, when: datetime) -> None:
        job = self._scheduler.get_job(name)
        if job is not None:
            job.modify(next_run_time=when)

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


def _interval(**kw: Any) -> Any:
    from apscheduler.triggers.interval import IntervalTrigger

    return IntervalTrigger(**kw)
