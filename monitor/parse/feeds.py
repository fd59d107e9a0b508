"""Feed documents (RSS 0.9x/1.0/2.0, Atom, JSON Feed) → Article records, via feedparser.

Pure: bytes and headers in, records out. feedparser is confined to this module. Dates become
UTC or None (never invented); links are resolved against the feed URL and made canonical; an
entry with neither guid nor link gets a stable identity from its content.
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import feedparser

from monitor.errors import ParseError
from monitor.models import Article
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
) -> list[Article]:
    """Entries of a feed document; ParseError when the bytes hold no feed at all."""
    response_headers = {"content-location": url}
    if headers and headers.get("content-type"):
        response_headers["content-type"] = headers["content-type"]
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
            if exc is not None:
                raise ParseError(f"not a feed: {exc}")
            head = body[:512].lower()
            raise ParseError("not a feed (an HTML page)" if b"<html" in head else "not a feed")
        return []
    base = parsed.get("href") or url
    out = []
    for entry in entries:
        article = _article(entry, base=base, source=source, fetched=fetched)
        if article is not None:
            out.append(article)
    return out


def _article(entry: Any, *, base: str, source: str, fetched: datetime) -> Article | None:
    title = html_to_text(entry.get("title") or "")
    text = _best_text(entry)
    link = canonical_url(entry.get("link") or "", base)
    guid = (entry.get("id") or "").strip() or None
    if not (title or text or link):
        return None
    identity = guid or link or "sha256:" + content_hash(title, text)[:32]
    return Article(
        source=source,
        identity=identity,
        url=link,
        guid=guid,
        title=" ".join(title.split()),
        text=text,
        published=_date(entry),
        fetched=fetched,
        content_hash=content_hash(title, text),
    )


def _best_text(entry: Any) -> str:
    """The longest of the entry's contents and summary, as plain text."""
    candidates: list[str] = []
    for content in entry.get("content") or []:
        value = content.get("value") if isinstance(content, dict) else None
        if value:
            candidates.append(value)
    if entry.get("summary"):
        candidates.append(entry["summary"])
    if not candidates:
        return ""
    texts = [html_to_text(c) for c in candidates]
    return clean_text(max(texts, key=len))


def _date(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                dt = datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, OSError, TypeError):
                continue
            if dt.year >= 1980:
                return dt
    return None
