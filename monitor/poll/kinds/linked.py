"""Article pages that a document links to (a listing page's links, a sitemap's URLs, a teaser
feed's entries): fetched politely through the content fetcher (never from a private address
unless allowed), read in the processor, at most ``max_new`` a poll; a page that cannot be read
is tried again later, backing off."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from monitor.errors import FetchError, ParseError
from monitor.logs import event
from monitor.models import Article, Source
from monitor.parse.feeds import make_article
from monitor.parse.pages import extract_article

if TYPE_CHECKING:
    from monitor.poll.context import PipelineContext

log = logging.getLogger("monitor.harvest")

#: a link whose page could not be read is tried again after this long, doubled at each
#: failure, up to the cap: not at every poll, and never ahead of new links
LINK_RETRY_FIRST = timedelta(minutes=30)
LINK_RETRY_MAX = timedelta(days=7)


def link_retry_delay(failures: int) -> timedelta:
    """How long after its ``failures``-th failure in a row a link's page is tried again."""
    delay: timedelta = LINK_RETRY_FIRST * (2 ** min(max(failures, 1) - 1, 20))
    return min(delay, LINK_RETRY_MAX)


async def read_links(
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
    pages = await article_pages(source, ctx, todo, now)
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


async def article_pages(
    source: Source, ctx: PipelineContext, links: Sequence[str], now: datetime
) -> list[Article | str]:
    """Article pages fetched and read, or why each could not be; the failures of one poll
    logged as one line (the commonest reason, how many, the first link)."""
    pages = await asyncio.gather(*(article_page(source, ctx, link, now) for link in links))
    failed = [(link, p) for link, p in zip(links, pages, strict=True) if isinstance(p, str)]
    if failed:
        reasons = Counter(reason for _, reason in failed)
        common, times = reasons.most_common(1)[0]
        event(
            log,
            logging.WARNING,
            "article pages skipped" if len(failed) > 1 else "article page skipped",
            source=source.name,
            pages=f"{len(failed)} of {len(links)}",
            error=common if times == len(failed) else f"{common} (×{times}); and other errors",
            url=failed[0][0],
        )
    return pages


async def article_page(
    source: Source, ctx: PipelineContext, link: str, now: datetime
) -> Article | str:
    """An article page fetched and read; or why it could not be."""
    try:
        page = await ctx.fetcher.fetch(link, user_agent=source.user_agent, trusted=False)
        got = await ctx.processor.run(
            extract_article, page.body, page.url, page.headers.get("content-type")
        )
    except (FetchError, ParseError) as e:
        return str(e)
    article = make_article(source.name, None, link, got.title, got.text, got.published, now)
    return replace(article, raw_html=page.body)
