"""HTML pages → what a reader takes from them: the article's text and metadata, the links a
listing page offers, the feeds a site announces, the text blocks of a statements page.

Pure: bytes and headers in, records out. Main-text extraction is trafilatura's; decoding,
link finding and feed discovery use lxml directly. Every URL returned is absolute and
canonical (tracking parameters and fragments removed).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from monitor.errors import ParseError
from monitor.parse.html import clean_text
from monitor.parse.urls import canonical_url

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([^\"'; ]+)", re.IGNORECASE)
_FEED_TYPES = {
    "application/rss+xml": "rss",
    "application/atom+xml": "atom",
    "application/feed+json": "json",
    "application/json": "json",
    "application/rdf+xml": "rdf",
    "text/xml": "rss",
}
#: links to files and site furniture are not articles
_NOT_ARTICLE = re.compile(
    r"\.(?:jpe?g|png|gif|webp|svg|pdf|zip|mp3|mp4|css|js|xml|rss|ico)$"
    r"|/(?:tag|tags|category|categories|author|authors|search|login|subscribe|page)/",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Extracted:
    """An article page as a reader sees it."""

    title: str
    text: str
    author: str | None
    #: UTC, or None when the page does not say (never invented)
    published: datetime | None


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Unicode text of an HTML document: byte-order mark, then the HTTP charset, then the
    document's own <meta charset>, then UTF-8 if it decodes, then the best statistical guess."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if body.startswith(bom):
            return body.decode(encoding, errors="replace")
    declared = []
    if content_type and (m := _HEADER_CHARSET.search(content_type)):
        declared.append(m.group(1))
    if m2 := _META_CHARSET.search(body[:4096]):
        declared.append(m2.group(1).decode("ascii", "replace"))
    for name in declared:
        try:
            encoding = codecs.lookup(name).name
        except LookupError:
            continue
        if encoding in ("utf-8", "ascii") and not _is_utf8(body):
            continue  # a page that says UTF-8 but is not: guess below
        if encoding in ("latin-1", "iso8859-1", "ascii"):
            encoding = "cp1252"  # what browsers do with these labels
        return body.decode(encoding, errors="replace")
    if _is_utf8(body):
        return body.decode("utf-8")
    from charset_normalizer import from_bytes  # trafilatura's own dependency

    best = from_bytes(body[:65536]).best()
    encoding = best.encoding if best is not None else "cp1252"
    return body.decode(encoding, errors="replace")


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def extract_article(body: bytes, url: str, content_type: str | None = None) -> Extracted:
    """Main text, title, author and date of an article page (ParseError if it has none)."""
    import trafilatura  # loaded on first use: ~0.3 s, and only page sources need it

    html = decode_html(body, content_type)
    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            deduplicate=False,
        )
    except (ValueError, TypeError, etree.LxmlError) as e:
        raise ParseError(f"cannot read the page: {type(e).__name__}: {e}") from e
    if doc is None:
        raise ParseError("no article text found on the page")
    data: dict[str, Any] = doc if isinstance(doc, dict) else doc.as_dict()
    text = clean_text((data.get("text") or "").replace("\n", "\n\n"))
    if not text:
        raise ParseError("no article text found on the page")
    return Extracted(
        title=" ".join((data.get("title") or "").split()),
        text=text,
        author=(data.get("author") or None),
        published=_date(data.get("date")),
    )


def _date(value: Any) -> datetime | None:
    """trafilatura gives a calendar date (YYYY-MM-DD) without a time zone: midnight UTC of
    that day is the honest reading; anything else is unknown."""
    if not isinstance(value, str):
        return None
    try:
        day = datetime.strptime(value[:10], "%Y-%m-%d")
    except ValueError:
        return None
    return day.replace(tzinfo=UTC)


def _tree(body: bytes | str, content_type: str | None = None) -> Any:
    html = decode_html(body, content_type) if isinstance(body, bytes) else body
    if not html.strip():
        raise ParseError("empty document")
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as e:
        raise ParseError(f"not an HTML page: {e}") from e


def page_title(body: bytes | str, content_type: str | None = None) -> str:
    tree = _tree(body, content_type)
    titles = tree.xpath("//title/text()")
    return " ".join(str(titles[0]).split()) if titles else ""


def discover_feeds(body: bytes | str, base: str, content_type: str | None = None) -> list[str]:
    """Feeds a page announces with <link rel="alternate" type="application/rss+xml" ...>,
    in the page's order (RSS/Atom before JSON Feed)."""
    tree = _tree(body, content_type)
    found: list[tuple[int, str]] = []
    for i, link in enumerate(tree.iter("link")):
        rel = (link.get("rel") or "").lower().split()
        kind = _FEED_TYPES.get((link.get("type") or "").split(";")[0].strip().lower())
        href = (link.get("href") or "").strip()
        if "alternate" in rel and kind and href:
            url = canonical_url(href, _base(tree, base))
            if url.startswith(("http://", "https://")):
                found.append((i + (10_000 if kind == "json" else 0), url))
    return list(dict.fromkeys(url for _, url in sorted(found)))


def find_links(
    body: bytes | str,
    base: str,
    *,
    selector: str | None = None,
    pattern: str | None = None,
    same_site: bool = True,
    content_type: str | None = None,
) -> list[str]:
    """Article links on a listing page, in page order, without repeats: inside ``selector``
    (a CSS selector) when given, matching ``pattern`` (a regular expression searched in the
    absolute URL) when given, on the page's own site unless ``same_site`` is False."""
    tree = _tree(body, content_type)
    page_base = _base(tree, base)
    roots = tree.cssselect(selector) if selector else [tree]
    here = canonical_url(base)
    site = _site(base)
    wanted = re.compile(pattern) if pattern else None
    out: dict[str, None] = {}
    for root in roots:
        for a in root.iter("a"):
            href = (a.get("href") or "").strip()
            if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
                continue
            url = canonical_url(href, page_base)
            if not url.startswith(("http://", "https://")) or url == here:
                continue
            if same_site and _site(url) != site:
                continue
            if wanted is not None:
                if not wanted.search(url):
                    continue
            elif _NOT_ARTICLE.search(urlsplit(url).path) or urlsplit(url).path in ("", "/"):
                continue
            out[url] = None
    return list(out)


def text_blocks(body: bytes | str, content_type: str | None = None) -> list[str]:
    """The text blocks (paragraphs, list items, headings) of a page's main area, in order,
    for watching a page that has no article links: scripts, navigation, headers, footers
    and forms left out."""
    tree = _tree(body, content_type)
    for bad in tree.xpath(
        "//script|//style|//noscript|//template|//nav|//header|//footer|//form|//aside"
    ):
        bad.drop_tree()
    main = tree.xpath("//main|//article|//*[@role='main']")
    root = main[0] if main else tree.body if tree.body is not None else tree
    blocks: list[str] = []
    for el in root.iter("p", "li", "h1", "h2", "h3", "h4", "blockquote", "td", "dd", "pre"):
        if el.getparent() is not None and any(
            anc.tag in ("p", "li", "blockquote", "td", "dd") for anc in el.iterancestors()
        ):
            continue  # nested: its text is read with its outer block
        text = " ".join(el.text_content().split())
        if text:
            blocks.append(text)
    return list(dict.fromkeys(blocks))


def _base(tree: Any, url: str) -> str:
    base = tree.xpath("//base/@href")
    return canonical_url(str(base[0]), url) if base else url


def _site(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


_SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
_NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    url: str
    #: lastmod, or the news publication date; None when the sitemap does not say
    modified: datetime | None
    #: a news sitemap's <news:title>, if any
    title: str = ""


@dataclass(frozen=True, slots=True)
class Sitemap:
    #: article URLs, newest first (undated ones last, in document order)
    entries: tuple[SitemapEntry, ...]
    #: child sitemaps of a sitemap index, newest first
    children: tuple[SitemapEntry, ...]


def is_sitemap(body: bytes) -> bool:
    head = body[:2048]
    return b"<urlset" in head or b"<sitemapindex" in head


def parse_sitemap(body: bytes, base: str) -> Sitemap:
    """A sitemap (news sitemap extensions read) or a sitemap index; ParseError otherwise.
    No DTDs, entities or network access are ever involved in reading it."""
    if body.startswith(b"\x1f\x8b"):
        import zlib

        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        body = d.decompress(body, 50 * 1024 * 1024)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as e:
        raise ParseError(f"not a sitemap: {e}") from e
    if root is None:
        raise ParseError("not a sitemap: empty document")
    tag = etree.QName(root).localname
    if tag not in ("urlset", "sitemapindex"):
        raise ParseError(f"not a sitemap: the document is a <{tag}>")
    ns = etree.QName(root).namespace or ""
    prefix = f"{{{ns}}}" if ns else ""
    items = []
    for el in root.iter(f"{prefix}url", f"{prefix}sitemap"):
        loc = el.findtext(f"{prefix}loc")
        url = canonical_url((loc or "").strip(), base)
        if not url.startswith(("http://", "https://")):
            continue
        news = el.find(f"{_NEWS}news")
        when = el.findtext(f"{prefix}lastmod")
        title = ""
        if news is not None:
            when = news.findtext(f"{_NEWS}publication_date") or when
            title = " ".join((news.findtext(f"{_NEWS}title") or "").split())
        items.append(SitemapEntry(url, _w3c_date(when), title))
    ordered = tuple(
        sorted(items, key=lambda e: e.modified or datetime.min.replace(tzinfo=UTC), reverse=True)
    )
    if tag == "sitemapindex":
        return Sitemap((), ordered)
    return Sitemap(ordered, ())


def _w3c_date(value: str | None) -> datetime | None:
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        return None if "T" in text else dt.replace(tzinfo=UTC)  # a bare date is that day
    return dt.astimezone(UTC)
