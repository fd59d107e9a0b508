"""``poll_source``: the whole story of one source, top to bottom.

fetch (conditional) → not modified or the same body? record and stop → what kind of document
(``harvest``: a feed's entries, a listing page's or sitemap's new articles, a watched page's
new text) → new and edited entries (by identity and content hash) → full text for teaser
feeds → match → store new articles and revisions, matches and alert rows → record the outcome,
the source's health and when to poll next (``schedule.poll_delay``). Delivery happens
afterwards, from the outbox. Expected failures (fetch, parse) are recorded for the source and
returned as the outcome; anything else is a bug and propagates.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from monitor import harvest
from monitor.context import PipelineContext
from monitor.errors import FetchError, ParseError
from monitor.health import after_failure, after_success
from monitor.logs import event
from monitor.models import Article, Match, PollOutcome, Source, SourceState
from monitor.schedule import Bounds, Signals, learn_publish_interval, next_due
from monitor.store import PollRecord

log = logging.getLogger("monitor.pipeline")


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
        return await _failed(source, ctx, state, str(e), started, e.retry_after, gone=gone)

    moved = result.url if result.permanent_redirect and result.url != state.url else None
    now = ctx.now()
    if result.not_modified:
        record = PollRecord(ok=True, next_due=now, url=moved)
        await _succeeded(source, ctx, now, record, state, result.headers)
        return _outcome(source, "not-modified", started, fetch_seconds=result.elapsed)

    body_hash = hashlib.sha256(result.body).hexdigest()
    etag, last_modified = result.headers.get("etag"), result.headers.get("last-modified")
    validators = PollRecord(
        ok=True, next_due=now, url=moved, etag=etag, last_modified=last_modified
    )
    if body_hash == state.body_hash:
        await _succeeded(source, ctx, now, validators, state, result.headers, result.body)
        return _outcome(
            source,
            "unchanged",
            started,
            fetch_seconds=result.elapsed,
            fetched_bytes=len(result.body),
        )

    fetched = harvest.Fetched(result.url, result.body, result.headers)
    record = replace(validators, body_hash=body_hash)
    try:
        kind, detected, fetched, record = await harvest.resolve_kind(source, ctx, fetched, record)
        if kind == "feed":
            got = await harvest.feed_entries(source, ctx, state, fetched, now)
        elif kind == "sitemap":
            got = await harvest.sitemap_articles(source, ctx, fetched, now)
        elif source.watch == "text":
            got = await harvest.page_text(source, ctx, fetched, now)
        else:
            got = await harvest.page_links(source, ctx, fetched, now)
    except FetchError as e:  # the feed a page announced could not be fetched
        return await _failed(source, ctx, state, str(e), started, e.retry_after)
    except ParseError as e:
        return await _failed(source, ctx, state, f"parse error: {e}", started, None)

    parsed = got.entries
    record = replace(record, reread=got.more)
    fresh = _unique(parsed)
    stored = await ctx.store.stored_hashes(source.name, [a.identity for a, _ in fresh])
    new = [(a, m) for a, m in fresh if a.identity not in stored]
    edited = [
        (a, m) for a, m in fresh if a.identity in stored and stored[a.identity] != a.content_hash
    ]
    if kind == "feed" and harvest.wants_full_text(source, [a for a, _ in fresh]):
        new = await harvest.with_full_text(source, ctx, new)
        edited = await harvest.with_full_text(source, ctx, edited)
    unmatched = [a for a, m in new + edited if m is None]
    matched = iter(await ctx.processor.match(unmatched))
    done = [(a, m if m is not None else next(matched)) for a, m in new + edited]
    added = await ctx.store.add_articles(
        source.name, done[: len(new)], ctx.channels_for, now, ctx.stories, ctx.deliver_at
    )
    revised = await ctx.store.revise_articles(
        source.name, done[len(new) :], ctx.channels_for, now, ctx.stories, ctx.deliver_at
    )
    if kind == "page" and source.watch == "text":
        await ctx.store.remember_blocks(source.name, harvest.blocks_of(parsed), now)
    await _succeeded(
        source,
        ctx,
        now,
        replace(record, detected=detected),
        state,
        fetched.headers,  # the document read: the feed a page announced, if it did
        fetched.body,
        added.new_articles,
    )
    outcome = _outcome(
        source,
        "ok",
        started,
        entries=len(parsed),
        new_articles=added.new_articles,
        revised=revised.new_articles,
        matches=added.matches + revised.matches,
        alerts=added.alerts + revised.alerts,
        fetch_seconds=result.elapsed,
        fetched_bytes=len(result.body),
    )
    event(
        log,
        logging.INFO,
        "poll ok",
        source=source.name,
        kind=kind,
        entries=outcome.entries,
        new=outcome.new_articles,
        edited=outcome.revised,
        matches=outcome.matches,
        alerts=outcome.alerts,
        ms=round(outcome.elapsed * 1000),
    )
    return outcome


async def _succeeded(
    source: Source,
    ctx: PipelineContext,
    now: datetime,
    record: PollRecord,
    state: SourceState,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    new: int = 0,
) -> None:
    """Record a successful poll and when the next one is due (``schedule.poll_delay``): what
    the server asked (max-age, the feed's TTL) and what the source's history says."""
    learned = learn_publish_interval(state.publish_interval, state.last_new, now, new)
    fresh = new > 0 or state.last_new is None  # something new now (or the first poll)
    last_new = now if fresh or state.last_new is None else state.last_new
    signals = Signals(
        max_age=_max_age(headers or {}),
        ttl=_ttl(body),
        publish_interval=learned,
        quiet_for=(now - last_new).total_seconds(),
    )
    due = next_due(_bounds(source), now, signals, ctx.rand) or now
    health, notices = after_success(ctx.health, source, state, now, new, learned)
    await ctx.store.record_poll(
        source.name,
        replace(
            record,
            next_due=due,
            publish_interval=learned,
            last_new=now if fresh else None,
            health=health,
            notices=notices,
        ),
        now,
    )


def _bounds(source: Source) -> Bounds:
    return Bounds(source.interval, source.min_interval, source.max_interval, source.adapt)


_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)
_TTL = re.compile(rb"<ttl>\s*(\d+)\s*</ttl>")


def _max_age(headers: Mapping[str, str]) -> float | None:
    m = _MAX_AGE.search(headers.get("cache-control", ""))
    return float(m.group(1)) if m else None


def _ttl(body: bytes) -> float | None:
    """An RSS feed's <ttl> (minutes), read from the channel's head."""
    m = _TTL.search(body, 0, 16384)
    return float(m.group(1)) * 60 if m else None


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
    state: SourceState,
    error: str,
    started: float,
    retry_after: float | None,
    gone: bool = False,
) -> PollOutcome:
    now = ctx.now()
    failures = state.failures + 1
    signals = Signals(failures=failures, retry_after=retry_after)
    due = next_due(_bounds(source), now, signals, ctx.rand) or now
    if gone:
        error = "gone (410): no longer polled; remove it or change its URL"
    health, notices = after_failure(ctx.health, source, state, failures, error, gone, now)
    record = PollRecord(
        ok=False, next_due=due, error=error, gone=gone, health=health, notices=notices
    )
    await ctx.store.record_poll(source.name, record, now)
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
