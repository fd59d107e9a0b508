"""``poll_source``: the whole story of one source, top to bottom.

fetch (conditional) → not modified or the same body? record and stop → what kind of document
(``kinds.registry.resolve``) and what it gives (the kind's ``harvest``: a feed's entries, a
listing page's or sitemap's new articles, a watched page's new text) → new and edited entries
(by identity and content hash), completed by the kind (full text for teaser feeds) → match →
store revisions → store new articles, their matches and alert rows with the poll's outcome
(the source's health, when to poll next: ``schedule.next_due``), in one transaction and only
while the poll's lease holds → what the kind keeps. Delivery happens afterwards, from the
outbox. Expected failures (fetch, parse) are recorded for the source and
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

from monitor.errors import FetchError, ParseError
from monitor.logs import event
from monitor.models import PollOutcome, Source, SourceState
from monitor.poll.context import PipelineContext
from monitor.poll.kinds import Entry, Fetched, Harvest, SourceKind
from monitor.poll.kinds.registry import resolve
from monitor.poll.source_health import after_failure, after_success
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
        record = _success(source, ctx, now, record, state, result.headers)
        await ctx.store.record_poll(source.name, record, now)
        return _outcome(source, "not-modified", started, fetch_seconds=result.elapsed)

    body_hash = hashlib.sha256(result.body).hexdigest()
    etag, last_modified = result.headers.get("etag"), result.headers.get("last-modified")
    validators = PollRecord(
        ok=True, next_due=now, url=moved, etag=etag, last_modified=last_modified
    )
    if body_hash == state.body_hash:
        record = _success(source, ctx, now, validators, state, result.headers, result.body)
        await ctx.store.record_poll(source.name, record, now)
        return _outcome(
            source,
            "unchanged",
            started,
            fetch_seconds=result.elapsed,
            fetched_bytes=len(result.body),
        )

    fetched = Fetched(result.url, result.body, result.headers)
    try:
        read = await resolve(source, ctx, fetched, replace(validators, body_hash=body_hash))
        got = await read.kind.harvest(source, ctx, state, read.doc, now)
    except FetchError as e:  # the feed a page announced could not be fetched
        return await _failed(source, ctx, state, str(e), started, e.retry_after)
    except ParseError as e:
        # "not a feed: …" says it all; other parse failures say what failed
        said = str(e) if str(e).startswith("not a feed") else f"parse error: {e}"
        return await _failed(source, ctx, state, said, started, None)

    fresh = _unique(got.entries)
    stored = await ctx.store.stored_hashes(source.name, [e.article.identity for e in fresh])
    new = [e for e in fresh if e.article.identity not in stored]
    edited = [
        e
        for e in fresh
        if e.article.identity in stored and stored[e.article.identity] != e.article.content_hash
    ]
    new, edited = await _completed(read.kind, source, ctx, got, new, edited)
    ctx.outlets.note(source.name, read.doc.url)  # the same feed reached two ways: one outlet
    unmatched = [e.article for e in new + edited if e.matches is None]
    matched = iter(await ctx.processor.match(unmatched))
    done = [
        (e.article, e.matches if e.matches is not None else next(matched)) for e in new + edited
    ]
    revised = await ctx.store.revise_articles(
        source.name, done[len(new) :], now, ctx.planner, state.lease
    )
    record = _success(
        source,
        ctx,
        now,
        replace(read.record, reread=got.more, detected=read.detected),
        state,
        read.doc.headers,  # the document read: the feed a page announced, if it did
        read.doc.body,
        len(new),
    )
    # a source never read before brings its backlog: copies of stories already told join
    # them without a burst of "also reported by"
    planner = ctx.planner.for_backlog() if state.last_success is None else ctx.planner
    added = await ctx.store.add_articles(source.name, done[: len(new)], now, planner, record)
    if read.kind.keep is not None:  # once the entries are stored: at worst read again
        await read.kind.keep(source, ctx, got, now)
    outcome = _outcome(
        source,
        "ok",
        started,
        entries=len(got.entries),
        new_articles=added.new_articles,
        revised=revised.new_articles,
        matches=added.matches + revised.matches,
        alerts=added.alerts + revised.alerts,
        alerted=added.alerted + revised.alerted,
        fetch_seconds=result.elapsed,
        fetched_bytes=len(result.body),
    )
    event(
        log,
        logging.INFO,
        "poll ok",
        source=source.name,
        kind=read.kind.name,
        entries=outcome.entries,
        new=outcome.new_articles,
        edited=outcome.revised,
        matches=outcome.matches,
        alerts=outcome.alerts,
        ms=round(outcome.elapsed * 1000),
    )
    return outcome


def _success(
    source: Source,
    ctx: PipelineContext,
    now: datetime,
    record: PollRecord,
    state: SourceState,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    new: int = 0,
) -> PollRecord:
    """A successful poll's record (``new``: the articles it found), with the source's health
    and when the next poll is due (``schedule.poll_delay``): what the server asked (max-age,
    the feed's TTL) and what the source's history says."""
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
    return replace(
        record,
        lease=state.lease,
        next_due=due,
        publish_interval=learned,
        last_new=now if fresh else None,
        health=health,
        notices=notices,
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


def _unique(entries: list[Entry]) -> list[Entry]:
    """First entry of each identity (feeds repeat guids)."""
    seen: set[str] = set()
    out = []
    for e in entries:
        if e.article.identity not in seen:
            seen.add(e.article.identity)
            out.append(e)
    return out


async def _completed(
    kind: SourceKind,
    source: Source,
    ctx: PipelineContext,
    got: Harvest,
    new: list[Entry],
    edited: list[Entry],
) -> tuple[list[Entry], list[Entry]]:
    """New and edited entries as the kind completes them (a teaser feed's full text)."""
    if kind.complete is None:
        return new, edited
    return await kind.complete(source, ctx, got, new), await kind.complete(source, ctx, got, edited)


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
        ok=False,
        next_due=due,
        error=error,
        gone=gone,
        health=health,
        notices=notices,
        lease=state.lease,
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
