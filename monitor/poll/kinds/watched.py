"""``kind: page`` with ``watch: text``: a page watched for new text (a statement page, a
live blog); its text blocks not seen before are what it gives, as one article. The blocks'
hashes are what it keeps between polls."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.models import Source, SourceState
from monitor.parse.feeds import make_article
from monitor.parse.pages import page_title, text_blocks
from monitor.poll.kinds import Entry, Fetched, Harvest, SourceKind

if TYPE_CHECKING:
    from monitor.poll.context import PipelineContext


async def harvest(
    source: Source, ctx: PipelineContext, _state: SourceState, doc: Fetched, now: datetime
) -> Harvest:
    """The page's text blocks not seen before, as one article (nothing when none)."""
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
    return Harvest([Entry(replace(article, raw_html=doc.body))])


async def keep(source: Source, ctx: PipelineContext, got: Harvest, now: datetime) -> None:
    """The blocks read are seen: the next poll gives only what is added after them."""
    hashes = [_block_hash(b) for e in got.entries for b in e.article.text.split("\n\n")]
    await ctx.store.remember_blocks(source.name, hashes, now)


def _block_hash(block: str) -> str:
    return hashlib.sha256(" ".join(block.split()).casefold().encode()).hexdigest()[:32]


KIND = SourceKind("text", harvest, keep=keep)
