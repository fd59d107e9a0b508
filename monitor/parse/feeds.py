"""Feed documents (RSS 0.9x/1.0/2.0, Atom, JSON Feed) → Article records, via feedparser.

Pure: bytes and headers in, records out. feedparser is confined to this module. Dates become
UTC or None (never invented); links are resolved against the feed URL and made canonical; an
entry with neither guid nor link gets a stable identity from its content.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from monitor.errors import ParseError
from monitor.models import Article
from monitor.parse import fastfeed
from monitor.parse.html import clean_text, html_to_text
from monitor.parse.urls import canonical_url


def content_hash(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()


def parse_feed(
    body: bytes,
    *,
    url: str,
    source: str,
    fetched: datetime,
    headers: Mapping[str, str] | None = None,
    fast: bool = True,
) -> list[Article]:
    """Entries of a feed document; ParseError when the bytes hold no feed at all.

    A plain UTF-8 RSS 2.0 or Atom document is read by ``fastfeed`` (same records, a tenth of
    the time); anything else, or ``fast=False``, by feedparser."""
    body = _ungzip(body)
    if _looks_like_json(body):
        return parse_json_feed(body, url=url, source=source, fetched=fetched)
    content_type = headers.get("content-type") if headers else None
    entries = fastfeed.read(body, url, content_type) if fast else None
    if entries is None:
        entries = [_raw(e) for e in _feedparser_entries(body, url, content_type)]
    return _articles(entries, base=url, source=source, fetched=fetched)


def _feedparser_entries(body: bytes, url: str, content_type: str | None) -> list[Any]:
    """feedparser's entries for any document, the reference reader; ParseError if none."""
    response_headers = {"content-location": url}
    if content_type:
        response_headers["content-type"] = content_type
    import feedparser  # here: ~40 ms to load, and plain feeds never need it (fastfeed)

    try:
        # no sanitising or URI rewriting inside content: we reduce it to text and escape all
        # output ourselves, and entry links are resolved below (halves feedparser's time)
        parsed = feedparser.parse(
            body,
            response_headers=response_headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as e:  # feedparser is meant not to raise; if it does, it is this source's
        raise ParseError(f"feed parser failed: {type(e).__name__}: {e}") from e
    entries = parsed.get("entries") or []
    if not entries:
        if not parsed.get("version"):  # a valid feed with no entries still has a version
            exc = parsed.get("bozo_exception")
            if not body.strip():
                raise ParseError("empty document")
            head = body[:1024].lower()
            if b"<html" in head or b"<!doctype html" in head:
                raise ParseError(
                    "not a feed: the URL returned an HTML page (did you mean kind: page?)"
                )
            if exc is not None:
                raise ParseError(f"not a feed: {_xml_problem(exc)}")
            raise ParseError("not a feed")
        return []
    return list(entries)


def _xml_problem(exc: object) -> str:
    """``<unknown>:2:0: syntax error`` → ``XML syntax error at line 2``."""
    m = re.match(r"<[^>]*>:(\d+):\d+: (.*)", str(exc))
    if m:
        return f"XML {m.group(2)} at line {m.group(1)}"
    return str(exc)


def _articles(
    entries: list[fastfeed.RawEntry], *, base: str, source: str, fetched: datetime
) -> list[Article]:
    out = []
    for entry in entries:
        article = _article(entry, base=base, source=source, fetched=fetched)
        if article is not None:
            out.append(article)
    return out


MAX_GUNZIPPED = 15 * 1024 * 1024


def _ungzip(body: bytes) -> bytes:
    """A gzip body sent without Content-Encoding (it happens) is unpacked, within a bound."""
    if not body.startswith(b"\x1f\x8b"):
        return body
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(body, MAX_GUNZIPPED)
    except zlib.error as e:
        raise ParseError(f"broken gzip data: {e}") from e
    if d.unconsumed_tail:
        raise ParseError(f"gzip data unpacks to more than {MAX_GUNZIPPED} bytes")
    return out


_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:RDF|RDF)[\s>]")


def looks_like_feed(body: bytes) -> bool:
    """Whether a document is a feed rather than a web page, from its first bytes: a gzip
    body, a JSON Feed, or XML whose root is rss, feed or rdf:RDF (an XHTML page is not)."""
    if body.startswith(b"\x1f\x8b"):
        return True
    if _looks_like_json(body):
        return b"jsonfeed.org" in body[:4096]
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")) or b"\x00" in head[:8]:
        return True  # UTF-16/32: no web page we read is sent like that; feedparser decides
    if b"<html" in head.lower()[:1024] and not _FEED_ROOT.search(head):
        return False
    return bool(_FEED_ROOT.search(head)) or head.startswith(b"<?xml")


def _looks_like_json(body: bytes) -> bool:
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return head == b"{"


def parse_json_feed(body: bytes, *, url: str, source: str, fetched: datetime) -> list[Article]:
    """JSON Feed 1.0 and 1.1 (https://jsonfeed.org), tolerant of wrong types in any field."""
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ParseError(f"not a feed: invalid JSON: {e}") from e
    if not isinstance(doc, dict) or "jsonfeed.org" not in str(doc.get("version", "")):
        raise ParseError("not a feed: JSON without a jsonfeed.org version")
    items = doc.get("items")
    base = _url(doc.get("feed_url")) or url
    out = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        title = html_to_text(_text(item.get("title")))
        html = _text(item.get("content_html"))
        text = html_to_text(html) if html else clean_text(_text(item.get("content_text")))
        if not text:
            text = clean_text(_text(item.get("summary")))
        link = canonical_url(_url(item.get("url")) or _url(item.get("external_url")), base)
        guid = _text(item.get("id")) or None
        if not (title or text or link):
            continue
        published = _iso_date(item.get("date_published")) or _iso_date(item.get("date_modified"))
        out.append(make_article(source, guid, link, title, text, published, fetched))
    return out


def _text(value: Any) -> str:
    """A JSON value that should be a string: numbers become text, anything else nothing."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _url(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _iso_date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        return None  # a date without a zone is not invented into UTC
    return dt.astimezone(UTC)


def _raw(entry: Any) -> fastfeed.RawEntry:
    """A feedparser entry, reduced to what the fast reader gives."""
    contents: list[str] = []
    for content in entry.get("content") or []:
        value = content.get("value") if isinstance(content, dict) else None
        if value:
            contents.append(value)
    if entry.get("summary"):
        contents.append(entry["summary"])
    return fastfeed.RawEntry(
        title=entry.get("title") or "",
        link=entry.get("link") or "",
        guid=entry.get("id") or None,
        contents=tuple(contents),
        published=_date(entry),
    )


def _article(
    entry: fastfeed.RawEntry, *, base: str, source: str, fetched: datetime
) -> Article | None:
    title = html_to_text(entry.title)
    texts = [html_to_text(c) for c in entry.contents if c]
    text = max(texts, key=len) if texts else ""  # the longest of contents and summary
    link = canonical_url(entry.link, base)
    guid = (entry.guid or "").strip() or None
    if not (title or text or link):
        return None
    return make_article(source, guid, link, title, text, entry.published, fetched)


def make_article(
    source: str,
    guid: str | None,
    link: str,
    title: str,
    text: str,
    published: datetime | None,
    fetched: datetime,
) -> Article:
    """An Article, identified by its guid, else its link, else its content."""
    digest = content_hash(title, text)
    return Article(
        source=source,
        identity=guid or link or "sha256:" + digest[:32],
        url=link,
        guid=guid,
        title=" ".join(title.split()),
        text=text,
        published=published,
        fetched=fetched,
        content_hash=digest,
    )


def _date(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = dict.get(entry, key)  # the raw value, not feedparser's deprecated key mapping
        if value:
            try:
                dt = datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, OSError, TypeError):
                continue
            if dt.year >= 1980:
                return dt
    return None
