"""What a desk says back, from the command line: verdicts on alerts and missed articles become
the labelled set the rules of the day are scored on (`eval --verdicts`, `verdicts --labels` for
`eval --labels`); mutes keep a pair's, a source's or a story's alerts from being sent (stored,
listed as muted) until they end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.cli import main
from tests.conftest import Feed, LocalServer, make_config

CLASH = ("Regime forces and Hizbollah clash", "Regime forces clashed with Hizbollah at dawn.")
ALLIES = ("Hezbollah and regime forces repel rebels", "Hezbollah fought beside regime forces.")
MISSED = (
    "Tension in Qusayr",
    "Hezbollah gunmen opened fire on an army post held by regime forces, killing two soldiers.",
)


def _json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@pytest.fixture
def desk(tmp_path: Path, server: LocalServer) -> tuple[str, Feed]:
    feed = Feed()
    for title, text in (CLASH, ALLIES, MISSED):
        feed.add(title, text)
    server.route("/feed.xml", feed)
    config = make_config(
        tmp_path,
        sources=[{"name": "wire", "url": server.url("/feed.xml")}],
        channels={"console": {"type": "console"}},
    )
    return str(config), feed


def test_verdicts_become_the_labelled_set_the_rules_are_scored_on(
    desk: tuple[str, Feed], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    config, _ = desk
    assert main(["--config", config, "once"]) == 0
    capsys.readouterr()
    assert main(["--config", config, "alerts", "--json"]) == 0
    alerts = {a["title"]: a for a in _json_lines(capsys.readouterr().out)}
    assert main(["--config", config, "articles", "--json"]) == 0
    articles = {a["title"]: a["id"] for a in _json_lines(capsys.readouterr().out)}

    clash = alerts[CLASH[0]]
    assert main(["--config", config, "verdict", "--alert", str(clash["id"]), "--right"]) == 0
    assert "right (Assad regime against Hezbollah)" in capsys.readouterr().out
    # an article that sent nothing, and should have: named by its actors (an alias will do)
    missed = str(articles[MISSED[0]])
    args = ["--config", config, "verdict", "--article", missed, "--missed"]
    assert main([*args, "--actors", "Hizbollah"]) == 2  # two actors fight
    assert "names the two (or more) actors" in capsys.readouterr().err
    assert main([*args, "--actors", "Hizbollah", "Syrian regime", "--reason", "a shooting"]) == 0
    assert main(["--config", config, "verdict", "--article", missed, "--missed", "--actors",
                 "Hezbollah", "Narnia"]) == 2  # fmt: skip
    assert "'Narnia' is not a configured actor" in capsys.readouterr().err

    assert main(["--config", config, "verdicts", "--json"]) == 0
    said = _json_lines(capsys.readouterr().out)
    assert [(v["verdict"], v["alert"]) for v in said] == [("missed", True), ("right", True)]

    assert main(["--config", config, "eval", "--verdicts", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["files"], report["tp"], report["fn"]) == (2, 1, 1)  # the miss is still missed
    assert report["categories"]["desk_missed"] == {"items": 1, "positive": True, "found": 0}

    # the alert was wrong after all: the rules are now scored with a false alarm
    args = ["--config", config, "verdict", "--alert", str(clash["id"]), "--wrong"]
    assert main([*args, "--reason", "a drill"]) == 0
    capsys.readouterr()
    assert main(["--config", config, "eval", "--verdicts", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["files"], report["fp"], report["fn"]) == (2, 1, 1)

    # exported as labels, eval reads them as it reads any labels file, with no folder
    assert main(["--config", config, "verdicts", "--labels"]) == 0
    labels = tmp_path / "desk-labels.json"
    labels.write_text(capsys.readouterr().out)
    exported = json.loads(labels.read_text())
    assert {e["category"] for e in exported} == {"desk_wrong", "desk_missed"}
    assert all(e["text"] for e in exported)
    assert main(["--config", config, "eval", "--labels", str(labels), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["files"], again["fp"], again["fn"]) == (2, 1, 1)


def test_a_muted_pair_is_stored_and_listed_not_sent_until_unmuted(
    desk: tuple[str, Feed], capsys: pytest.CaptureFixture[str]
):
    config, feed = desk
    assert main(["--config", config, "once"]) == 0
    capsys.readouterr()
    args = ["--config", config, "mute", "--actors", "Hizbollah", "Assad regime", "--for", "1d"]
    assert main([*args, "--reason", "a known feud"]) == 0
    said = capsys.readouterr().out
    assert "actors Assad regime | Hezbollah muted until" in said
    assert main(["--config", config, "mute", "--source", "nope", "--for", "1h"]) == 2
    assert "'nope' is not a configured source" in capsys.readouterr().err
    assert main(["--config", config, "mute", "--story", "1", "--for", "yesterday"]) == 2
    assert "expected a period (30m, 1h, 1d, 1w) or a date" in capsys.readouterr().err

    feed.add("Fresh clashes", "Regime forces clashed with Hizbollah again near Qusayr on Monday.")
    assert main(["--config", config, "once"]) == 0
    out = capsys.readouterr().out
    assert "Fresh clashes" not in out  # the console channel printed nothing of it
    assert main(["--config", config, "alerts", "--status", "muted", "--json"]) == 0
    [muted] = _json_lines(capsys.readouterr().out)
    assert muted["title"] == "Fresh clashes" and muted["status"] == "muted"
    assert "muted until" in muted["last_error"]

    assert main(["--config", config, "mutes", "--json"]) == 0
    [mute] = _json_lines(capsys.readouterr().out)
    assert mute["reason"] == "a known feud" and mute["active"] is True
    assert main(["--config", config, "unmute", str(mute["id"])]) == 0
    assert main(["--config", config, "unmute", str(mute["id"])]) == 1  # already ended
    capsys.readouterr()
    feed.add("Clashes go on", "Regime forces clashed with Hizbollah for a third day in Qusayr.")
    assert main(["--config", config, "once"]) == 0
    assert "Clashes go on" in capsys.readouterr().out  # sent again
    assert main(["--config", config, "mutes"]) == 0
    assert "no mutes in force" in capsys.readouterr().err
