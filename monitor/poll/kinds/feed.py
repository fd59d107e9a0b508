"""``kind: feed``: an RSS, Atom or JSON feed; its entries are what it gives. A teaser feed's
new and edited entries (all of them shorter than ``TEASER_CHARS``, or ``full_text: true``)
are completed with their pages' full text."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.models import Article, Source, SourceState
from monitor.parse.feeds import looks_like_feed
from monitor.poll.kinds import Entry, Fetched, Harvest, SourceKind
from monitor.poll.kinds.linked import article_pages

if TYPE_CHECKING:
    from monitor.poll.context import PipelineContext

#: feed entries whose text is all shorter than this are teasers: read their pages
TEASER_CHARS = 500


async def harvest(
    source: Source, ctx: PipelineContext, state: SourceState, doc: Fetched, now: datetime
) -> Harvest:
    headers = doc.headers
    if state.body_hash is None and source.full_text is not True:
        # nothing read from this source yet: its entries are all new, so match them as they
        # are parsed (one trip to a worker process instead of two)
        pairs = await ctx.processor.parse_and_match(
            doc.body, url=doc.url, source=source.name, fetched=now, headers=headers
        )
        return Harvest([Entry(a, m) for a, m in pairs])
    articles = await ctx.processor.parse(
        doc.body, url=doc.url, source=source.name, fetched=now, headers=headers
    )
    return Harvest([Entry(a) for a in articles])


def wants_full_text(source: Source, articles: list[Article]) -> bool:
    """``full_text: auto``: every entry a teaser with a link; or ``full_text: true``."""
    if source.full_text == "auto":
        return bool(articles) and all(len(a.text) < TEASER_CHARS and a.url for a in articles)
    return source.full_text is True


async def complete(
    source: Source, ctx: PipelineContext, got: Harvest, entries: list[Entry]
) -> list[Entry]:
    """Each entry with its page's full text (the feed's text kept as the summary) when the
    feed is a teaser feed; at most ``max_new`` pages a poll, the rest keep the feed's text."""
    if not wants_full_text(source, [e.article for e in got.entries]):
        return entries
    todo = [e.article for e in entries if e.article.url][: source.max_new]
    if not todo:
        return entries
    # one poll's articles share their fetch time
    pages = await article_pages(source, ctx, [a.url for a in todo], todo[0].fetched)
    full = {a.identity: p for a, p in zip(todo, pages, strict=True) if isinstance(p, Article)}
    out = []
    for e in entries:
        a, page = e.article, full.get(e.article.identity)
        if page is None or len(page.text) <= len(a.text):
            out.append(e)
            continue
        with_text = replace(
            a,
            text=page.text,
            summary=a.text,
            published=a.published or page.published,
            raw_html=page.raw_html,
        )
        out.append(Entry(with_text))  # matched again on the full text
    return out


KIND = SourceKind("feed", harvest, detect=looks_like_feed, complete=complete)
