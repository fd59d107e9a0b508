"""Every kind of source, by the ``kind:`` a configuration names it by, in the order ``kind:
auto`` asks them whether a document is theirs. A new kind is a module that declares its
``KIND`` beside its code, and one line in ``poll.kinds.KINDS``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.models import Source
from monitor.parse.pages import discover_feeds
from monitor.poll.kinds import KINDS, Fetched, SourceKind
from monitor.store import PollRecord

if TYPE_CHECKING:
    from monitor.poll.context import PipelineContext


def detect(body: bytes) -> SourceKind | None:
    """The kind that recognises this document (a sitemap, a feed), if one does."""
    return next((k for k in KINDS.values() if k.detect is not None and k.detect(body)), None)


@dataclass(frozen=True, slots=True)
class Resolved:
    """How a poll reads its document."""

    kind: SourceKind
    #: the document to read: the one fetched, or the feed a page announced
    doc: Fetched
    #: what to record of the poll (the announced feed's URL and validators, when it is one)
    record: PollRecord
    #: for ``kind: auto``, what the document was found to be (shown by ``monitor status``)
    detected: str | None = None


async def resolve(
    source: Source, ctx: PipelineContext, doc: Fetched, record: PollRecord
) -> Resolved:
    """The kind a source names; for ``kind: auto``, the kind that recognises the document,
    else the feed the page announces with <link rel="alternate"> (fetched now, and polled
    instead of the page from now on), else the page itself, read for its links or, with
    ``watch: text``, its text."""
    if source.kind != "auto":
        return Resolved(KINDS[_named(source)], doc, record)
    found = detect(doc.body)
    if found is not None:
        return Resolved(found, doc, record, found.name)
    feeds = await ctx.processor.run(discover_feeds, doc.body, doc.url, doc.content_type)
    if feeds:
        got = await ctx.fetcher.fetch(feeds[0], user_agent=source.user_agent, trusted=False)
        moved = PollRecord(
            ok=True,
            next_due=record.next_due,
            url=got.url,
            etag=got.headers.get("etag"),
            last_modified=got.headers.get("last-modified"),
            body_hash=hashlib.sha256(got.body).hexdigest(),
        )
        announced = Fetched(got.url, got.body, got.headers)
        return Resolved(
            KINDS["feed"], announced, moved, f"feed {got.url}, announced by {source.url}"
        )
    return Resolved(KINDS[_named(source)], doc, record, f"page, watching {source.watch}")


def _named(source: Source) -> str:
    """The kind a source's settings name (``kind: page`` with ``watch: text`` is ``text``)."""
    if source.kind in ("page", "auto"):
        return "text" if source.watch == "text" else "page"
    return source.kind
