"""Every real-world feed of ../shared/corpus/feeds: entries that make sense, or a clear error."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.errors import ParseError
from monitor.parse import fastfeed
from monitor.parse.feeds import _ungzip, parse_feed
from tests.conftest import LocalServer, Response, make_config

NOW = datetime(2026, 11, 22, tzinfo=UTC)
BASE = "https://feeds.example.org/feed"


def corpus(shared: Path) -> list[Path]:
    files = sorted((shared / "corpus" / "feeds").iterdir())
    assert len(files) >= 70
    return files


def test_every_corpus_feed_parses_or_fails_clearly(shared: Path):
    empty, failed = [], []
    for path in corpus(shared):
        body = path.read_bytes()
        try:
            articles = parse_feed(body, url=BASE, source="corpus", fetched=NOW)
        except ParseError as e:
            failed.append(f"{path.name}: {e}")
            continue
        if not articles:
            empty.append(path.name)
        again = parse_feed(body, url=BASE, source="corpus", fetched=NOW + timedelta(hours=1))
        assert [a.identity for a in articles] == [a.identity for a in again], path.name
        for a in articles:
            assert a.title or a.url or a.text, path.name  # RSS allows description-only items
            assert a.url == "" or a.url.startswith(("http://", "https://")), (path.name, a.url)
            assert a.published is None or a.published.utcoffset() == timedelta(0), path.name
            assert a.identity, path.name
    print(f"\n{len(empty)} corpus feeds yield no entries: {', '.join(empty)}")
    print(f"{len(failed)} fail with a reason:\n  " + "\n  ".join(failed))
    assert not failed  # every corpus feed is a feed; none should be refused outright


@pytest.mark.parametrize(
    "name",
    [
        "jsonfeed10_inessential.json",
        "jsonfeed11_lukedorny_escaped-slashes.json",
    ],
)
def test_json_feeds(shared: Path, name: str):
    articles = parse_feed(
        (shared / "corpus" / "feeds" / name).read_bytes(), url=BASE, source="j", fetched=NOW
    )
    assert len(articles) >= 20
    assert all(a.url.startswith("http") and a.title and a.published for a in articles)


def test_json_feed_with_wrong_types_keeps_what_it_can(shared: Path):
    articles = parse_feed(
        (shared / "corpus" / "feeds" / "jsonfeed11_wrong-types.json").read_bytes(),
        url=BASE,
        source="j",
        fetched=NOW,
    )
    assert [a.title for a in articles][:1] == ["1000"]
    assert all(a.url == "" for a in articles)  # numbers are not links
    assert all(a.published is None for a in articles)  # "not a date" is not invented


def test_gzip_body_without_header(shared: Path):
    articles = parse_feed(
        (
            shared / "corpus" / "feeds" / "rss2_nshipster_gzip-body-invalid-chars.xml.gz"
        ).read_bytes(),
        url=BASE,
        source="g",
        fetched=NOW,
    )
    assert len(articles) == 25 and articles[0].title == "NSOperation"


def test_fast_reader_gives_feedparsers_records_on_every_corpus_feed(shared: Path):
    """The lxml reader may only serve a feed when its records equal feedparser's."""
    fast_read = []
    for path in corpus(shared):
        body = path.read_bytes()
        try:
            reference = parse_feed(body, url=BASE, source="c", fetched=NOW, fast=False)
        except ParseError:
            reference = None
        try:
            fast = parse_feed(body, url=BASE, source="c", fetched=NOW)
        except ParseError:
            fast = None
        assert fast == reference, path.name
        if fastfeed.read(_ungzip(body), BASE, None) is not None:
            fast_read.append(path.name)
    print(f"\n{len(fast_read)} corpus feeds read by the fast reader: {', '.join(fast_read)}")
    assert len(fast_read) >= 10  # the common case does take the fast path


def test_one_pass_over_every_corpus_feed_served_over_http(
    shared: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """Each corpus feed served by a local server (with the Content-Type its test header
    names, if any), all polled in one `monitor once`: each is stored with sane records or
    fails alone with a reason, and the pass completes."""
    server = LocalServer()
    try:
        sources = []
        for i, path in enumerate(corpus(shared)):
            body = path.read_bytes()
            declared = re.search(rb"Header:\s*Content-type:\s*([^\r\n]+)", body[:2048], re.I)
            ctype = (
                declared.group(1).decode().strip()
                if declared
                else ("application/feed+json" if path.suffix == ".json" else "application/xml")
            )
            server.route(f"/c/{i}", Response(200, body, {"Content-Type": ctype}))
            sources.append(
                {
                    "name": path.name,
                    "url": server.url(f"/c/{i}"),
                    "kind": "feed",
                    "full_text": False,
                }
            )
        config = make_config(tmp_path, sources=sources)
        assert main(["--config", str(config), "once", "--json"]) in (0, 1)
        report = json.loads(capsys.readouterr().out)
    finally:
        server.close()
    outcomes = {s["source"]: s for s in report["sources"]}
    assert len(outcomes) == len(sources)
    errors = {n: o["error"] for n, o in outcomes.items() if o["status"] == "error"}
    assert all(errors.values()), errors  # a failure always says why
    assert not errors, errors  # and none of these real feeds should fail
    with sqlite3.connect(tmp_path / "monitor.db") as db:
        rows = db.execute(
            "SELECT s.name, a.identity, a.url, a.title, a.text, a.published FROM articles a "
            "JOIN sources s ON s.id = a.source_id"
        ).fetchall()
    assert len(rows) > 500
    for name, identity, url, title, text, published in rows:
        assert identity and (title or url or text), name
        assert url == "" or url.startswith(("http://", "https://")), (name, url)
        assert published is None or published.endswith("+00:00"), (name, published)
