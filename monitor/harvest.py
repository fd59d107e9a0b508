"""What each kind of source gives: a feed its entries, a listing page or a sitemap the articles
behind its new links, a watched page its new text blocks; and full text for teaser feeds.

Every link taken from a document is fetched through the same fetcher as content (never from a
private address unless allowed); reading and matching run in the processor.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from monitor.context import PipelineContext
from monitor.errors import FetchError, ParseError
from monitor.logs import event
from monitor.models import Article, Match, Source, SourceState
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
from monitor.store import PollRecord

log = logging.getLogger("monitor.harvest")


@dataclass(frozen=True, slots=True)
class Harvest:
    """What one document gave: entries (matched already, or None to match)."""

    entries: list[tuple[Article, list[Match] | None]]
    #: more is waiting (links not fetched yet): read the document again at the next poll,
    #: even if it has not changed
    more: bool = False


@dataclass(frozen=True, slots=True)
class Fetched:
    """A document in hand: where it came from, its bytes, its response headers."""

    url: str
    body: bytes
    headers: Mapping[str, str]

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


async def resolve_kind(
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
            found = Fetched(feed.url, feed.body, feed.headers)
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


async def feed_entries(
    source: Source, ctx: PipelineContext, state: SourceState, doc: Fetched, now: datetime
) -> Harvest:
    headers = doc.headers
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


async def page_links(source: Source, ctx: PipelineContext, doc: Fetched, now: datetime) -> Harvest:
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
    read, more = await _read_links(source, ctx, [link for link in links if link in unseen], now)
    return Harvest([(a, None) for a in read.values()], more)


#: a link whose page could not be read is tried again after this long, doubled at each
#: failure, up to the cap: not at every poll, and never ahead of new links
LINK_RETRY_FIRST = timedelta(minutes=30)
LINK_RETRY_MAX = timedelta(days=7)


def link_retry_delay(failures: int) -> timedelta:
    """How long after its ``failures``-th failure in a row a link's page is tried again."""
    delay: timedelta = LINK_RETRY_FIRST * (2 ** min(max(failures, 1) - 1, 20))
    return min(delay, LINK_RETRY_MAX)


async def _read_links(
    source: Source, ctx: PipelineContext, waiting: list[str], now: datetime
) -> tuple[dict[str, Article], bool]:
    """The pages of links not stored yet, at most ``max_new`` a poll: new links first, then
    those that failed before and are due again. Returns the articles read, by link, and
    whether more is waiting (read the document again at the next poll, unchanged or not)."""
    failed_before = await ctx.store.link_failures(source.name, waiting)
    fresh = [link for link in waiting if link not in failed_before]
    due = [
        link for link in waiting if link in failed_before and failed_before[link].next_try <= now
    ]
    todo = (fresh + due)[: source.max_new]
    pages = await asyncio.gather(*(_article_page(source, ctx, link, now) for link in todo))
    read: dict[str, Article] = {}
    failed: dict[str, tuple[str, datetime]] = {}
    for link, page in zip(todo, pages, strict=True):
        if isinstance(page, Article):
            read[link] = page
            continue
        before = failed_before.get(link)
        failures = (before.failures if before else 0) + 1
        failed[link] = (page, now + link_retry_delay(failures))
    await ctx.store.record_links(
        source.name, failed, [link for link in read if link in failed_before]
    )
    still_failing = (failed_before.keys() - read.keys()) | failed.keys()
    return read, len(fresh) + len(due) > len(todo) or bool(still_failing)


#: child sitemaps of a sitemap index read per poll (the newest by lastmod)
SITEMAP_CHILDREN = 3


async def sitemap_articles(
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
    read, more = await _read_links(source, ctx, waiting, now)
    out: list[tuple[Article, list[Match] | None]] = []
    for url, page in read.items():
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
    return Harvest(out, more=bool(sitemap.children) or more)


async def _article_page(
    source: Source, ctx: PipelineContext, link: str, now: datetime
) -> Article | str:
    """An article page fetched and read; or why it could not be (logged)."""
    try:
        page = await ctx.fetcher.fetch(link, user_agent=source.user_agent, trusted=False)
        got = await ctx.processor.run(
            extract_article, page.body, page.url, page.headers.get("content-type")
        )
    except (FetchError, ParseError) as e:
        event(
            log, logging.WARNING, "article page skipped", source=source.name, url=link, error=str(e)
        )
        return str(e)
    article = make_article(source.name, None, link, got.title, got.text, got.published, now)
    return replace(article, raw_html=page.body)


async def page_text(source: Source, ctx: PipelineContext, doc: Fetched, now: datetime) -> Harvest:
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


def blocks_of(parsed: list[tuple[Article, list[Match] | None]]) -> list[str]:
    return [_block_hash(b) for a, _ in parsed for b in a.text.split("\n\n")]


#: feed entries whose text is all shorter than this are teasers: read their pages
TEASER_CHARS = 500


def wants_full_text(source: Source, articles: list[Article]) -> bool:
    if source.full_text == "auto":
        return bool(articles) and all(len(a.text) < TEASER_CHARS and a.url for a in articles)
    return source.full_text is True


async def with_full_text(
    source: Source, ctx: PipelineContext, entries: list[tuple[Article, list[Match] | None]]
) -> list[tuple[Article, list[Match] | None]]:
    """Each entry with its page's full text (the feed's text kept as the summary); at most
    ``max_new`` pages a poll, the rest keep the feed's text."""
    out: list[tuple[Article, list[Match] | None]] = []
    todo = [a for a, _ in entries if a.url][: source.max_new]
    pages = await asyncio.gather(*(_article_page(source, ctx, a.url, a.fetched) for a in todo))
    full = {a.identity: p for a, p in zip(todo, pages, strict=True) if isinstance(p, Article)}
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
