"""``kind: sitemap``: a sitemap or a sitemap index; the article pages behind its new URLs,
newest first, are what it gives."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from monitor.errors import FetchError, ParseError
from monitor.logs import event
from monitor.models import Source, SourceState
from monitor.parse.pages import is_sitemap, parse_sitemap
from monitor.poll.kinds import Entry, Fetched, Harvest, SourceKind
from monitor.poll.kinds.linked import read_links

if TYPE_CHECKING:
    from monitor.poll.context import PipelineContext

log = logging.getLogger("monitor.harvest")

#: child sitemaps of a sitemap index read per poll (the newest by lastmod)
SITEMAP_CHILDREN = 3


async def harvest(
    source: Source, ctx: PipelineContext, _state: SourceState, doc: Fetched, now: datetime
) -> Harvest:
    """A sitemap's (or a sitemap index's newest sitemaps') new URLs, newest first, each
    fetched and read; at most ``max_new`` a poll."""
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
    read, more = await read_links(source, ctx, waiting, now)
    out = []
    for url, page in read.items():
        entry = by_url[url]
        title = page.title or entry.title
        out.append(Entry(replace(page, title=title, published=page.published or entry.modified)))
    # an index's sitemaps change without the index changing; and what is left waiting is
    # read at the next poll even if nothing changed
    return Harvest(out, more=bool(sitemap.children) or more)


KIND = SourceKind("sitemap", harvest, detect=is_sitemap)
