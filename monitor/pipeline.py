"""``poll_source``: the whole story of one source, top to bottom.

load state → fetch → (not modified? record and stop) → (same body? record and stop) → parse →
keep the new entries → match them → store articles, matches and alert rows in one transaction →
record the outcome and the next due time. Delivery happens afterwards, from the outbox.
Expected failures (fetch, parse) are recorded for the source and returned as the outcome;
anything else is a bug and propagates.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from monitor.errors import FetchError, ParseError
from monitor.fetch import Fetcher
from monitor.health import HealthPolicy, after_failure, after_success
from monitor.logs import event
from monitor.models import Article, Match, PollOutcome, Source, SourceState
from monitor.parse.feeds import looks_like_feed, make_article
from monitor.parse.pages import (
    discover_feeds,
    extract_article,
    find_links,
    is_sitemap,
    page_title,
    parse_sitemap,
    text_blocks,
)
from monitor.schedule import Bounds, Signals, learn_publish_interval, next_due
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
    #: operational notices about failing and silent sources
    health: HealthPolicy = field(default_factory=lambda: HealthPolicy(()))


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
        return _outcome(
            source, "not-modified", started, fetch_seconds=result.elapsed, fetched_bytes=0
        )

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

    fetched = Fetched(result.url, result.body, result.headers.get("content-type"))
    record = replace(validators, body_hash=body_hash)
    try:
        kind, detected, fetched, record = await _resolve_kind(source, ctx, fetched, record)
        if kind == "feed":
            harvest = await _feed_entries(source, ctx, state, fetched, now)
        elif kind == "sitemap":
            harvest = await _sitemap_articles(source, ctx, fetched, now)
        elif source.watch == "text":
            harvest = await _page_text(source, ctx, fetched, now)
        else:
            harvest = await _page_links(source, ctx, fetched, now)
    except FetchError as e:  # the feed a page announced could not be fetched
        return await _failed(source, ctx, state, str(e), started, e.retry_after)
    except ParseError as e:
        return await _failed(source, ctx, state, f"parse error: {e}", started, None)

    parsed = harvest.entries
    record = replace(record, reread=harvest.more)
    fresh = _unique(parsed)
    stored = await ctx.store.stored_hashes(source.name, [a.identity for a, _ in fresh])
    new = [(a, m) for a, m in fresh if a.identity not in stored]
    edited = [
        (a, m) for a, m in fresh if a.identity in stored and stored[a.identity] != a.content_hash
    ]
    if kind == "feed" and _wants_full_text(source, [a for a, _ in fresh]):
        new = await _with_full_text(source, ctx, new)
        edited = await _with_full_text(source, ctx, edited)
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
        await ctx.store.remember_blocks(source.name, _blocks_of(parsed), now)
    await _succeeded(
        source,
        ctx,
        now,
        replace(record, detected=detected),
        state,
        result.headers,
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


@dataclass(frozen=True, slots=True)
class Harvest:
    """What one document gave: entries (matched already, or None to match)."""

    entries: list[tuple[Article, list[Match] | None]]
    #: more is waiting (links not fetched yet): read the document again at the next poll,
    #: even if it has not changed
    more: bool = False


@dataclass(frozen=True, slots=True)
class Fetched:
    """A document in hand: where it came from, its bytes, its declared type."""

    url: str
    body: bytes
    content_type: str | None


async def _resolve_kind(
    source: Source, ctx: PipelineContext, doc: Fetched, record: PollRecord
) -> tuple[str, str | None, Fetched, PollRecord]:
    """What to read the document as. ``kind: auto``: a feed; else the feed the page announces
    with <link rel="alternate"> (fetched now, and polled instead of the page from now on);
    else the page itself."""
    if source.kind == "sitemap" or (source.kind == "auto" and is_sitemap(doc.body)):
        return "sitemap", "sitemap" if source.kind == "auto" else None, doc, record
    if source.kind == "feed" or (source.kind == "auto" and looks_like_feed(doc.body)):
        return "feed", "feed" if source.kind == "auto" else None, doc, record
    if source.kind == "auto":
        feeds = await ctx.processor.run(discover_feeds, doc.body, doc.url, doc.content_type)
        if feeds:
            feed = await ctx.fetcher.fetch(feeds[0], user_agent=source.user_agent, trusted=False)
            found = Fetched(feed.url, feed.body, feed.headers.get("content-type"))
            moved = PollRecord(
                ok=True,
                next_due=record.next_due,
                url=feed.url,
                etag=feed.headers.get("etag"),
                last_modified=feed.headers.get("last-modified"),
                body_hash=hashlib.sha256(feed.body).hexdigest(),
            )
            return "feed", f"feed {feed.url}, announced by {source.url}", found, moved
        return "page", f"page, watching {source.watch}", doc, record
    return "page", None, doc, record


async def _feed_entries(
    source: Source, ctx: PipelineContext, state: SourceState, doc: Fetched, now: datetime
) -> Harvest:
    headers = {"content-type": doc.content_type} if doc.content_type else {}
    if state.body_hash is None and source.full_text is not True:
        # nothing read from this source yet: its entries are all new, so match them as they
        # are parsed (one trip to a worker process instead of two)
        pairs = await ctx.processor.parse_and_match(
            doc.body, url=doc.url, source=source.name, fetched=now, headers=headers
        )
        return Harvest([(a, m) for a, m in pairs])
    articles = await ctx.processor.parse(
        doc.body, url=doc.url, source=source.name, fetched=now, headers=headers
    )
    return Harvest([(a, None) for a in articles])


async def _page_links(source: Source, ctx: PipelineContext, doc: Fetched, now: datetime) -> Harvest:
    """New article links on a listing page, each fetched (politely, never to private
    addresses unless allowed) and read; at most ``max_new`` a poll, the rest next time."""
    links = await ctx.processor.run(
        find_links,
        doc.body,
        doc.url,
        selector=source.link_selector,
        pattern=source.link_pattern,
        same_site=source.same_site,
        content_type=doc.content_type,
    )
    if not links:
        return Harvest([])
    unseen = await ctx.store.unseen(source.name, links)
    waiting = [link for link in links if link in unseen]
    todo = waiting[: source.max_new]
    pages = await asyncio.gather(*(_article_page(source, ctx, link, now) for link in todo))
    # what is left (or failed) is read at the next poll, even if the page has not changed
    more = len(waiting) > len(todo) or None in pages
    return Harvest([(a, None) for a in pages if a is not None], more)


#: child sitemaps of a sitemap index read per poll (the newest by lastmod)
SITEMAP_CHILDREN = 3


async def _sitemap_articles(
    source: Source, ctx: PipelineContext, doc: Fetched, now: datetime
) -> Harvest:
    """A sitemap's (or sitemap index's newest sitemaps') new URLs, newest first, each fetched
    and read; at most ``max_new`` a poll."""
    sitemap = await ctx.processor.run(parse_sitemap, doc.body, doc.url)
    entries = list(sitemap.entries)
    for child in sitemap.children[:SITEMAP_CHILDREN]:
        try:
            got = await ctx.fetcher.fetch(child.url, user_agent=source.user_agent, trusted=False)
            entries += (await ctx.processor.run(parse_sitemap, got.body, got.url)).entries
        except (FetchError, ParseError) as e:
            event(
                log,
                logging.WARNING,
                "sitemap skipped",
                source=source.name,
                url=child.url,
                error=str(e),
            )
    floor = datetime.min.replace(tzinfo=UTC)
    entries.sort(key=lambda e: e.modified or floor, reverse=True)
    by_url = {e.url: e for e in reversed(entries)}  # the newest entry of each URL wins
    unseen = await ctx.store.unseen(source.name, list(by_url))
    waiting = [url for url in dict.fromkeys(e.url for e in entries) if url in unseen]
    todo = waiting[: source.max_new]
    pages = await asyncio.gather(*(_article_page(source, ctx, url, now) for url in todo))
    out: list[tuple[Article, list[Match] | None]] = []
    for url, page in zip(todo, pages, strict=True):
        if page is None:
            continue
        entry = by_url[url]
        out.append(
            (
                replace(
                    page,
                    title=page.title or entry.title,
                    published=page.published or entry.modified,
                ),
                None,
            )
        )
    # an index's sitemaps change without the index changing; and what is left waiting is
    # read at the next poll even if nothing changed
    return Harvest(out, more=bool(sitemap.children) or len(waiting) > len(todo) or None in pages)


async def _article_page(
    source: Source, ctx: PipelineContext, link: str, now: datetime
) -> Article | None:
    """An article page fetched and read; None (logged) when it cannot be: it is tried again
    at the next poll."""
    try:
        page = await ctx.fetcher.fetch(link, user_agent=source.user_agent, trusted=False)
        got = await ctx.processor.run(
            extract_article, page.body, page.url, page.headers.get("content-type")
        )
    except (FetchError, ParseError) as e:
        event(
            log, logging.WARNING, "article page skipped", source=source.name, url=link, error=str(e)
        )
        return None
    article = make_article(source.name, None, link, got.title, got.text, got.published, now)
    return replace(article, raw_html=page.body)


async def _page_text(source: Source, ctx: PipelineContext, doc: Fetched, now: datetime) -> Harvest:
    """A watched page: its text blocks not seen before, as one article (nothing when none)."""
    blocks = await ctx.processor.run(text_blocks, doc.body, doc.content_type)
    by_hash = {_block_hash(b): b for b in blocks}
    unseen = await ctx.store.unseen_blocks(source.name, list(by_hash))
    added = [b for h, b in by_hash.items() if h in unseen]
    if not added:
        return Harvest([])
    title = await ctx.processor.run(page_title, doc.body, doc.content_type)
    text = "\n\n".join(added)
    identity = "text:" + hashlib.sha256(text.encode()).hexdigest()[:32]
    article = make_article(source.name, identity, doc.url, title, text, None, now)
    return Harvest([(replace(article, raw_html=doc.body), None)])


def _block_hash(block: str) -> str:
    return hashlib.sha256(" ".join(block.split()).casefold().encode()).hexdigest()[:32]


def _blocks_of(parsed: list[tuple[Article, list[Match] | None]]) -> list[str]:
    return [_block_hash(b) for a, _ in parsed for b in a.text.split("\n\n")]


#: feed entries whose text is all shorter than this are teasers: read their pages
TEASER_CHARS = 500


def _wants_full_text(source: Source, articles: list[Article]) -> bool:
    if source.full_text == "auto":
        return bool(articles) and all(len(a.text) < TEASER_CHARS and a.url for a in articles)
    return source.full_text is True


async def _with_full_text(
    source: Source, ctx: PipelineContext, entries: list[tuple[Article, list[Match] | None]]
) -> list[tuple[Article, list[Match] | None]]:
    """Each entry with its page's full text (the feed's text kept as the summary); at most
    ``max_new`` pages a poll, the rest keep the feed's text."""
    out: list[tuple[Article, list[Match] | None]] = []
    todo = [a for a, _ in entries if a.url][: source.max_new]
    pages = await asyncio.gather(*(_article_page(source, ctx, a.url, a.fetched) for a in todo))
    full = {a.identity: p for a, p in zip(todo, pages, strict=True) if p is not None}
    for a, m in entries:
        page = full.get(a.identity)
        if page is None or len(page.text) <= len(a.text):
            out.append((a, m))
            continue
        out.append(
            (
                replace(
                    a,
                    text=page.text,
                    summary=a.text,
                    published=a.published or page.published,
                    raw_html=page.raw_html,
                ),
                None,  # matched again on the full text
            )
        )
    return out


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
    last_new = now if new or state.last_new is None else state.last_new
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
            last_new=now if new or state.last_new is None else None,
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
