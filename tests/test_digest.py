"""Flood control and digest rules: overflow becomes one digest, never dropped."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor.alert.deliver import deliver_at, digest_due, dispatch
from monitor.alert.planner import AlertPlanner
from monitor.alert.webhook import WebhookChannel, WebhookSettings
from monitor.cli import main
from monitor.config import DeliverySettings
from monitor.models import ActorMention, Article, Match, Source, Span
from monitor.store.sqlite import SQLiteStore
from tests.conftest import Feed, LocalServer, Request, Response, make_config


def distinct_story(i: int) -> str:
    rng = random.Random(i)
    filler = " ".join(f"w{rng.randrange(10**6)}" for _ in range(30))
    return f"Hizbollah fighters clashed with regime forces near village {i}. {filler}."


def test_overflow_goes_out_as_one_digest(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    feed = Feed()
    for i in range(10):
        feed.add(f"Clash {i}", distinct_story(i), guid=f"urn:flood:{i}")
    server.route("/feed.xml", feed)
    got: list[dict[str, Any]] = []
    server.route("/hook", lambda r: (got.append(r.json()), Response(200))[1])
    config = make_config(
        tmp_path,
        sources=[{"name": "desk", "url": server.url("/feed.xml")}],
        channels={"hook": {"type": "webhook", "url": server.url("/hook")}},
        delivery={"max_per_minute": 3},
    )
    assert main(["--config", str(config), "once", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["delivery"]["sent"] == 10
    assert len(got) == 3  # two alerts one by one, then one digest: within the limit
    singles, digest = got[:2], got[2]
    assert all(m["kind"] == "alert" for m in singles)
    assert digest["kind"] == "digest" and digest["count"] == 8
    titles = {m["title"] for m in singles} | {m["title"] for m in digest["alerts"]}
    assert titles == {f"Clash {i}" for i in range(10)}  # nothing dropped


def test_digest_boundaries_are_clock_aligned():
    at = datetime(2026, 11, 22, 10, 17, 5, tzinfo=UTC)
    assert digest_due(at, 3600) == datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
    assert digest_due(at, 900) == datetime(2026, 11, 22, 10, 30, tzinfo=UTC)


async def test_digest_rule_sends_its_alerts_together_at_the_end_of_the_period(
    tmp_path: Path, server: LocalServer
):
    got: list[Request] = []
    server.route("/hook", lambda r: (got.append(r), Response(200))[1])
    store = await SQLiteStore.open(f"sqlite:///{tmp_path}/d.db")
    await store.sync_sources([Source("desk", "https://x.example/", 60)])
    t0 = datetime(2026, 11, 22, 10, 5, tzinfo=UTC)
    match = Match(
        "hourly",
        "medium",
        1.0,
        (ActorMention("Iran", ("Iran",)),),
        ("rift",),
        (Span("body", 0, 4, "rift", ((0, 4),)),),
    )
    batch = [
        (
            Article(
                "desk", f"a{i}", f"https://x.example/{i}", None, f"Story {i}", "t", t0, t0, f"h{i}"
            ),
            [match],
        )
        for i in range(3)
    ]
    planner = AlertPlanner(lambda m: ["hook"], deliver_at=deliver_at({"hourly": 3600}))
    await store.add_articles("desk", batch, t0, planner)
    client = httpx.AsyncClient()
    channel = WebhookChannel(
        "hook", WebhookSettings(type="webhook", url=server.url("/hook")), client
    )
    try:
        clock = {"now": t0 + timedelta(minutes=30)}
        settings = DeliverySettings()
        result = await dispatch(
            store, {"hook": channel}, settings, lambda: clock["now"], {"hourly": 3600}
        )
        assert result.sent == 0 and got == []  # not before the hour is over
        clock["now"] = datetime(2026, 11, 22, 11, 0, 1, tzinfo=UTC)
        result = await dispatch(
            store, {"hook": channel}, settings, lambda: clock["now"], {"hourly": 3600}
        )
        assert result.sent == 3
        [req] = got
        body = req.json()
        assert body["kind"] == "digest" and [a["title"] for a in body["alerts"]] == [
            "Story 0",
            "Story 1",
            "Story 2",
        ]
    finally:
        await client.aclose()
        await store.close()
