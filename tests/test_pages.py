"""Pages, full text, page watching, feed autodiscovery and edited articles, end to end on a
local HTTP server; and main-text extraction over the real-world pages of the corpus."""

from __future__ import annotations

import gzip
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main
from monitor.parse.pages import discover_feeds, extract_article, find_links, text_blocks
from tests.conftest import Feed, LocalServer, Request, Response, make_config, run_once

# --------------------------------------------------------------------------- corpus pages


def _norm(text: str) -> str:
    return " ".join(text.split())


def test_extraction_keeps_the_article_and_drops_the_boilerplate_on_real_pages(shared: Path):
    pages = sorted((shared / "corpus" / "pages").glob("*.html"))
    assert len(pages) >= 30
    passing, report = 0, []
    for page in pages:
        stem = str(page)[: -len(".html")]
        got = extract_article(page.read_bytes(), "https://news.example.org/article")
        text = _norm(f"{got.title}\n{got.text}")
        expected = [_norm(x) for x in Path(stem + ".expected.txt").read_text("utf-8").splitlines()]
        unexpected = [
            _norm(x) for x in Path(stem + ".unexpected.txt").read_text("utf-8").splitlines()
        ]
        found = sum(x in text for x in expected if x)
        absent = sum(x not in text for x in unexpected if x)
        ok = found == len([x for x in expected if x]) and absent == len(
            [x for x in unexpected if x]
        )
        passing += ok
        if not ok:
            report.append(f"{page.name}: {found} expected lines found, {absent} boilerplate absent")
    share = passing / len(pages)
    print(
        f"\n{passing}/{len(pages)} corpus pages pass fully ({share:.0%})\n  " + "\n  ".join(report)
    )
    assert share >= 0.85


# --------------------------------------------------------------------------- building blocks


def article_html(title: str, paragraphs: list[str], *, author: str = "Desk reporter") -> bytes:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{escape(title)} | News desk</title>"
        f"<meta name='author' content='{escape(author)}'>"
        "<meta property='article:published_time' content='2026-11-20T08:00:00Z'></head><body>"
        "<nav><a href='/'>Home</a> <a href='/world'>World</a> <a href='/sport'>Sport</a></nav>"
        f"<main><article><h1>{escape(title)}</h1>{body}</article></main>"
        "<footer><p>Copyright News desk. All rights reserved. Subscribe to our newsletter.</p>"
        "</footer></body></html>"
    ).encode()


FILLER = [
    "Residents of the district said shops had stayed shut for most of the week while roads "
    "into the town were closed by checkpoints on both sides.",
    "Aid workers said convoys carrying food and fuel had been delayed for several days and "
    "that the local hospital was running short of medicine.",
    "Officials from both sides declined to comment on the reports when reached by telephone "
    "on Monday evening, and no statement had been issued by nightfall.",
]
CLASH = (
    "Fighters from Hizbollah clashed with regime forces near Hadir on Sunday, killing at "
    "least six people, according to local sources."
)


def test_links_feeds_and_blocks_are_read_from_markup():
    html = (
        b"<html><head><link rel='alternate' type='application/rss+xml' href='/rss.xml'>"
        b"<link rel='alternate' type='application/feed+json' href='/feed.json'>"
        b"<link rel='stylesheet' href='/s.css'></head><body>"
        b"<nav><a href='/about/'>About</a></nav><div class='list'>"
        b"<a href='/news/1?utm_source=x#c'>One</a><a href='https://www.desk.example/news/2'>Two</a>"
        b"<a href='https://other.example/news/3'>Elsewhere</a><a href='/tag/war/'>Tag</a>"
        b"<a href='/img/a.jpg'>Picture</a></div><main><p>First  block.</p><ul><li>Item "
        b"<b>two</b></li></ul></main><footer><p>Footer</p></footer></body></html>"
    )
    base = "https://desk.example/latest"
    assert discover_feeds(html, base) == [
        "https://desk.example/rss.xml",
        "https://desk.example/feed.json",
    ]
    assert find_links(html, base, selector=".list") == [
        "https://desk.example/news/1",
        "https://www.desk.example/news/2",
    ]
    assert find_links(html, base, pattern=r"/news/\d+$", same_site=False) == [
        "https://desk.example/news/1",
        "https://www.desk.example/news/2",
        "https://other.example/news/3",
    ]
    assert text_blocks(html) == ["First block.", "Item two"]


# --------------------------------------------------------------------------- end to end


CHANNELS = {"team": {"type": "webhook", "url": "${TEST_HOOK_URL}"}}


def listing(links: list[str]) -> bytes:
    items = "".join(f"<li><a href='{link}'>Story {link}</a></li>" for link in links)
    return (
        "<html><head><title>Latest</title></head><body><nav><a href='/'>Home</a>"
        f"<a href='/about/'>About us</a></nav><ul class='latest'>{items}</ul></body></html>"
    ).encode()


def test_a_listing_page_that_gains_two_links_fetches_exactly_those_two(
    tmp_path: Path,
    server: LocalServer,
    hook: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
):
    links = ["/news/1", "/news/2"]
    server.route("/latest", lambda _r: Response(200, listing(links), {"Content-Type": "text/html"}))
    pages = {
        "/news/1": article_html("Market reopens in Idlib", FILLER),
        "/news/2": article_html("Schools open after the holiday", FILLER[::-1]),
        "/news/3": article_html("Aleppo fighting", [FILLER[0], CLASH, FILLER[1]]),
        "/news/4": article_html("Harvest begins early", FILLER),
    }
    for path, html in pages.items():
        server.route(path, Response(200, html, {"Content-Type": "text/html; charset=utf-8"}))
    config = make_config(
        tmp_path,
        sources=[
            {
                "name": "desk",
                "url": server.url("/latest"),
                "kind": "page",
                "links": {"selector": ".latest"},
            }
        ],
        channels=CHANNELS,
    )
    first = run_once(config, capsys)["sources"][0]
    assert (first["status"], first["new"], first["alerts"]) == ("ok", 2, 0)

    links[:0] = ["/news/4", "/news/3"]  # two new stories on top
    second = run_once(config, capsys)["sources"][0]
    assert (second["new"], second["matches"], second["alerts"]) == (2, 1, 1)
    for path in pages:  # each article page fetched once: old ones are not fetched again
        assert len(server.seen(path)) == 1, path
    assert server.seen("/about/") == []  # outside the selector
    [alert] = hook
    assert alert["title"] == "Aleppo fighting"
    assert alert["url"] == server.url("/news/3")
    assert "clashed with" in alert["snippet"].replace("**", "")

    with sqlite3.connect(tmp_path / "monitor.db") as db:
        raw, text = db.execute("SELECT raw_gzip, text FROM evidence").fetchone()
    assert b"Hizbollah clashed" in gzip.decompress(raw)  # the page as fetched, kept
    assert CLASH in text


def test_a_link_whose_page_fails_waits_its_turn_and_is_tried_again_later(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    """A link whose page cannot be read is not fetched again at every poll, nor ahead of new
    links (two such links first on the page would otherwise take both of a poll's turns
    for ever); it is tried again later, less and less often, and forgotten once read."""
    links = ["/news/gone", "/news/1", "/news/2"]
    server.route("/latest", lambda _r: Response(200, listing(links), {"Content-Type": "text/html"}))
    server.route("/news/gone", Response(404, b"not found"))
    for path in links[1:]:
        server.route(path, Response(200, article_html(path, FILLER), {"Content-Type": "text/html"}))
    source = {"name": "desk", "url": server.url("/latest"), "kind": "page"}
    config = make_config(
        tmp_path, sources=[{**source, "links": {"selector": ".latest", "max_new": 2}}]
    )
    assert run_once(config, capsys)["sources"][0]["new"] == 1  # /news/gone fails, /news/1
    assert run_once(config, capsys)["sources"][0]["new"] == 1  # /news/2, not /news/gone again
    assert len(server.seen("/news/gone")) == 1
    assert run_once(config, capsys)["sources"][0]["new"] == 0  # its retry is not due yet
    assert len(server.seen("/news/gone")) == 1
    assert main(["--config", str(config), "status"]) == 0
    assert "1 article link failing, tried again later" in capsys.readouterr().out
    with sqlite3.connect(tmp_path / "monitor.db") as db:
        [(failures, next_try, error)] = db.execute(
            "SELECT failures, next_try, last_error FROM link_failures"
        ).fetchall()
        assert failures == 1 and "http 404" in error
        assert datetime.fromisoformat(next_try) > datetime.now(UTC) + timedelta(minutes=29)
        db.execute("UPDATE link_failures SET next_try = '2026-01-01T00:00:00+00:00'")  # due
    server.route(
        "/news/gone", Response(200, article_html("Back", FILLER), {"Content-Type": "text/html"})
    )
    assert run_once(config, capsys)["sources"][0]["new"] == 1
    assert len(server.seen("/news/gone")) == 2
    assert main(["--config", str(config), "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["failing_links"] == 0
    with sqlite3.connect(tmp_path / "monitor.db") as db:
        assert db.execute("SELECT count(*) FROM link_failures").fetchone() == (0,)


def test_link_retries_back_off_to_a_week():
    from monitor.poll.kinds.linked import link_retry_delay

    assert [link_retry_delay(n) for n in (1, 2, 3)] == [
        timedelta(minutes=30),
        timedelta(hours=1),
        timedelta(hours=2),
    ]
    assert link_retry_delay(9) < timedelta(days=7)
    assert link_retry_delay(10) == link_retry_delay(500) == timedelta(days=7)


def test_a_teaser_feed_with_full_text_alerts_from_the_article_page(
    tmp_path: Path,
    server: LocalServer,
    hook: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
):
    feed = Feed()
    feed.add("Tension near Aleppo", "Read the full report.", link=server.url("/story/9"))
    server.route("/feed.xml", feed)
    server.route(
        "/story/9",
        Response(200, article_html("Tension near Aleppo", [FILLER[0], CLASH, FILLER[2]])),
    )
    config = make_config(
        tmp_path,
        sources=[{"name": "wire", "url": server.url("/feed.xml"), "full_text": True}],
        channels=CHANNELS,
    )
    report = run_once(config, capsys)["sources"][0]
    assert (report["new"], report["alerts"]) == (1, 1)
    [alert] = hook
    assert "Hizbollah clashed with regime forces" in alert["snippet"].replace("**", "")
    with sqlite3.connect(tmp_path / "monitor.db") as db:
        summary, text = db.execute("SELECT summary, text FROM articles").fetchone()
    assert summary == "Read the full report." and CLASH in text  # both kept


def test_full_text_false_never_fetches_pages(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    feed = Feed()
    feed.add("Tension near Aleppo", "Read the full report.", link=server.url("/story/9"))
    server.route("/feed.xml", feed)
    config = make_config(
        tmp_path, sources=[{"name": "wire", "url": server.url("/feed.xml"), "full_text": False}]
    )
    assert run_once(config, capsys)["sources"][0]["new"] == 1
    assert server.seen("/story/9") == []


def test_a_watched_statements_page_reports_only_the_new_paragraph(
    tmp_path: Path,
    server: LocalServer,
    hook: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
):
    statements = [
        "Statement of 18 November: the ministry welcomes the reopening of the crossing.",
        "Statement of 19 November: the ministry thanks aid agencies for their work.",
    ]

    def page(_r: Request) -> Response:
        body = "".join(f"<p>{escape(s)}</p>" for s in statements)
        html = (
            "<html><head><title>Ministry statements</title></head><body>"
            f"<nav><a href='/'>Home</a></nav><main>{body}</main>"
            "<footer><p>Ministry press office</p></footer></body></html>"
        )
        return Response(200, html.encode(), {"Content-Type": "text/html"})

    server.route("/statements", page)
    config = make_config(
        tmp_path,
        sources=[
            {"name": "ministry", "url": server.url("/statements"), "kind": "page", "watch": "text"}
        ],
        channels=CHANNELS,
    )
    assert run_once(config, capsys)["sources"][0]["new"] == 1  # the page as first seen
    assert run_once(config, capsys)["sources"][0]["new"] == 0  # unchanged
    new = "Statement of 20 November: " + CLASH
    statements.insert(0, new)
    report = run_once(config, capsys)["sources"][0]
    assert (report["new"], report["alerts"]) == (1, 1)
    [alert] = hook
    assert alert["title"] == "Ministry statements"
    with sqlite3.connect(tmp_path / "monitor.db") as db:
        [latest] = db.execute("SELECT text FROM articles ORDER BY id DESC LIMIT 1").fetchone()
    assert latest == new  # only what is new, not the statements already seen


def test_a_site_url_is_polled_as_the_feed_it_announces(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    feed = Feed()
    feed.add("Markets reopen in Idlib", "Traders in Idlib reopened the covered market.")
    server.route("/feeds/all.xml", feed)
    home = (
        b"<html><head><title>Desk</title><link rel='alternate' type='application/rss+xml' "
        b"title='All news' href='/feeds/all.xml'></head><body><p>Welcome</p></body></html>"
    )
    server.route("/", Response(200, home, {"Content-Type": "text/html"}))
    config = make_config(
        tmp_path, sources=[{"name": "desk", "url": server.url("/"), "full_text": False}]
    )
    assert run_once(config, capsys)["sources"][0]["new"] == 1
    assert main(["--config", str(config), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["url"] == server.url("/feeds/all.xml")
    assert (
        status["detected"] == f"feed {server.url('/feeds/all.xml')}, announced by {server.url('/')}"
    )
    feed.add("Schools open", "Schools in Idlib opened after the holiday.")
    assert run_once(config, capsys)["sources"][0]["new"] == 1
    assert len(server.seen("/")) == 1  # from then on the feed itself is polled


def test_an_edited_title_that_now_reports_a_clash_alerts_once_showing_the_edit(
    tmp_path: Path,
    server: LocalServer,
    hook: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
):
    feed = Feed()
    feed.add("Leaders meet in Damascus", "Officials met on Sunday.", guid="urn:story:1")
    server.route("/feed.xml", feed)
    config = make_config(
        tmp_path,
        sources=[{"name": "desk", "url": server.url("/feed.xml"), "full_text": False}],
        channels=CHANNELS,
    )
    assert run_once(config, capsys)["sources"][0]["alerts"] == 0
    feed.items[0]["title"] = "Hizbollah and regime forces clash south of Aleppo"
    feed.version += 1
    report = run_once(config, capsys)["sources"][0]
    assert (report["new"], report["edited"], report["alerts"]) == (0, 1, 1)
    [alert] = hook
    assert alert["title"] == "Hizbollah and regime forces clash south of Aleppo"
    assert alert["note"] == (
        "edited by its publisher, and now matches: the headline was “Leaders meet in Damascus”, "
        "now “Hizbollah and regime forces clash south of Aleppo”"
    )
    feed.version += 1  # served again, unchanged text: nothing new
    assert run_once(config, capsys)["sources"][0]["alerts"] == 0
    assert len(hook) == 1
    with sqlite3.connect(tmp_path / "monitor.db") as db:
        assert db.execute("SELECT count(*) FROM articles").fetchone() == (1,)
        assert db.execute("SELECT title FROM revisions").fetchall() == [
            ("Leaders meet in Damascus",)
        ]


def test_inspect_shows_a_feed_and_an_article_page(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    from datetime import UTC, datetime

    feed = Feed()
    published = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    feed.add("Markets reopen in Idlib", "Traders reopened the market.", "urn:a:1", None, published)
    server.route("/feed.xml", feed)
    server.route("/story", Response(200, article_html("Aleppo fighting", [FILLER[0], CLASH])))
    config = str(make_config(tmp_path))
    assert main(["--config", config, "inspect", "--json", server.url("/feed.xml")]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["kind"] == "feed"
    assert found["entries"] == [
        {
            "id": "urn:a:1",
            "title": "Markets reopen in Idlib",
            "link": "https://news.example/1",
            "published": "2026-11-20T08:00:00+00:00",
            "text": "Traders reopened the market.",
        }
    ]
    assert main(["--config", config, "inspect", "--json", server.url("/story")]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["kind"] == "article"
    [entry] = found["entries"]
    assert entry["title"] == "Aleppo fighting" and CLASH in entry["text"]
    assert "Copyright" not in entry["text"]  # the footer is not the article
    page = tmp_path / "saved.html"
    page.write_bytes(listing(["https://desk.example/news/1", "https://desk.example/news/2"]))
    assert main(["inspect", str(page)]) == 0  # no configuration needed
    out = capsys.readouterr().out
    assert out.startswith("page: file://") and "https://desk.example/news/2" in out
    assert main(["inspect", str(tmp_path / "missing.html")]) == 1
    assert "missing.html" in capsys.readouterr().err


def test_inspect_recognises_a_sitemap_as_polling_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    saved = tmp_path / "sitemap.xml"
    saved.write_text(
        "<?xml version='1.0' encoding='UTF-8'?>"
        "<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        "<url><loc>https://desk.example/a/1</loc><lastmod>2026-11-21T08:00:00Z</lastmod></url>"
        "<url><loc>https://desk.example/a/2</loc></url></urlset>"
    )
    assert main(["inspect", "--json", str(saved)]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["kind"] == "sitemap"
    assert [(e["link"], e["published"]) for e in found["entries"]] == [
        ("https://desk.example/a/1", "2026-11-21T08:00:00+00:00"),
        ("https://desk.example/a/2", None),
    ]


def test_a_news_sitemap_index_yields_its_newest_articles(
    tmp_path: Path,
    server: LocalServer,
    hook: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
):
    index = (
        "<?xml version='1.0' encoding='UTF-8'?>"
        "<sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        f"<sitemap><loc>{server.url('/sitemap-old.xml')}</loc><lastmod>2026-01-01</lastmod>"
        f"</sitemap><sitemap><loc>{server.url('/sitemap-news.xml')}</loc>"
        "<lastmod>2026-11-21T10:00:00Z</lastmod></sitemap></sitemapindex>"
    )

    def news_entry(path: str, when: str, title: str) -> str:
        return (
            f"<url><loc>{server.url(path)}</loc><news:news><news:publication>"
            "<news:name>Desk</news:name><news:language>en</news:language></news:publication>"
            f"<news:publication_date>{when}</news:publication_date>"
            f"<news:title>{escape(title)}</news:title></news:news></url>"
        )

    news = (
        "<?xml version='1.0' encoding='UTF-8'?>"
        "<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9' "
        "xmlns:news='http://www.google.com/schemas/sitemap-news/0.9'>"
        + news_entry("/a/1", "2026-11-21T08:00:00Z", "Harvest begins")
        + news_entry("/a/2", "2026-11-21T09:30:00+01:00", "Aleppo fighting")
        + "</urlset>"
    )
    server.route("/sitemap.xml", Response(200, index.encode(), {"Content-Type": "text/xml"}))
    server.route("/sitemap-news.xml", Response(200, news.encode(), {"Content-Type": "text/xml"}))
    server.route("/a/1", Response(200, article_html("Harvest begins", FILLER)))
    server.route("/a/2", Response(200, article_html("Aleppo fighting", [CLASH, FILLER[1]])))
    config = make_config(
        tmp_path,
        sources=[{"name": "desk", "url": server.url("/sitemap.xml"), "links": {"max_new": 1}}],
        channels=CHANNELS,
    )
    first = run_once(config, capsys)["sources"][0]
    assert (first["status"], first["new"], first["alerts"]) == ("ok", 1, 1)  # the newest
    assert server.seen("/a/1") == [] and len(server.seen("/a/2")) == 1
    assert server.seen("/sitemap-old.xml") == [] or len(server.seen("/sitemap-old.xml")) == 1
    assert run_once(config, capsys)["sources"][0]["new"] == 1  # the next one, a poll later
    assert main(["--config", str(config), "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["detected"] == "sitemap"


def test_an_edit_that_removes_the_clash_sends_one_edit_notice(
    tmp_path: Path,
    server: LocalServer,
    hook: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
):
    feed = Feed()
    feed.add("Hizbollah and regime forces clash south of Aleppo", CLASH, guid="urn:story:7")
    server.route("/feed.xml", feed)
    config = make_config(
        tmp_path,
        sources=[{"name": "desk", "url": server.url("/feed.xml"), "full_text": False}],
        channels=CHANNELS,
    )
    assert run_once(config, capsys)["sources"][0]["alerts"] == 1
    feed.items[0]["title"] = "Fighting reported south of Aleppo"
    feed.items[0]["description"] = "Fighting was reported near Hadir on Sunday."
    feed.version += 1
    report = run_once(config, capsys)["sources"][0]
    assert (report["edited"], report["alerts"]) == (1, 1)
    first, notice = hook
    assert notice["kind"] == "edit" and notice["rule"] == first["rule"]
    assert notice["note"].startswith("no longer matches after an edit: the headline was")


def test_pages_that_fail_in_one_poll_are_one_warning(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    links = ["/news/a", "/news/b", "/news/c"]
    server.route("/latest", lambda _r: Response(200, listing(links), {"Content-Type": "text/html"}))
    for path in links:
        server.route(path, Response(404, b"not found"))
    source = {"name": "desk", "url": server.url("/latest"), "kind": "page"}
    config = make_config(tmp_path, sources=[{**source, "links": {"selector": ".latest"}}])
    assert main(["--config", str(config), "once"]) == 0
    warnings = [ln for ln in capsys.readouterr().err.splitlines() if "skipped" in ln]
    assert len(warnings) == 1, warnings
    assert '"article pages skipped"' in warnings[0] and 'pages="3 of 3"' in warnings[0]
    assert 'error="http 404' in warnings[0]
