"""Source health notices: one when a source keeps failing, one when it recovers; one when it
goes silent, one when it publishes again. Real local servers, real webhook receiver."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main
from tests.conftest import Feed, LocalServer, Response, make_config, run_once


def notices(hook: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(n["event"], n["source"]) for n in hook if n.get("kind") == "source-health"]


def test_one_notice_after_repeated_failures_and_one_when_the_source_recovers(
    tmp_path: Path,
    server: LocalServer,
    hook: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
):
    feed = Feed()
    feed.add("Markets reopen in Idlib", "Traders reopened the covered market.")
    broken = {"on": True}
    server.route("/feed.xml", lambda r: Response(500, b"oops") if broken["on"] else feed(r))
    config = make_config(
        tmp_path,
        sources=[{"name": "desk", "url": server.url("/feed.xml"), "full_text": False}],
        channels={"ops": {"type": "webhook", "url": "${TEST_HOOK_URL}"}},
        health={"channels": ["ops"], "after_failures": 3},
    )
    for _ in range(2):
        assert run_once(config, capsys)["sources"][0]["status"] == "error"
    assert notices(hook) == []  # two failures: below the threshold
    for _ in range(3):
        run_once(config, capsys)
    assert notices(hook) == [("failing", "desk")]  # exactly one, however long it fails
    assert "failed 3 polls in a row (http 500" in hook[0]["message"]
    assert f"desk ({server.url('/feed.xml')}) failed" in hook[0]["message"]  # where to look
    assert main(["--config", str(config), "status"]) == 0
    assert "FAILING since the start (5 polls): http 500" in capsys.readouterr().out
    broken["on"] = False
    run_once(config, capsys)
    run_once(config, capsys)
    assert notices(hook) == [("failing", "desk"), ("recovered", "desk")]
    assert hook[1]["message"] == "desk works again after 5 failed polls"


def test_one_notice_when_a_valid_source_goes_silent_and_one_when_it_publishes_again(
    tmp_path: Path,
    server: LocalServer,
    hook: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
):
    feed = Feed()
    feed.add("Markets reopen in Idlib", "Traders reopened the covered market.")
    server.route("/feed.xml", feed)
    config = make_config(
        tmp_path,
        sources=[
            {
                "name": "desk",
                "url": server.url("/feed.xml"),
                "full_text": False,
                "expect_every": "1s",
            }
        ],
        channels={"ops": {"type": "webhook", "url": "${TEST_HOOK_URL}"}},
    )
    assert run_once(config, capsys)["sources"][0]["new"] == 1
    run_once(config, capsys)
    assert notices(hook) == []  # not silent yet
    time.sleep(1.2)
    assert run_once(config, capsys)["sources"][0]["status"] == "not-modified"  # valid, just quiet
    run_once(config, capsys)
    assert notices(hook) == [("silent", "desk")]  # once
    assert main(["--config", str(config), "status"]) == 0
    assert "SILENT since" in capsys.readouterr().out
    assert "has published nothing new for" in hook[0]["message"]
    feed.add("Schools open", "Schools in Idlib opened after the holiday.")
    run_once(config, capsys)
    assert notices(hook) == [("silent", "desk"), ("publishing", "desk")]
    assert main(["--config", str(config), "check"]) == 0
    capsys.readouterr()


def test_health_channels_must_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    config = make_config(tmp_path, health={"channels": ["opz"]})
    assert main(["--config", str(config), "check"]) == 1
    assert "health.channels[0]: unknown channel 'opz'" in capsys.readouterr().err
