"""``kind: page``: a listing page (a section front, a search result), whose new links lead to
articles; the articles are what it gives. Never detected: a page that is neither a feed nor
announces one is read this way (or, with ``watch: text``, as ``watched``)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from monitor.models import Source, SourceState
from monitor.parse.pages import find_links
from monitor.poll.kinds import Entry, Fetched, Harvest, SourceKind
from monitor.poll.kinds.linked import read_links

if TYPE_CHECKING:
    from monitor.poll.context import PipelineContext


async def harvest(
    source: Source, ctx: PipelineContext, _state: SourceState, doc: Fetched, now: datetime
) -> Harvest:
    """New article links on the page (by ``link_selector``, ``link_pattern``, same site),
    each fetched and read; at most ``max_new`` a poll, the rest next time."""
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
    read, more = await read_links(source, ctx, [link for link in links if link in unseen], now)
    return Harvest([Entry(a) for a in read.values()], more)


KIND = SourceKind("page", harvest)
