"""Kinds of source: each a module that owns its detection, what a document of its kind gives,
and the state it keeps between polls; ``registry`` lists them by the ``kind:`` a
configuration names them by.

=========  ===================================================================  ==========
kind       a document of it gives                                               module
=========  ===================================================================  ==========
feed       its entries (a teaser feed's entries with their pages' full text)    ``feed``
sitemap    the article pages behind its new URLs                                ``sitemap``
page       the article pages behind its new links (a listing page)              ``listing``
text       its text blocks not seen before, as one article (``watch: text``)    ``watched``
=========  ===================================================================  ==========

The records between a kind and the pipeline are here; reading linked article pages, which
listings, sitemaps and teaser feeds share, is in ``linked``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.lazyregistry import LazyRegistry
from monitor.models import Article, Match, Source, SourceState

if TYPE_CHECKING:
    from monitor.poll.context import PipelineContext

#: every kind by the ``kind:`` a configuration names it by, in the order ``kind: auto`` asks
#: them, each module imported when first looked up (the configuration checks names against
#: it, loading none of them); a plug-in adds one as to a dict (``KINDS["name"] = KIND``)
KINDS: LazyRegistry[SourceKind] = LazyRegistry(
    {
        "sitemap": "monitor.poll.kinds.sitemap",
        "feed": "monitor.poll.kinds.feed",
        "page": "monitor.poll.kinds.listing",
        "text": "monitor.poll.kinds.watched",
    }
)


@dataclass(frozen=True, slots=True)
class Fetched:
    """A document in hand: where it came from, its bytes, its response headers."""

    url: str
    body: bytes
    headers: Mapping[str, str]

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


@dataclass(frozen=True, slots=True)
class Entry:
    """An article a document gave, with its matches when they were found as it was read (a new
    feed's entries are read and matched in one trip to a worker process), else None."""

    article: Article
    matches: list[Match] | None = None


@dataclass(frozen=True, slots=True)
class Harvest:
    """What one document gave."""

    entries: list[Entry]
    #: more is waiting (links not fetched yet): read the document again at the next poll,
    #: even if it has not changed
    more: bool = False


Harvester = Callable[
    ["Source", "PipelineContext", "SourceState", Fetched, datetime], Awaitable[Harvest]
]
#: new (or edited) entries completed before they are matched and stored, knowing the harvest
Completer = Callable[["Source", "PipelineContext", Harvest, list[Entry]], Awaitable[list[Entry]]]
#: what a kind keeps once a document's entries are stored
Keeper = Callable[["Source", "PipelineContext", Harvest, datetime], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SourceKind:
    """What a kind of source declares beside its code, and ``registry`` lists."""

    #: the ``kind:`` a configuration names it by
    name: str
    #: what a document of this kind gives
    harvest: Harvester
    #: is a document of this kind? (``kind: auto`` and ``monitor inspect`` ask, in the
    #: registry's order); None: only when a source names it
    detect: Callable[[bytes], bool] | None = None
    #: completes new and edited entries (a teaser feed's full text); None: as they are
    complete: Completer | None = None
    #: keeps what the next poll needs once the entries are stored (a watched page's blocks)
    keep: Keeper | None = None
