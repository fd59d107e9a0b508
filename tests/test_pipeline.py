"""End to end: a real feed on 127.0.0.1 → `monitor once` → a real webhook receiver."""

from __future__ import annotations

import json
from typing import Any

import pytest

from monitor.cli import main
from tests.conftest import Feed, LocalServer, Request, Response, make_config, run_once


@pytest.fixture
def desk(tmp_path: Any, server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    feed = Feed()
    feed.add("Markets reopen in Idlib", "Traders in Idlib reopened the covered market on Monday.")
    feed.add(
        "Hizbollah and regime forces clash south of Aleppo",
        "<p>Fighters from Hizbollah clashed with regime forces near Hadir on Sunday, "
        "local sources said.</p><p>At least six were killed.</p>",
    )
    feed.add("Iran hosts a trade fair", "Tehran opened its annual trade fair with Russian firms.")
    received: list[dict[str, Any]] = []

    def hook(req: Request) -> Response:
        received.append(req.json())
        return Response(200, b"ok")

    server.route("/feed.xml", feed)
    server.route("/hook", hook)
    monkeypatch.setenv("TEST_HOOK_URL", server.url("/hook"))
    config = make_config(
        tmp_path,
        sources=[{"name": "desk", "url": server.url("/feed.xml")}],
        channels={"team": {"type": "webhook", "url": "${TEST_HOOK_URL}"}},
    )
    return {"feed": feed, "received": received, "config": str(config)}


def test_once_stores_items_and_alerts_once_for_the_clash(
    desk: dict[str, Any], capsys: pytest.CaptureFixture[str]
):
    report = run_once(desk["config"], capsys)
    assert report["sources"] == [
        {
            "source": "desk",
            "status": "ok",
            "entries": 3,
            "new": 3,
            "matches": 1,
            "alerts": 1,
            "error": None,
            "edited": 0,
        }
    ]
    [alert] = desk["received"]
    assert alert["title"] == "Hizbollah and regime forces clash south of Aleppo"
    assert alert["actors"] == ["Hezbollah", "Assad regime"]
    assert alert["rule"] == "infighting" and alert["severity"] == "high"
    assert alert["url"] == "https://news.example/2"
    assert "**clash**" in alert["snippet"] and "**Hizbollah**" in alert["snippet"]
    forms = {a["actor"]: a["forms"] for a in alert["explanation"]["actors"]}
    assert forms["Hezbollah"] == ["Hizbollah"]

    assert main(["--config", desk["config"], "articles", "--json"]) == 0
    titles = [json.loads(line)["title"] for line in capsys.readouterr().out.splitlines()]
    assert sorted(titles) == sorted(i["title"] for i in desk["feed"].items)


def test_second_pass_sends_no_alert_and_uses_conditional_get(
    desk: dict[str, Any], server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    run_once(desk["config"], capsys)
    report = run_once(desk["config"], capsys)
    assert report["sources"][0]["status"] == "not-modified"
    assert len(desk["received"]) == 1
    second = server.seen("/feed.xml")[-1]
    assert second.headers["if-none-match"] == '"v3"'


def test_new_item_alerts_once(desk: dict[str, Any], capsys: pytest.CaptureFixture[str]):
    run_once(desk["config"], capsys)
    desk["feed"].add(
        "Rift deepens",
        "The rift between Iranian commanders and Russian forces "
        "in Deir ez-Zor turned into open fighting, officers said.",
    )
    report = run_once(desk["config"], capsys)
    assert report["sources"][0]["new"] == 1
    assert [a["title"] for a in desk["received"]] == [
        "Hizbollah and regime forces clash south of Aleppo",
        "Rift deepens",
    ]
    assert desk["received"][1]["actors"] == ["Iran", "Russia"]
    run_once(desk["config"], capsys)
    assert len(desk["received"]) == 2


def test_an_old_item_appearing_today_alerts_only_as_late_news(
    desk: dict[str, Any], capsys: pytest.CaptureFixture[str]
):
    """A feed that republishes (or first shows) an item from January 2025: it is stored and
    matched, and alerts at the lowest severity, saying it is old news, not as today's."""
    from datetime import UTC, datetime

    run_once(desk["config"], capsys)
    desk["feed"].add(
        "Hizbollah and HTS clash in the Qalamoun",
        "Hizbollah fighters clashed with HTS in the Qalamoun mountains, killing five.",
        published=datetime(2025, 1, 15, 9, 0, tzinfo=UTC),
    )
    run_once(desk["config"], capsys)
    late = desk["received"][-1]
    assert late["title"] == "Hizbollah and HTS clash in the Qalamoun"
    assert late["severity"] == "low"
    assert late["note"].startswith("late: published 2025-01-15, ")


def test_unchanged_body_without_304_is_not_parsed_again(
    tmp_path: Any, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    feed = Feed()
    feed.add("Quiet day", "Nothing to report.")
    server.route(
        "/plain.xml", lambda _r: Response(200, feed.xml(), {"Content-Type": "application/rss+xml"})
    )
    config = str(
        make_config(tmp_path, sources=[{"name": "plain", "url": server.url("/plain.xml")}])
    )
    assert run_once(config, capsys)["sources"][0]["status"] == "ok"
    assert run_once(config, capsys)["sources"][0]["status"] == "unchanged"


def test_a_broken_source_does_not_stop_the_others(
    desk: dict[str, Any], tmp_path: Any, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    server.route(
        "/garbage", Response(200, b"\x00\x01 this is not a feed <<<", {"Content-Type": "text/html"})
    )
    server.route("/gone", Response(500, b"oops"))
    config = make_config(
        tmp_path,
        sources=[
            {"name": "desk", "url": server.url("/feed.xml")},
            {"name": "garbage", "url": server.url("/garbage")},
            {"name": "broken", "url": server.url("/gone")},
            {"name": "nobody", "url": "http://127.0.0.1:9/feed"},
        ],
        channels={"team": {"type": "webhook", "url": "${TEST_HOOK_URL}"}},
    )
    report = run_once(config, capsys)
    by_name = {s["source"]: s for s in report["sources"]}
    assert by_name["desk"]["status"] == "ok" and by_name["desk"]["new"] == 3
    assert by_name["garbage"]["status"] == "error"
    assert by_name["garbage"]["error"].startswith("not a feed: XML ")
    assert by_name["broken"]["error"].startswith("http 500")
    assert by_name["nobody"]["error"].startswith("connection refused")
    assert len(desk["received"]) == 1

    assert main(["--config", str(config), "status", "--json"]) == 0
    status = {
        json.loads(x)["source"]: json.loads(x) for x in capsys.readouterr().out.split("\n") if x
    }
    assert status["broken"]["failures"] == 1 and status["broken"]["last_error"].startswith(
        "http 500"
    )
    assert status["desk"]["failures"] == 0 and status["desk"]["last_success"]


def test_webhook_outage_keeps_alert_pending_then_delivers_once(
    desk: dict[str, Any], server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    server.route("/hook", Response(503, b"down", {"Retry-After": "0"}))
    report = run_once(desk["config"], capsys)
    assert report["delivery"] == {"sent": 0, "retrying": 1, "failed": 0}
    assert main(["--config", desk["config"], "alerts", "--json", "--status", "pending"]) == 0
    [pending] = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert pending["title"].startswith("Hizbollah")


def test_console_channel_prints_a_readable_alert(
    tmp_path: Any, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    from datetime import UTC, datetime, timedelta

    feed = Feed()
    published = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    feed.add(
        "Rift in Aleppo",
        "Hezbollah fighters clashed with forces loyal to Assad overnight.",
        published=published,
    )
    server.route("/feed.xml", feed)
    config = make_config(tmp_path, sources=[{"name": "desk", "url": server.url("/feed.xml")}])
    assert main(["--config", str(config), "once"]) == 0
    out = capsys.readouterr().out
    # the parties, the headline, outlet and time, the sentence that says it: prose, no markup
    assert "[HIGH] Hezbollah ⟷ Assad regime: clashed\nRift in Aleppo\n" in out
    assert f"desk · {published:%Y-%m-%d %H:%M} UTC" in out
    assert "“Hezbollah fighters clashed with forces loyal to Assad overnight.”" in out
    assert "Keywords: clashed · Rule: infighting" in out
    assert "**" not in out
    assert "1 source polled, 0 failed; alerts: 1 sent" in out
    # with --json, standard output is the report alone; the console alert goes to stderr
    feed.add(
        "Second rift",
        "In Hama, regime forces clashed with Hizbollah units after a dispute over a "
        "checkpoint on the northern road, residents told reporters on Tuesday evening.",
    )
    assert main(["--config", str(config), "once", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["delivery"]["sent"] == 1
    assert "[HIGH] Assad regime ⟷ Hezbollah: clashed\nSecond rift" in captured.err


def test_worker_processes_parse_and_match_like_the_main_process(
    desk: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    import monitor.poll.workers

    monkeypatch.setattr(monitor.poll.workers, "POOL_FROM_SOURCES", 1)  # spawn them for one source
    report = run_once(desk["config"], capsys)
    assert report["sources"][0]["new"] == 3 and report["sources"][0]["alerts"] == 1
    [alert] = desk["received"]
    assert alert["actors"] == ["Hezbollah", "Assad regime"]
    assert "**clash**" in alert["snippet"]


def test_worker_processes_read_many_feeds_together_and_a_broken_one_fails_alone(
    tmp_path: Any,
    server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    """Documents go to the worker processes several to a task; one that cannot be read
    fails its own source only, with its reason, and every other feed is stored."""
    import monitor.poll.workers

    monkeypatch.setattr(monitor.poll.workers, "POOL_FROM_SOURCES", 1)
    monkeypatch.setattr(monitor.poll.workers, "DOCUMENTS_PER_TASK", 4)
    sources = []
    for i in range(12):
        feed = Feed(f"Desk {i}")
        feed.add(f"Market day {i}", "Traders reopened the covered market on Monday.")
        feed.add(f"Clash {i}", "Regime forces clashed with Hizbollah near the airport.")
        server.route(f"/f{i}.xml", feed)
        sources.append({"name": f"f{i}", "url": server.url(f"/f{i}.xml"), "kind": "feed"})
    broken = b"\x89PNG\r\n\x1a\n\x00\x00 an image, not a feed"
    server.route("/f5.xml", Response(200, broken, {"Content-Type": "application/rss+xml"}))
    config = make_config(tmp_path, sources=sources)
    report = run_once(config, capsys)
    by_source = {s["source"]: s for s in report["sources"]}
    assert by_source["f5"]["status"] == "error"
    assert by_source["f5"]["error"].startswith("not a feed: XML not well-formed")
    others = [s for name, s in by_source.items() if name != "f5"]
    assert [s["status"] for s in others] == ["ok"] * 11
    assert all(s["new"] == 2 and s["matches"] == 1 for s in others)
