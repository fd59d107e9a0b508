"""A desk's first week, as one trial: the scenario that found issue #23's frictions (three
outlets, a webhook, a Slack stand-in, a mail relay without AUTH; an old item, a story told by
three outlets, the same event rewritten, a node killed), played again with real servers on
127.0.0.1. Each friction's own test is beside its part; this one shows that together, as a
desk meets them, none comes back."""

from __future__ import annotations

import asyncio
import email
import json
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller

from monitor.cli import main
from tests.conftest import Feed, LocalServer, Request, Response, free_port, make_config

STORY = (
    "Hezbollah and HTS fighters clash near Qusayr",
    "Hizbollah fighters clashed with Hayat Tahrir al-Sham near Qusayr on Sunday, residents "
    "said. The road to Homs was closed for hours as both sides brought reinforcements.",
)
REWRITE = (
    "Six dead as Hezbollah and HTS fighters clash near Qusayr",
    "Six people were killed when Hizbollah and Hayat Tahrir al-Sham gunmen fought in the "
    "orchards outside Qusayr, a war monitor said on Monday.",
)
OLD = (
    "Regime forces and Hizbollah clash in Zabadani",
    "Regime forces clashed with Hizbollah in Zabadani, residents said.",
)


class Relay:
    """A mail relay that offers no AUTH (a local Postfix, as a desk has one)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 OK"


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(x) for x in capsys.readouterr().out.splitlines()]


def test_a_desk_s_first_week_as_one_trial(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    feeds = [Feed(f"outlet {i}") for i in range(3)]
    for i, feed in enumerate(feeds):
        server.route(f"/o{i}.xml", feed)
    hook: list[Request] = []
    slack: list[Request] = []
    server.route("/hook", lambda r: (hook.append(r), Response(204))[1])
    server.route("/slack", lambda r: (slack.append(r), Response(200, b"ok"))[1])
    relay = Relay()
    port = free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        config = make_config(
            tmp_path,
            sources=[{"name": f"outlet-{i}", "url": server.url(f"/o{i}.xml")} for i in range(3)],
            channels={
                "hook": {"type": "webhook", "url": server.url("/hook")},
                "slack": {"type": "slack", "url": server.url("/slack")},
                "mail": {
                    "type": "email",
                    # a user and no password, as README's example shape, on a relay
                    # without AUTH: a permanent failure, not "network error" for a day
                    "url": f"smtp://monitor@127.0.0.1:{port}",
                    "starttls": False,
                    "from": "monitor@desk.example",
                    "to": ["analyst@desk.example"],
                },
            },
            delivery={"followup_wait": "1ms", "escalate_at": 0},
        )
        _week(config, feeds, hook, slack, relay, capsys)
    finally:
        controller.stop()


def _week(
    config: Path,
    feeds: list[Feed],
    hook: list[Request],
    slack: list[Request],
    relay: Relay,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # day 1, first poll: the outlets' backlog holds an old report, republished
    feeds[0].add(*OLD, guid="urn:old", published=datetime.now(UTC) - timedelta(days=700))
    assert main(["--config", str(config), "once"]) == 0
    capsys.readouterr()
    seen = [(b["kind"], b.get("event"), b.get("title")) for b in (r.json() for r in hook)]
    assert [k for k, _e, _t in seen if k == "alert"] == ["alert"], seen
    [old] = [r.json() for r in hook if r.json()["kind"] == "alert"]
    assert old["severity"] == "low" and old["note"].startswith("late: published")
    assert "status" not in old  # the body is the alert, not its row's state

    # the story breaks on one outlet, then two more copy it, then it is told anew
    feeds[0].add(*STORY, guid="urn:story-0", link="https://outlet0.example/1")
    assert main(["--config", str(config), "once"]) == 0
    capsys.readouterr()
    for i in (1, 2):
        feeds[i].add(*STORY, guid=f"urn:story-{i}", link=f"https://outlet{i}.example/1")
    feeds[0].add(*REWRITE, guid="urn:rewrite", link="https://outlet0.example/2")
    assert main(["--config", str(config), "once", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    bodies = [r.json() for r in hook]
    told = [(b["kind"], b.get("title")) for b in bodies if b["kind"] != "source-health"]
    # one alert for the story; its copies and its rewrite told in one follow-up, not a burst
    assert told == [("alert", OLD[0]), ("alert", STORY[0]), ("followup", STORY[0])], told
    story, followup = bodies[-2:]
    assert followup["story"] == story["story"]
    assert "outlet-1" in followup["note"] and "outlet-2" in followup["note"]
    assert report["delivery"]["failed"] >= 1  # the mail, at once
    # Slack's follow-up names who fights whom
    said = json.dumps(slack[-1].json(), ensure_ascii=False)
    assert "Hezbollah" in said and "HTS" in said

    # the mail relay: failed at once, with the server's words, and the desk told elsewhere
    assert relay.messages == []
    assert main(["--config", str(config), "alerts", "--json"]) == 0
    rows = lines(capsys)
    mail = [r for r in rows if r["channel"] == "mail"]
    assert mail and all(r["status"] == "failed" for r in mail)
    assert all("AUTH" in (r["last_error"] or "") for r in mail)
    [notice] = [b for b in bodies if b["kind"] == "source-health"]
    assert notice["event"] == "channel-failing" and notice["source"] == "channel mail", notice
    assert "AUTH" in json.dumps(notice)

    # counts are per alert, channels beside it: the old report, the story, and the two
    # outlets' follow-ups (sent as one message) are four lines, not twelve rows
    groups = {(r["kind"], r["story"], r["note"]) for r in rows}
    assert (
        len(rows) == 12
        and len(groups) == 4
        and {r["channel"] for r in rows}
        == {
            "hook",
            "slack",
            "mail",
        }
    )
    assert main(["--config", str(config), "alerts"]) == 0
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) == 4, out

    # a node killed without a word is listed late, not alive
    _a_killed_node(config)
    assert main(["--config", str(config), "nodes", "--json"]) == 0
    [node] = lines(capsys)
    assert node["node"] == "desk-killed" and node["late"] is True


def _a_killed_node(config: Path) -> None:
    """What a SIGKILLed daemon leaves: its last heartbeat, 20 s old."""
    from monitor.store import open_store, sources_hash

    url = yaml.safe_load(config.read_text())["storage"]["url"]

    async def beat() -> None:
        store = await open_store(url)
        try:
            when = datetime.now(UTC) - timedelta(seconds=20)
            await store.heartbeat("desk-killed", sources_hash([]), when)
        finally:
            await store.close()

    asyncio.run(beat())
