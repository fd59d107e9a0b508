"""Compiled rules kept beside the database: a command that starts on rules it compiled before
reuses them; a change to the actors, rules or vocabulary, a corrupt file or a file someone
else could have written is rebuilt, never trusted. Each command runs in a fresh interpreter,
as a user's shell starts one, and says from ``sys.modules`` whether it compiled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from monitor.match.cache import MAGIC
from tests.conftest import Feed, LocalServer, make_config

PROBE = """
import json, sys
from monitor.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "compiled": "monitor.match.compiler" in sys.modules}),
      file=sys.stderr)
"""


def tried(config: Path, text: Path) -> tuple[bool, bool]:
    """(did `test-rules` alert on the text, did it compile the rules)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "--config", str(config), "test-rules", "--json", str(text)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, 1), done.stderr
    verdict = json.loads(done.stdout.strip().splitlines()[-1])
    return bool(verdict["alerts"]), report["compiled"]


def _config(tmp_path: Path) -> tuple[Path, Path, Path]:
    config = make_config(tmp_path, storage={"url": f"sqlite:///{tmp_path}/monitor.db"})
    text = tmp_path / "report.txt"
    text.write_text("Hizbollah fighters clashed with the Syrian regime near Qusayr.\n")
    return config, text, tmp_path / "monitor.db.rules"


def test_rules_compiled_once_are_reused_and_rebuilt_when_they_change(tmp_path: Path):
    config, text, cache = _config(tmp_path)
    assert tried(config, text) == (True, True)  # the first start compiles …
    assert cache.read_bytes().startswith(MAGIC)
    assert oct(cache.stat().st_mode & 0o777) == "0o600"
    assert tried(config, text) == (True, False)  # … the next ones do not

    # an alias added: the rules changed, so the cached ones are not used
    data = yaml.safe_load(config.read_text())
    data["actors"]["Hezbollah"]["aliases"].append("Party of God")
    config.write_text(yaml.safe_dump(data))
    text.write_text("Party of God fighters clashed with the Syrian regime near Qusayr.\n")
    assert tried(config, text) == (True, True)
    assert tried(config, text) == (True, False)

    # and taken away again: the cache holds the alias, the rules do not
    data["actors"]["Hezbollah"]["aliases"].remove("Party of God")
    config.write_text(yaml.safe_dump(data))
    assert tried(config, text) == (False, True)

    # a keyword set changed (the vocabulary): rebuilt as well
    data["keywords"]["conflict"].remove("clash")
    config.write_text(yaml.safe_dump(data))
    text.write_text("Hizbollah fighters clashed with the Syrian regime near Qusayr.\n")
    assert tried(config, text) == (False, True)


def test_a_corrupt_or_foreign_cache_is_rebuilt_not_trusted(tmp_path: Path):
    config, text, cache = _config(tmp_path)
    tried(config, text)
    good = cache.read_bytes()

    for broken in (good[: len(good) // 2], b"garbage", MAGIC + b"0" * 64 + b"\n" + good[90:]):
        cache.write_bytes(broken)
        assert tried(config, text) == (True, True), broken[:40]
        assert cache.read_bytes()[: len(MAGIC) + 65] == good[: len(MAGIC) + 65]  # written anew

    # a file that others may write is not read (a pickle runs code as it loads)
    os.chmod(cache, 0o666)
    assert tried(config, text) == (True, True)
    assert cache.stat().st_mode & 0o077 == 0  # replaced by one of this user's own


def test_a_database_in_memory_keeps_no_cache(tmp_path: Path):
    config = make_config(tmp_path, storage={"url": "sqlite:///:memory:"})
    text = tmp_path / "report.txt"
    text.write_text("Hizbollah fighters clashed with the Syrian regime near Qusayr.\n")
    assert tried(config, text) == (True, True)
    assert tried(config, text) == (True, True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["monitor.yaml", "report.txt"]


def test_a_large_pass_on_kept_rules_loads_them_in_its_workers_when_text_comes(
    tmp_path: Path, server: LocalServer
):
    """From 100 sources on, workers read the text. On a kept compilation the pass itself never
    loads it: each worker does, the first time it is given text, and finds what is new."""
    feeds = [Feed() for _ in range(120)]
    for i, feed in enumerate(feeds):
        feed.add(f"Market day {i}", "Prices of bread rose in the market this week.")
        server.route(f"/f{i}.xml", feed)
    config = make_config(
        tmp_path,
        sources=[{"name": f"f{i}", "url": server.url(f"/f{i}.xml")} for i in range(120)],
    )

    def once() -> str:
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(config), "once"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "start=fork" in done.stderr or (os.cpu_count() or 1) < 2, done.stderr
        return done.stdout

    once()  # compiles the rules and keeps them
    assert (tmp_path / "monitor.db.rules").exists()
    feeds[77].add(*("Regime forces and Hizbollah clash", "Regime forces clashed with Hizbollah."))
    assert "Assad regime ⟷ Hezbollah" in once()
