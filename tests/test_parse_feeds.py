"""Feeds → articles: identities, links, dates, text."""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.errors import ParseError
from monitor.parse.feeds import parse_feed
from monitor.parse.html import html_to_text
from monitor.parse.urls import canonical_url

NOW = datetime(2026, 11, 22, tzinfo=UTC)

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>t</title><link>https://desk.example/</link>
<item><title>First &amp; <b>bold</b></title><link>/news/1?utm_source=rss&amp;id=7#top</link>
 <guid isPermaLink="false">abc-1</guid><pubDate>Sun, 22 Nov 2026 10:00:00 +0200</pubDate>
 <description>&lt;p&gt;One.&lt;/p&gt;&lt;p&gt;Two &amp;amp; three.&lt;/p&gt;</description></item>
<item><title>No guid</title><link>https://desk.example/news/2</link></item>
<item><description>Only a description, no title, no link.</description></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://atom.example/base/">
<title>a</title><id>urn:a</id><updated>2026-11-22T00:00:00Z</updated>
<entry><id>urn:e1</id><title type="html">Entry &lt;i&gt;one&lt;/i&gt;</title>
<link href="e1.html"/><updated>2026-11-21T23:00:00-05:00</updated>
<content type="html">&lt;p&gt;Full text here.&lt;/p&gt;</content>
<summary>Short.</summary></entry></feed>"""


def test_rss_entries_become_clean_articles():
    a, b, c = parse_feed(RSS, url="https://desk.example/feed.xml", source="desk", fetched=NOW)
    assert a.title == "First & bold"
    assert a.url == "https://desk.example/news/1?id=7"
    assert a.identity == "abc-1" and a.guid == "abc-1"
    assert a.published == datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    assert a.text == "One.\n\nTwo & three."
    assert b.identity == "https://desk.example/news/2" and b.guid is None and b.published is None
    assert c.identity.startswith("sha256:") and c.title == ""
    again = parse_feed(RSS, url="https://desk.example/feed.xml", source="desk", fetched=NOW)
    assert [x.identity for x in again] == [a.identity, b.identity, c.identity]


def test_atom_relative_links_and_full_content():
    [e] = parse_feed(ATOM, url="https://atom.example/feed", source="a", fetched=NOW)
    assert e.url == "https://atom.example/base/e1.html"
    assert e.title == "Entry one"
    assert e.text == "Full text here."
    assert e.published == datetime(2026, 11, 22, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize("body", [b"", b"\x00\xff\xfe garbage", b"<html><body>hi</body></html>"])
def test_non_feeds_raise_parse_error(body: bytes):
    with pytest.raises(ParseError):
        parse_feed(body, url="https://x.example/", source="x", fetched=NOW)


def test_html_to_text_keeps_paragraphs_and_drops_scripts_and_repeats():
    html = (
        "<div><p>Heavy clashes were reported near the airport on Sunday.</p>"
        "<script>alert(1)</script><p>Second&nbsp;paragraph<br>with a break.</p>"
        "<p>Heavy clashes were reported near the airport on Sunday.</p></div>"
    )
    assert html_to_text(html) == (
        "Heavy clashes were reported near the airport on Sunday.\n\nSecond paragraph\nwith a break."
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://Desk.Example:443/a?utm_medium=x&b=1&fbclid=z#frag", "https://desk.example/a?b=1"),
        ("http://desk.example", "http://desk.example/"),
        ("/rel/path?gclid=1", "https://base.example/rel/path"),
    ],
)
def test_canonical_url(url: str, expected: str):
    assert canonical_url(url, "https://base.example/feed") == expected


_PIECES = [
    "<p>",
    "</p>",
    "<br>",
    "<br/>",
    "</br>",
    "<div class='x'>",
    "</div>",
    "<b>",
    "</b>",
    '<a href="/x?a=1&amp;b=2">',
    "</a>",
    "<li>",
    "<P>",
    "<script>",
    "</script>",
    "<!-- c -->",
    "<o:p>",
    "<title>",
    "&amp;",
    "&nbsp;",
    "&#8217;",
    "&bogus;",
    "&",
    "<",
    ">",
    " ",
    "\n",
    "\n\n",
    "\r\n",
    "\t",
    "\u00a0",
    "\u2028",
    "Clashes erupted",
    "near the airport on Sunday, officials said",
    "x",
]


@given(st.lists(st.sampled_from(_PIECES), max_size=30))
def test_html_fast_path_reads_fragments_as_the_full_parser_does(pieces: list[str]):
    from monitor.parse import html as h

    fragment = "".join(pieces)
    parser = h._TextParser()
    parser.feed(fragment)
    parser.close()
    assert html_to_text(fragment) == h.clean_text("".join(parser.parts))
    # cleaning is idempotent: text already clean stays as it is
    assert h.clean_text(html_to_text(fragment)) == html_to_text(fragment)


_URL_PIECES = st.tuples(
    st.sampled_from(["http://", "https://", "HTTP://", "ftp://", "", "//", "https:///"]),
    st.sampled_from(
        [
            "news.example",
            "News.Example",
            "a-b.example",
            "x.example:80",
            "x.example:443",
            "x.example:8080",
            "user@x.example",
            "[::1]",
            "é.example",
            "",
        ]
    ),
    st.sampled_from(
        [
            "",
            "/",
            "/a",
            "/A/b.html",
            "/a b",
            "/./a",
            "/a/../b",
            "//a",
            "/%20",
            "/é",
            "/a;p",
            "/a\tb",
            "/a\nb",
            "/.well-known",
            "/a/",
        ]
    ),
    st.sampled_from(["", "?", "?a=1", "?utm_source=x&id=2", "?fbclid=1"]),
    st.sampled_from(["", "#", "#top"]),
    st.sampled_from(["", " ", "\t", "\x00"]),
)


@settings(max_examples=1000)
@given(_URL_PIECES, st.sampled_from([None, "", "https://base.example/feed", "ftp://f/x"]))
def test_canonical_url_fast_path_gives_what_the_full_path_gives(
    pieces: tuple[str, ...], base: str | None
):
    from monitor.parse import fastfeed, urls

    scheme, host, path, query, fragment, pad = pieces
    url = pad + scheme + host + path + query + fragment + pad
    stripped = url.strip()
    expected = urls._canonical(stripped, base) if stripped else ""
    assert canonical_url(url, base) == expected
    if base:  # the feed reader's link resolution takes the same short cut
        uri = fastfeed._URIFIXER.sub(r"\1\3", url)
        assert fastfeed._urljoin(base, url) == urllib.parse.urljoin(base, uri)


def _clean_text_spec(text: str) -> str:
    """clean_text as first written (the specification its fast paths must keep)."""
    import re

    from monitor.parse.html import _SPACE

    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    seen: set[str] = set()
    for block in re.split(r"\n[^\S\n]*\n\s*", _SPACE.sub(" ", text)):
        para = "\n".join(line for line in (x.strip() for x in block.split("\n")) if line)
        if not para:
            continue
        key = " ".join(para.split()).casefold()
        if len(key) >= 40:
            if key in seen:
                continue
            seen.add(key)
        out.append(para)
    return "\n\n".join(out)


_TEXT_PIECES = [
    " ",
    "  ",
    "\t",
    "\n",
    "\n\n",
    "\r\n",
    "\r",
    "\u00a0",
    "\u2003",
    "\u3000",
    "\u2028",
    "\x1c",
    "\x85",
    "\u200b",
    "\xad",
    "\u1680",
    "Straße",
    "STRASSE",
    "Clashes erupted near the airport on Sunday, officials said",
    "clashes erupted near the airport on sunday, officials said",
    "x",
]


_WORDS = "Clashes erupted near the AIRPORT on Sunday, officials said".split()
_GAPS = st.sampled_from([" ", " ", " ", "  ", "\t", "\u00a0", "\u2003", "\x1c", "\x85", "\u2028"])
#: paragraphs of the same words with different whitespace between them: repeats to drop
_PARAGRAPH = st.lists(_GAPS, min_size=len(_WORDS) - 1, max_size=len(_WORDS) - 1).map(
    lambda gaps: "".join(w + g for w, g in zip(_WORDS, [*gaps, ""], strict=True))
)
_BREAKS = st.sampled_from(["\n\n", "\n", "\r\n\r\n", " \n \n", "\n\u00a0\n"])


@settings(max_examples=500)
@given(st.lists(st.sampled_from(_TEXT_PIECES), max_size=40))
def test_clean_text_fast_paths_give_what_the_specification_gives(pieces: list[str]):
    from monitor.parse.html import clean_text

    text = "".join(pieces)
    assert clean_text(text) == _clean_text_spec(text)


@settings(max_examples=500)
@given(st.lists(st.tuples(_PARAGRAPH, _BREAKS), max_size=5))
def test_clean_text_drops_repeated_paragraphs_as_the_specification_does(
    paragraphs: list[tuple[str, str]],
):
    from monitor.parse.html import clean_text

    text = "".join(p + b for p, b in paragraphs)
    assert clean_text(text) == _clean_text_spec(text)


_DAYS = ["", "Sun, ", "Mon,", "tue "]
_ZONES = ["+0000", "-0500", "+0530", "GMT", "UT", "Z", "utc"]


@given(
    st.datetimes(min_value=datetime(1975, 1, 1), max_value=datetime(2099, 12, 31)),
    st.sampled_from(_DAYS),
    st.sampled_from(_ZONES),
    st.booleans(),
)
def test_fast_reader_dates_equal_feedparsers(when: datetime, day: str, zone: str, seconds: bool):
    """The fast reader's RFC 822 and W3C dates are feedparser's, to the second."""
    import calendar

    from feedparser.datetimes import _parse_date

    from monitor.parse import fastfeed

    def reference(text: str) -> datetime | None:
        parsed = _parse_date(text)
        value = datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
        return value if value.year >= 1980 else None

    clock = when.strftime("%H:%M:%S" if seconds else "%H:%M")
    rfc = f"{day}{when.day} {when.strftime('%b %Y')} {clock} {zone}"
    if day == "Mon,":  # no space after the comma: unusual, so feedparser reads the feed
        with pytest.raises(fastfeed._Unusual):
            fastfeed._rfc822(rfc)
    else:
        assert fastfeed._rfc822(rfc) == reference(rfc), rfc
    offset = "Z" if zone in ("GMT", "UT", "Z", "utc") else f"{zone[:3]}:{zone[3:]}"
    w3c = f"{when.strftime('%Y-%m-%dT')}{clock}{'.25' if seconds else ''}{offset}"
    assert fastfeed._w3dtf(w3c) == reference(w3c), w3c
