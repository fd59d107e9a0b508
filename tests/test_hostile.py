"""One pass over hostile servers and good feeds: the good are stored, the bad each get a clear
reason, the pass ends within its deadlines, memory stays bounded."""

from __future__ import annotations

import json
import resource
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main
from tests import hostile
from tests.conftest import Feed, LocalServer, Response, make_config

XXE = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/hostname">'
    b'<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
    b'<rss version="2.0"><channel><title>t</title><item><title>leak &xxe; &d;</title>'
    b"<guid>urn:xxe</guid><description>x</description></item></channel></rss>"
)


@pytest.fixture
def bad() -> Iterator[hostile.HostileServer]:
    server = hostile.HostileServer(
        {
            "/never": hostile.never_answers,
            "/drip": hostile.drips,
            "/endless": hostile.endless,
            "/bomb": hostile.gzip_bomb(),
            "/reset": hostile.resets,
            "/garbage": hostile.send(b"\x00\xff\xfe NOT HTTP AT ALL\r\n\r\n"),
            "/short": hostile.send(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n<rss>short"),
            "/ua": hostile.wants_user_agent("DeskBot"),
        }
    )
    yield server
    server.close()


def test_one_pass_over_hostile_servers_and_good_feeds(
    tmp_path: Path,
    server: LocalServer,
    bad: hostile.HostileServer,
    capsys: pytest.CaptureFixture[str],
):
    sources: list[dict[str, Any]] = []
    for i in range(10):
        feed = Feed(f"good {i}")
        for k in range(3):
            feed.add(f"Good {i}.{k}", "Markets reopened.", guid=f"urn:good:{i}:{k}")
        server.route(f"/good{i}.xml", feed)
        sources.append({"name": f"good-{i}", "url": server.url(f"/good{i}.xml")})
    server.route("/big", Response(200, b"<rss>" + b"x" * 2_000_000))
    server.route("/loop-a", Response(302, b"", {"Location": "/loop-b"}))
    server.route("/loop-b", Response(302, b"", {"Location": "/loop-a"}))
    server.route("/to-file", Response(302, b"", {"Location": "file:///etc/passwd"}))
    server.route(
        "/to-metadata", Response(302, b"", {"Location": "http://169.254.169.254/latest/meta-data/"})
    )
    server.route("/busy", Response(429, b"", {"Retry-After": "3600"}))
    flaky = iter([Response(503, b""), *[Response(200, hostile.RSS)] * 5])
    server.route("/flaky", lambda _r: next(flaky))
    server.route("/robots.txt", Response(200, b"User-agent: *\nDisallow: /private/\n"))
    server.route("/private/feed.xml", Response(200, hostile.RSS))
    server.route("/xxe", Response(200, XXE, {"Content-Type": "application/rss+xml"}))
    server.route("/gone", Response(410, b""))
    sources += [
        {"name": "never-answers", "url": bad.url("/never")},
        {"name": "drips", "url": bad.url("/drip")},
        {"name": "endless", "url": bad.url("/endless")},
        {"name": "oversized", "url": server.url("/big")},
        {"name": "gzip-bomb", "url": bad.url("/bomb")},
        {"name": "redirect-loop", "url": server.url("/loop-a")},
        {"name": "to-file", "url": server.url("/to-file")},
        {"name": "to-private", "url": server.url("/to-metadata")},
        {"name": "rate-limited", "url": server.url("/busy")},
        {"name": "flaky", "url": server.url("/flaky")},
        {"name": "resets", "url": bad.url("/reset")},
        {"name": "garbage", "url": bad.url("/garbage")},
        {"name": "short-body", "url": bad.url("/short")},
        {"name": "robots", "url": server.url("/private/feed.xml")},
        {"name": "wants-name", "url": bad.url("/ua")},
        {"name": "named", "url": bad.url("/ua"), "user_agent": "DeskBot/2.0 (+https://d.example)"},
        {"name": "entities", "url": server.url("/xxe")},
        {"name": "gone", "url": server.url("/gone")},
    ]
    config = make_config(
        tmp_path,
        sources=sources,
        fetch={
            "allow_private": ["127.0.0.0/8"],
            "connect_timeout": "1s",
            "read_timeout": "1s",
            "deadline": "3s",
            "max_bytes": 1_000_000,
        },
    )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    assert main(["--config", str(config), "once", "--json"]) == 0
    took = time.monotonic() - started
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    report = {s["source"]: s for s in json.loads(capsys.readouterr().out)["sources"]}
    print(f"\nhostile pass: {took:.1f} s, memory grew {grown_mb:.0f} MB")
    for name, s in sorted(report.items()):
        print(f"  {name:<14} {s['status']:<6} {s['error'] or ''}")

    assert all(report[f"good-{i}"]["new"] == 3 for i in range(10))
    assert took < 3 + 5  # the deadline, plus start-up and shut-down
    assert grown_mb < 150
    expect = {
        "never-answers": "timeout",
        "drips": "timeout",
        "endless": "too large",
        "oversized": "too large",
        "gzip-bomb": "too large",
        "redirect-loop": "redirect loop",
        "to-file": "bad url",
        "to-private": "private address",
        "rate-limited": "http 429",
        "flaky": "http 503",
        "resets": "connection reset",
        "garbage": "protocol error",
        "short-body": "protocol error",
        "robots": "refused by robots",
        "wants-name": "http 403",
        "gone": "gone (410)",
    }
    for name, reason in expect.items():
        assert report[name]["status"] == "error" and report[name]["error"].startswith(reason), (
            name,
            report[name]["error"],
        )
    assert report["named"]["status"] == "ok" and report["named"]["new"] == 1
    assert report["entities"]["status"] == "ok"

    with sqlite3.connect(tmp_path / "monitor.db") as db:
        titles = [t for (t,) in db.execute("SELECT title FROM articles")]
        due = dict(db.execute("SELECT name, next_due FROM sources"))
    hostname = Path("/etc/hostname").read_text().strip()
    assert not any(hostname in t for t in titles if "leak" in t)  # no file was read
    assert datetime.fromisoformat(due["rate-limited"]) > datetime.now(UTC) + timedelta(minutes=59)

    # a second pass: the flaky source recovers, the gone one is not asked again
    capsys.readouterr()
    assert main(["--config", str(config), "once", "--json"]) == 0
    second = {s["source"]: s for s in json.loads(capsys.readouterr().out)["sources"]}
    assert second["flaky"]["status"] == "ok" and second["flaky"]["new"] == 1
    assert "gone" not in second
    assert len(server.seen("/gone")) == 1
