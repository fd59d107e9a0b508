"""Measured accuracy: the shipped configuration on the seeds and on our own labelled set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.cli import main
from tests.conftest import Feed, LocalServer, Response, make_config, need_shared

ROOT = Path(__file__).resolve().parents[1]
CONFIG = str(ROOT / "config" / "monitor.yaml")
LABELLED = ROOT / "tests" / "data" / "labelled"


def run_eval(labels: Path, folder: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["--config", CONFIG, "eval", "--labels", str(labels), str(folder), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_seeds_all_alert_with_their_actors(shared: Path, capsys: pytest.CaptureFixture[str]):
    report = run_eval(shared / "seeds" / "labels.json", shared / "seeds", capsys)
    assert (report["files"], report["tp"], report["misses"]) == (5, 5, [])


def test_own_labelled_set_keeps_precision_and_recall_above_0_9(
    capsys: pytest.CaptureFixture[str],
):
    labels = json.loads((LABELLED / "labels.json").read_text())
    assert len(labels) >= 40
    assert sum(x["alert"] for x in labels) == sum(not x["alert"] for x in labels)
    report = run_eval(LABELLED / "labels.json", LABELLED, capsys)
    print(f"labelled set: precision {report['precision']} recall {report['recall']}")
    misses = [(m["file"], m["verdict"]) for m in report["misses"]]
    assert report["precision"] >= 0.9, misses
    assert report["recall"] >= 0.9, misses


def test_eval_explains_its_misses(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    (tmp_path / "a.txt").write_text("Calm\nHezbollah fighters clashed with regime forces.\n")
    (tmp_path / "b.txt").write_text("Oops\nHizbollah attacked the Syrian regime’s troops.\n")
    (tmp_path / "c.txt").write_text("Quiet\nNothing happened in Aleppo.\n")
    (tmp_path / "labels.json").write_text(
        json.dumps(
            [
                {"file": "a.txt", "alert": True, "actors": ["Hezbollah", "Assad regime"]},
                {"file": "b.txt", "alert": False, "actors": []},
                {"file": "c.txt", "alert": True, "actors": ["Iran"], "note": "ignored key"},
            ]
        )
    )
    assert (
        main(["--config", CONFIG, "eval", "--labels", str(tmp_path / "labels.json"), str(tmp_path)])
        == 0
    )
    out = capsys.readouterr().out
    assert "precision 0.500  recall 0.500  f1 0.500" in out
    assert "false positive: b.txt" in out
    assert "**Hizbollah** **attacked** the **Syrian regime**’s troops." in out
    assert "false negative: c.txt" in out and "expected actors: Iran" in out


def test_eval_reports_a_broken_labels_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    (tmp_path / "labels.json").write_text('{"file": "x"}')
    assert (
        main(["--config", CONFIG, "eval", "--labels", str(tmp_path / "labels.json"), str(tmp_path)])
        == 1
    )
    assert "expected a JSON list" in capsys.readouterr().err


def test_backtest_replays_stored_articles_with_new_rules(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    feed = Feed()
    feed.add("Border incident", "Hezbollah gunmen attacked regime forces near Qusayr.")
    feed.add("Trade fair", "Iran opened a trade fair in Tehran.")
    server.route("/feed.xml", feed)
    sources = [{"name": "desk", "url": server.url("/feed.xml")}]
    # first live with a rule that needs "clash": nothing alerts
    narrow = make_config(
        tmp_path,
        sources=sources,
        keywords={"conflict": ["clash"]},
        rules=[{"name": "narrow", "any": ["conflict"]}],
    )
    assert main(["--config", str(narrow), "once"]) == 0
    capsys.readouterr()
    # then tune the rule on the archive: the stored article would now alert
    wide = make_config(
        tmp_path,
        sources=sources,
        keywords={"conflict": ["clash", "attacked"]},
        rules=[{"name": "wide", "any": ["conflict"]}],
    )
    assert main(["--config", str(wide), "backtest", "--json"]) == 0
    [row] = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert row["title"] == "Border incident" and row["alerted_before"] == []
    assert row["alerts"][0]["actors"] == ["Hezbollah", "Assad regime"]
    assert main(["--config", str(wide), "backtest", "--since", "2999-01-01"]) == 0
    assert "0 articles scanned, 0 would alert" in capsys.readouterr().out
    assert main(["--config", str(wide), "alerts", "--json"]) == 0
    assert capsys.readouterr().out == ""  # nothing was sent or recorded


def test_backtest_rejects_a_bad_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["--config", str(make_config(tmp_path)), "backtest", "--since", "last week"]) == 2
    assert "--since: expected a date such as 2026-11-01" in capsys.readouterr().err


def test_shadow_rule_records_but_sends_nothing(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    feed = Feed()
    feed.add("Standoff", "Hezbollah fighters clashed with regime forces near Qusayr.")
    server.route("/feed.xml", feed)
    hook: list[object] = []
    server.route("/hook", lambda r: (hook.append(r), Response(200))[1])
    config = make_config(
        tmp_path,
        sources=[{"name": "desk", "url": server.url("/feed.xml")}],
        channels={"hook": {"type": "webhook", "url": server.url("/hook")}},
        rules=[{"name": "trial", "any": ["conflict"], "mode": "shadow"}],
    )
    assert main(["--config", str(config), "once", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["sources"][0]["matches"] == 1 and report["sources"][0]["alerts"] == 0
    assert hook == []
    assert main(["--config", str(config), "alerts", "--rule", "trial", "--json"]) == 0
    [row] = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert row["status"] == "shadow" and row["actors"] == ["Hezbollah", "Assad regime"]


def test_alternatives_categories_and_dates(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    (tmp_path / "a.txt").write_text("Idlib\nSyrian army units clashed with HTS fighters.\n")
    (tmp_path / "b.txt").write_text("Deir Hafer\nSyrian army units clashed with SDF fighters.\n")
    (tmp_path / "c.txt").write_text("Talks\nRussia and Iran discussed the truce in Astana.\n")
    labels = [
        # before December 2024 the Syrian army is Assad's: either name counts
        {
            "file": "a.txt",
            "alert": True,
            "actors": ["Assad regime|Syrian government", "HTS"],
            "category": "clear",
            "date": "2019-05-01",
        },
        # after it, only the new government is right
        {
            "file": "b.txt",
            "alert": True,
            "actors": ["Assad regime", "SDF"],
            "category": "clear",
            "date": "2025-09-25",
        },
        {"file": "c.txt", "alert": False, "actors": [], "category": "quiet", "date": "unknown"},
    ]
    (tmp_path / "labels.json").write_text(json.dumps(labels))
    report = run_eval(tmp_path / "labels.json", tmp_path, capsys)
    assert (report["tp"], report["wrong_actors"], report["tn"]) == (1, 1, 1)
    assert report["categories"] == {
        "clear": {"items": 2, "positive": True, "found": 1},
        "quiet": {"items": 1, "positive": False, "false_alarms": 0},
    }
    [miss] = report["misses"]
    assert miss["file"] == "b.txt" and miss["alerts"][0]["actors"] == ["Syrian government", "SDF"]
    assert (
        main(["--config", CONFIG, "eval", "--labels", str(tmp_path / "labels.json"), str(tmp_path)])
        == 0
    )
    out = capsys.readouterr().out
    assert "  clear  found        1 of 2\n  quiet  false alarms 0 of 1" in out
    assert "wrong actors: b.txt (clear)" in out
    assert "Syrian army units [Syrian government] ↔ clashed ↔ SDF" in out
    assert "not found: Assad regime" in out


def test_eval_explains_why_a_positive_was_missed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    (tmp_path / "a.txt").write_text(
        "Damascus\nIsraeli strikes hit Hezbollah and Iranian positions south of the capital.\n"
    )
    (tmp_path / "labels.json").write_text(
        json.dumps([{"file": "a.txt", "alert": True, "actors": ["Hezbollah", "Iran"]}])
    )
    assert (
        main(["--config", CONFIG, "eval", "--labels", str(tmp_path / "labels.json"), str(tmp_path)])
        == 0
    )
    out = capsys.readouterr().out
    assert "why not: «Israeli strikes hit Hezbollah and Iranian positions" in out
    assert "Hezbollah, Iran (target)" in out


RATCHET = ROOT / "tests" / "data" / "ratchet" / "realtext.json"


def test_real_text_development_set_never_falls_below_its_ratchet(
    capsys: pytest.CaptureFixture[str],
):
    """Detection on reporting written by others (the shared development set) holds the
    figures reached so far (``tests/data/ratchet/realtext.json``): precision and recall
    overall, each positive category's share found, each negative category's share of false
    alarms. A category that does better than its floor is named in the output, so that the
    floor can be raised with the change that lifted it; a new category needs a floor."""
    realtext = need_shared("realtext/labels.json").parent
    floor = json.loads(RATCHET.read_text())
    report = run_eval(realtext / "labels.json", realtext / "articles", capsys)
    misses = [(m["file"], m["verdict"], m["category"]) for m in report["misses"]]
    print(f"real text: precision {report['precision']} recall {report['recall']}")
    below, above = [], []
    for name in ("precision", "recall"):
        got = report[name]
        (below if got < floor[name] else above if got > floor[name] + 0.001 else []).append(
            (name, got, floor[name])
        )
    for name, c in report["categories"].items():
        if c["positive"]:
            got, limit = round(c["found"] / c["items"], 3), floor["found"].get(name)
            worse, better = limit is None or got < limit - 0.001, limit is not None and got > limit
        else:
            got, limit = round(c["false_alarms"] / c["items"], 3), floor["false_alarms"].get(name)
            worse, better = limit is None or got > limit + 0.001, limit is not None and got < limit
        if worse:
            below.append((name, got, limit))
        elif better:
            above.append((name, got, limit))
    if above:
        print(f"above the ratchet (raise {RATCHET.name}): {above}")
    assert not below, (below, misses)
