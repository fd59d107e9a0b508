"""``poll_source``: the whole story of one source, top to bottom.

load state → fetch → (not modified? record and stop) → (same body? record and stop) → parse →
keep the new entries → match them → store articles, matches and alert rows in one transaction →
record the outcome and the next due time. Delivery happens afterwards, from the outbox.
Expected failures (fetch, parse) are recorded for the source and returned as the outcome;
anything else is a bug and propagates.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from monitor.errors import FetchError, ParseError
from monitor.fetch import Fetcher
from monitor.logs import event
from monitor.models import Article, Match, PollOutcome, Source, SourceState
from monitor.schedule import next_due
from monitor.store import PollRecord, Store, StoryDecider
from monitor.workers import Processor

log = logging.getLogger("monitor.pipeline")


@dataclass
class PipelineContext:
    store: Store
    fetcher: Fetcher
    #: parses and matches (in worker processes when there are many sources)
    processor: Processor
    #: channel names an alert for this match goes to
    channels_for: Callable[[Match], Sequence[str]]
    now: Callable[[], datetime]
    rand: Callable[[], float] = field(default=random.random)
    #: one alert per story; None alerts every matching article
    stories: StoryDecider | None = None
    #: when a new alert is first due (digest rules wait for their period); None: now
    deliver_at: Callable[[Match, datetime], datetime] | None = None


async def poll_source(
    source: Source, ctx: PipelineContext, state: SourceState | None = None
) -> PollOutcome:
    """Poll one source; ``state``: its stored state when the caller has read it already."""
    started = time.monotonic()
    if state is None:
        state = await ctx.store.source_state(source.name)
    try:
        result = await ctx.fetcher.fetch(
            state.url,
            etag=state.etag,
            last_modified=state.last_modified,
            user_agent=source.user_agent,
        )
    except FetchError as e:
        gone = e.reason == "http 410"
        return await _failed(
            source, ctx, str(e), state.failures + 1, started, e.retry_after, gone=gone
        )

    moved = result.url if result.permanent_redirect and result.url != state.url else None
    now = ctx.now()
    if result.not_modified:
        await _succeeded(source, ctx, now, PollRecord(ok=True, next_due=now, url=moved))
        return _outcome(source, "not-modified", started)

    body_hash = hashlib.sha256(result.body).hexdigest()
    etag, last_modified = result.headers.get("etag"), result.headers.get("last-modified")
    validators = PollRecord(
        ok=True, next_due=now, url=moved, etag=etag, last_modified=last_modified
    )
    if body_hash == state.body_hash:
        await _succeeded(source, ctx, now, validators)
        return _outcome(source, "unchanged", started)

    # nothing read from this source yet: its entries are all new, so match them as they are
    # parsed (one trip to a worker process instead of two)
    first = state.body_hash is None
    parsed: list[tuple[Article, list[Match] | None]]
    try:
        if first:
            parsed = list(
                await ctx.processor.parse_and_match(
                    result.body,
                    url=result.url,
                    source=source.name,
                    fetched=now,
                    headers=result.headers,
                )
            )
        else:
            parsed = [
                (a, None)
                for a in await ctx.processor.parse(
                    result.body,
                    url=result.url,
                    source=source.name,
                    fetched=now,
                    headers=result.headers,
                )
            ]
    except ParseError as e:
        return await _failed(source, ctx, f"parse error: {e}", state.failures + 1, started, None)

    fresh = _unique(parsed)
    new_ids = await ctx.store.unseen(source.name, [a.identity for a, _ in fresh])
    new = [(a, found) for a, found in fresh if a.identity in new_ids]
    unmatched = [a for a, found in new if found is None]
    matched = iter(await ctx.processor.match(unmatched))
    batch = [(a, found if found is not None else next(matched)) for a, found in new]
    added = await ctx.store.add_articles(
        source.name, batch, ctx.channels_for, now, ctx.stories, ctx.deliver_at
    )
    await _succeeded(source, ctx, now, replace(validators, body_hash=body_hash))
    outcome = _outcome(
        source,
        "ok",
        started,
        entries=len(parsed),
        new_articles=added.new_articles,
        matches=added.matches,
        alerts=added.alerts,
    )
    event(
        log,
        logging.INFO,
        "poll ok",
        source=source.name,
        entries=outcome.entries,
        new=outcome.new_articles,
        matches=outcome.matches,
        alerts=outcome.alerts,
        ms=round(outcome.elapsed * 1000),
    )
    return outcome


async def _succeeded(
    source: Source, ctx: PipelineContext, now: datetime, record: PollRecord
) -> None:
    """Record a successful poll; the next one is due one interval from now."""
    due = next_due(source.interval, now)
    await ctx.store.record_poll(source.name, replace(record, next_due=due), now)


def _unique(
    parsed: list[tuple[Article, list[Match] | None]],
) -> list[tuple[Article, list[Match] | None]]:
    """First entry of each identity (feeds repeat guids)."""
    seen: set[str] = set()
    out = []
    for a, found in parsed:
        if a.identity not in seen:
            seen.add(a.identity)
            out.append((a, found))
    return out


async def _failed(
    source: Source,
    ctx: PipelineContext,
    error: str,
    failures: int,
    started: float,
    retry_after: float | None,
    gone: bool = False,
) -> PollOutcome:
    now = ctx.now()
    due = next_due(source.interval, now, failures, retry_after, ctx.rand)
    if gone:
        error = "gone (410): no longer polled; remove it or change its URL"
    await ctx.store.record_poll(
        source.name, PollRecord(ok=False, next_due=due, error=error, gone=gone), now
    )
    event(
        log,
        logging.WARNING,
        "poll failed",
        source=source.name,
        error=error,
        failures=failures,
        next=due.isoformat(timespec="seconds"),
    )
    return _outcome(source, "error", started, error=error, retry_after=retry_after)


def _outcome(source: Source, status: str, started: float, **kw: object) -> PollOutcome:
    return PollOutcome(source.name, status, elapsed=time.monotonic() - started, **kw)  # type: ignore[arg-type]
