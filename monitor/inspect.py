"""``monitor inspect``: what monitor would take from a document or URL, without storing it.

The document's kind is found as ``kind: auto`` finds it (``poll.kinds.registry.detect``): a
feed gives its entries, a sitemap its article URLs (and child sitemaps); a page gives the
article read from it (``article``) or, when it holds no article text, the links a listing page
offers (``page``); either way the feeds a page announces are listed too.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.config import FetchSettings
from monitor.errors import ParseError
from monitor.fetch import Fetcher
from monitor.models import Article
from monitor.parse.feeds import parse_feed
from monitor.parse.pages import discover_feeds, extract_article, find_links, parse_sitemap
from monitor.poll.kinds import feed, sitemap
from monitor.poll.kinds.registry import detect

#: below this much extracted text a page is a listing, not an article
ARTICLE_CHARS = 200


@dataclass
class Inspection:
    kind: str  # feed | sitemap | article | page
    url: str
    entries: list[dict[str, Any]] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "url": self.url, "entries": self.entries, "feeds": self.feeds}


async def inspect(target: str, settings: FetchSettings, trusted: bool = True) -> Inspection:
    """Read ``target`` (a file path or an http(s) URL) as monitor would; ``trusted=False``:
    an address from someone else (the console's rule tester), fetched as a link found in
    content is (``fetch.allow_private`` decides whether a private address may be reached)."""
    body, url, content_type = await _load(target, settings, trusted)
    now = datetime.now(UTC)
    kind = detect(body)
    if kind is feed.KIND:
        headers = {"content-type": content_type} if content_type else {}
        articles = parse_feed(body, url=url, source="inspect", fetched=now, headers=headers)
        return Inspection("feed", url, [_entry(a) for a in articles])
    if kind is sitemap.KIND:
        found = parse_sitemap(body, url)
        entries = [_link(e.url, e.title, e.modified) for e in found.entries]
        # an index's child sitemaps, where a page would list the feeds it announces
        return Inspection("sitemap", url, entries, [c.url for c in found.children])
    feeds = discover_feeds(body, url, content_type)
    try:
        got = extract_article(body, url, content_type)
    except ParseError:
        got = None
    if got is not None and len(got.text) >= ARTICLE_CHARS:
        entry = {
            "id": url,
            "title": got.title,
            "link": url,
            "published": got.published.isoformat() if got.published else None,
            "text": got.text,
            "author": got.author,
        }
        return Inspection("article", url, [entry], feeds)
    # a saved file has no site of its own: every absolute link on it is shown
    links = find_links(body, url, content_type=content_type, same_site=not url.startswith("file:"))
    entries = [_link(link) for link in links]
    return Inspection("page", url, entries, feeds)


def _link(url: str, title: str = "", published: datetime | None = None) -> dict[str, Any]:
    """An entry that is only a link to an article (a sitemap's URL, a listing's link)."""
    when = published.isoformat() if published is not None else None
    return {"id": url, "title": title, "link": url, "published": when, "text": ""}


def _entry(a: Article) -> dict[str, Any]:
    return {
        "id": a.identity,
        "title": a.title,
        "link": a.url,
        "published": a.published.isoformat() if a.published else None,
        "text": a.text,
    }


async def _load(
    target: str, settings: FetchSettings, trusted: bool = True
) -> tuple[bytes, str, str | None]:
    if target.startswith(("http://", "https://")):
        async with Fetcher(settings) as fetcher:
            result = await fetcher.fetch(target, trusted=trusted)
        return result.body, result.url, result.headers.get("content-type")
    if not trusted:
        raise ParseError(f"not an http(s) address: {target!r}")
    try:
        body, uri = await asyncio.to_thread(_read, target)
    except OSError as e:
        raise ParseError(f"cannot read {target}: {e.strerror or e}") from e
    return body, uri, None


def _read(target: str) -> tuple[bytes, str]:
    path = Path(target)
    return path.read_bytes(), path.absolute().as_uri()
