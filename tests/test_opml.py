"""OPML in and out: a newsroom's feed list becomes sources, and the sources go back out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from monitor.cli import main
from monitor.opml import read_opml
from tests.conftest import Feed, LocalServer, make_config

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0"><head><title>Desk feeds</title></head><body>
  <outline text="Middle East">
    <outline type="rss" text="Levant Wire" xmlUrl="{a}" htmlUrl="https://levant.example/"/>
    <outline type="rss" title="Gulf Desk" text="ignored" xmlURL="{b}"/>
  </outline>
  <outline type="rss" text="Levant Wire again" xmlUrl="{a}"/>
  <outline text="no feed here" htmlUrl="https://x.example/"/>
  <outline type="rss" text="Not http" xmlUrl="file:///etc/passwd"/>
</body></opml>"""


def test_read_opml_keeps_each_feed_once_with_its_title():
    got = read_opml(OPML.format(a="https://a.example/rss", b="https://b.example/rss").encode())
    assert [(o.title, o.url) for o in got] == [
        ("Levant Wire", "https://a.example/rss"),
        ("Gulf Desk", "https://b.example/rss"),
    ]


def test_sources_can_name_an_opml_file_and_import_export_round_trip(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    for path in ("/a.xml", "/b.xml", "/c.xml"):
        feed = Feed()
        feed.add(f"Market day {path}", "Traders reopened the covered market.")
        server.route(path, feed)
    (tmp_path / "desk.opml").write_text(OPML.format(a=server.url("/a.xml"), b=server.url("/b.xml")))
    config = make_config(
        tmp_path,
        sources=[
            {"name": "levant-wire", "url": "https://own.example/feed"},
            {"opml": "desk.opml", "interval": "30m", "full_text": False},
        ],
    )
    assert main(["--config", str(config), "sources", "export"]) == 0
    exported = read_opml(capsys.readouterr().out.encode())
    assert [(o.title, o.url) for o in exported] == [
        ("levant-wire", "https://own.example/feed"),
        ("levant-wire-2", server.url("/a.xml")),  # a configured name is never taken over
        ("gulf-desk", server.url("/b.xml")),
    ]
    # import merges new feeds into the OPML file the configuration names
    more = tmp_path / "more.opml"
    more.write_text(OPML.format(a=server.url("/a.xml"), b=server.url("/c.xml")))
    assert main(["--config", str(config), "sources", "import", str(more)]) == 0
    assert "1 new feeds added" in capsys.readouterr().out
    assert main(["--config", str(config), "once", "--json"]) in (0, 1)
    report = {s["source"]: s for s in json.loads(capsys.readouterr().out)["sources"]}
    assert {n: report[n]["new"] for n in ("levant-wire-2", "gulf-desk", "gulf-desk-2")} == {
        "levant-wire-2": 1,
        "gulf-desk": 1,
        "gulf-desk-2": 1,
    }


def test_a_missing_opml_file_is_a_config_error_naming_the_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    config = make_config(
        tmp_path,
        sources=[
            {"name": "a", "url": "https://a.example/rss"},
            {"opml": "nope.opml"},
            {"name": "b"},
        ],
    )
    assert main(["--config", str(config), "check"]) == 1
    err = capsys.readouterr().err
    assert "sources[1].opml: cannot read" in err and "nope.opml" in err
    assert "sources[2].url" in err  # the entry after it is still named by its place


def test_import_without_an_opml_source_writes_one_and_says_how_to_use_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    config = make_config(tmp_path)
    feeds = tmp_path / "in.opml"
    feeds.write_text(OPML.format(a="https://a.example/rss", b="https://b.example/rss"))
    assert main(["--config", str(config), "sources", "import", str(feeds)]) == 0
    out = capsys.readouterr().out
    assert "2 new feeds added" in out and "- opml: sources.opml" in out
    data = yaml.safe_load(config.read_text())
    data["sources"] = [{"opml": "sources.opml"}]
    config.write_text(yaml.safe_dump(data))
    assert main(["--config", str(config), "check"]) == 0
    assert "2 sources" in capsys.readouterr().out


def test_import_names_what_it_leaves_out_and_keeps_folders_as_groups(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A feed list with a folder, a feed listed twice, an entry whose xmlUrl is not a URL
    and a feed the configuration already polls: each left-out entry is named in one line,
    and the folder becomes the sources' group, which export files them under again."""
    (tmp_path / "desk.opml").write_text(
        '<?xml version="1.0"?><opml version="2.0"><head/><body>'
        '<outline text="Levant"><outline text="Levant Wire" xmlUrl="https://a.example/rss"/>'
        '<outline text="Broken" xmlUrl="notaurl"/></outline>'
        '<outline text="Again" xmlUrl="https://a.example/rss"/>'
        '<outline text="Own" xmlUrl="https://own.example/feed"/>'
        "</body></opml>"
    )
    config = make_config(tmp_path, sources=[{"name": "own", "url": "https://own.example/feed"}])
    assert main(["--config", str(config), "sources", "import", str(tmp_path / "desk.opml")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert any("'Broken' has xmlUrl 'notaurl', not an http(s) URL: left out" in x for x in out)
    assert any("https://a.example/rss is listed twice: kept once" in x for x in out)
    assert any("configured already, as source 'own': not added" in x for x in out)
    [summary] = [x for x in out if "new feeds added" in x]
    assert summary.startswith("1 new feeds added") and "2 left out" in summary
    data = yaml.safe_load(config.read_text())
    data["sources"].append({"opml": "sources.opml"})
    config.write_text(yaml.safe_dump(data))
    assert main(["--config", str(config), "sources", "export"]) == 0
    exported = capsys.readouterr().out
    assert read_opml(exported.encode())[-1].group == "Levant"
    assert '<outline text="Levant">' in exported
    data["sources"].append({"opml": "desk.opml"})
    config.write_text(yaml.safe_dump(data))
    assert main(["--config", str(config), "check"]) == 0
    warned = capsys.readouterr().err
    assert "desk.opml: line 1: 'Broken' has xmlUrl 'notaurl'" in warned
