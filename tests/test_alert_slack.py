"""Slack: Block Kit payloads within Slack's limits, escaping, 429, and threads with a bot."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.alert.slack import BLOCK_LIMIT, HEADER_LIMIT, SECTION_LIMIT, blocks
from monitor.cli import main
from monitor.models import ActorMention, Alert, AlertStatus, Match, Span
from tests.conftest import Feed, LocalServer, Request, Response, make_config

HOSTILE = "<!channel> & <script>alert(1)</script> <https://evil.example|click>"


def alert(title: str = HOSTILE, sentence: str = "Hezbollah clashed with regime forces.") -> Alert:
    m = Match(
        "infighting",
        "high",
        2.0,
        (
            ActorMention("Hezbollah", ("Hezbollah",)),
            ActorMention("Assad regime", ("regime forces",)),
        ),
        ("clashed",),
        (Span("body", 0, len(sentence), sentence, ((0, 9), (10, 17))),),
    )
    return Alert(
        1,
        "slack",
        AlertStatus.PENDING,
        0,
        datetime(2026, 11, 22, tzinfo=UTC),
        m,
        title,
        "https://news.example/1",
        "desk <@U123>",
        None,
    )


def all_text(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False)


def test_web_text_cannot_inject_mentions_or_links():
    text = all_text(blocks(alert()))
    assert "<!channel>" not in text and "<script>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt; &amp; &lt;script&gt;" in text
    assert "desk &lt;@U123&gt;" in text
    assert "<https://news.example/1|" in text  # our own link stays a link


def test_limits_are_met_by_trimming():
    long_title = "Hezbollah " * 400
    long_sentence = "Hezbollah clashed with regime forces " + "and more " * 2000
    payload = blocks(alert(long_title, long_sentence))
    assert len(payload) <= BLOCK_LIMIT
    assert len(payload[0]["text"]["text"]) <= HEADER_LIMIT
    for block in payload:
        texts = [block.get("text", {}).get("text", "")]
        texts += [f["text"] for f in block.get("fields", [])]
        texts += [e["text"] for e in block.get("elements", [])]
        assert all(len(t) <= SECTION_LIMIT for t in texts)


def test_matched_words_are_bold():
    quote = next(
        b
        for b in blocks(alert())
        if b["type"] == "section" and b.get("text", {}).get("text", "").startswith(">")
    )
    assert quote["text"]["text"] == "> *Hezbollah* *clashed* with regime forces."


@pytest.fixture
def desk(tmp_path: Path, server: LocalServer) -> dict[str, Any]:
    feed = Feed()
    feed.add(
        "Hizbollah & <b>regime</b> forces clash",
        "Hizbollah fighters clashed with regime forces near Qusayr, killing four.",
    )
    server.route("/feed.xml", feed)
    return {"feed": feed, "sources": [{"name": "desk", "url": server.url("/feed.xml")}]}


def test_incoming_webhook_receives_block_kit(
    tmp_path: Path, server: LocalServer, desk: dict[str, Any]
):
    got: list[dict[str, Any]] = []
    server.route("/slack", lambda r: (got.append(r.json()), Response(200, b"ok"))[1])
    config = make_config(
        tmp_path,
        sources=desk["sources"],
        channels={"slack": {"type": "slack", "url": server.url("/slack")}},
    )
    assert main(["--config", str(config), "once"]) == 0
    [payload] = got
    assert payload["text"].startswith(
        "[HIGH] Hezbollah ⟷ Assad regime: clash — Hizbollah &amp; regime"
    )
    header, title, quote, facts = payload["blocks"]
    # the parties by their canonical names; the headline linked once, never quoted again
    assert header["text"]["text"] == "HIGH · Hezbollah ⟷ Assad regime: clash"
    assert title["text"]["text"].startswith("*<https://news.example/1|Hizbollah &amp; regime")
    assert quote["text"]["text"] == (
        "> *Hizbollah* fighters *clashed* with *regime forces* near Qusayr, killing four."
    )
    assert facts["type"] == "context"
    assert facts["elements"][0]["text"].startswith("keywords: clash · rule infighting")


def test_429_with_retry_after_delays_the_retry(
    tmp_path: Path, server: LocalServer, desk: dict[str, Any], capsys: pytest.CaptureFixture[str]
):
    server.route("/slack", Response(429, b"rate_limited", {"Retry-After": "120"}))
    config = make_config(
        tmp_path,
        sources=desk["sources"],
        channels={"slack": {"type": "slack", "url": server.url("/slack")}},
    )
    before = datetime.now(UTC)
    assert main(["--config", str(config), "once", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["delivery"]["retrying"] == 1
    with sqlite3.connect(tmp_path / "monitor.db") as db:
        [(status, when, error)] = db.execute(
            "SELECT status, next_attempt, last_error FROM alerts"
        ).fetchall()
    assert (status, error) == ("pending", "http 429")
    assert datetime.fromisoformat(when) >= before + timedelta(seconds=120)
    # and nothing is sent again before that time
    assert main(["--config", str(config), "once"]) == 0
    assert len(server.seen("/slack")) == 1


def test_bot_token_threads_follow_ups(
    tmp_path: Path, server: LocalServer, monkeypatch: pytest.MonkeyPatch
):
    posted: list[Request] = []

    def api(req: Request) -> Response:
        posted.append(req)
        ts = f"1700000000.{len(posted):06d}"
        return Response(
            200, json.dumps({"ok": True, "ts": ts}).encode(), {"Content-Type": "application/json"}
        )

    server.route("/api/chat.postMessage", api)
    sources = []
    feeds = []
    for i in range(2):
        feed = Feed()
        feeds.append(feed)
        server.route(f"/o{i}.xml", feed)
        sources.append({"name": f"outlet-{i}", "url": server.url(f"/o{i}.xml")})
    monkeypatch.setenv("TEST_SLACK_TOKEN", "xoxb-test-token")
    config = make_config(
        tmp_path,
        sources=sources,
        channels={
            "slack": {
                "type": "slack",
                "token": "${TEST_SLACK_TOKEN}",
                "channel": "C123",
                "api_url": server.url("/api"),
            }
        },
    )
    assert main(["--config", str(config), "once"]) == 0  # the outlets read before the news
    for feed in feeds:
        feed.add(
            "Hezbollah and regime forces clash",
            "Hezbollah fighters clashed with regime "
            "forces near Qusayr on Sunday, killing four, residents said. The road was shut.",
        )
    assert main(["--config", str(config), "once"]) == 0
    first, second = (p.json() for p in posted)
    assert posted[0].headers["authorization"] == "Bearer xoxb-test-token"
    assert first["channel"] == "C123" and "blocks" in first and "thread_ts" not in first
    assert second["thread_ts"] == "1700000000.000001"
    assert second["text"].startswith("Also reported by outlet-")
    assert "Hezbollah ⟷ Assad regime" in second["text"]  # who fights whom, in the thread too


def test_roles_are_shown_and_escaped():
    from dataclasses import replace

    from monitor.alert.render import html_body, text
    from monitor.alert.view import view
    from monitor.models import Clash

    a = alert()
    clash = Clash(
        "clashed",
        ("Hezbollah",),
        ("Assad regime",),
        True,
        ("<b>Hezbollah</b>",),
        ("regime forces",),
    )
    a = replace(a, match=replace(a.match, clashes=(clash,)))
    shown = all_text(blocks(a))
    # the parties by their canonical names, as the sides were read; the text's own words
    # (escaped) are in the quote
    assert "HIGH · Hezbollah ⟷ Assad regime: clashed" in shown
    assert text(view(a)).startswith("[HIGH] Hezbollah ⟷ Assad regime: clashed\n")
    assert "<strong>[HIGH] Hezbollah ⟷ Assad regime: clashed</strong>" in html_body(view(a))
    assert "<b>" not in shown and "<b>" not in html_body(view(a))
