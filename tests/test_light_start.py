"""A light start: each command imports what it uses. `monitor version` does not load the
configuration's models; reading commands never load the fetcher, the daemon, aiohttp, the
rules engine or spaCy; `check` loads the parser's model only when asked (`--model`). Read
from ``sys.modules`` in a fresh interpreter, as a user's shell starts one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_config

#: what only a pass, a daemon or reading text needs
HEAVY = (
    "aiohttp",
    "httpx",
    "spacy",
    "numpy",
    "feedparser",
    "trafilatura",
    "apscheduler",
    "monitor.fetch",
    "monitor.daemon",
    "monitor.poll.pipeline",
    "monitor.poll.context",
    "monitor.poll.workers",
    "monitor.poll.kinds.registry",
    "monitor.match.engine",
)
#: … and what even reading the configuration needs
CONFIGURATION = ("pydantic", "yaml", "monitor.config", "monitor.store")

PROBE = """
import json, sys
from monitor.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def loaded(*args: str) -> set[str]:
    """The modules a command leaves loaded, run in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, done.stderr
    return set(report["modules"])


def among(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if any(m == n or m.startswith(n + ".") for m in modules))


@pytest.mark.parametrize("command", [["version"], ["help"], ["help", "alerts"]])
def test_version_and_help_load_no_configuration(command: list[str]):
    assert among(loaded(*command), HEAVY + CONFIGURATION) == []


@pytest.mark.parametrize(
    "command",
    [
        ["alerts", "--json"],
        ["alerts"],
        ["articles", "--json"],
        ["status"],
        ["nodes", "--json"],
        ["verdicts", "--json"],
        ["mutes", "--json"],
    ],
)
def test_reading_commands_load_neither_fetcher_nor_daemon_nor_rules(
    tmp_path: Path, command: list[str]
):
    config = make_config(
        tmp_path,
        sources=[{"name": "desk", "url": "http://127.0.0.1:9/feed"}],
        channels={"hook": {"type": "webhook", "url": "http://127.0.0.1:9/hook"}},
    )
    modules = loaded("--config", str(config), *command)
    assert among(modules, HEAVY) == []
    assert "monitor.store" in modules  # it did read the database


def test_check_finds_the_model_installed_and_loads_it_only_when_asked():
    shipped = str(Path(__file__).resolve().parents[1] / "config" / "monitor.yaml")
    assert "spacy" not in {m.partition(".")[0] for m in loaded("--config", shipped, "check")}
    assert "spacy" in loaded("--config", shipped, "check", "--model")


def test_a_pass_that_reads_no_text_loads_neither_the_engine_nor_the_console(tmp_path: Path):
    config = make_config(tmp_path)
    first = loaded("--config", str(config), "once")
    assert "monitor.match.engine" in first  # the rules compiled (and kept), which checks them
    again = loaded("--config", str(config), "once")
    assert "monitor.daemon.once" in again  # it did run the pass …
    # … on the kept compilation, which no text asked for
    assert among(again, ("monitor.match.engine", "spacy", "jinja2", "monitor.console")) == []
