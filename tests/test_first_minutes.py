"""The first minutes with the command line, as a new user types it: options where they put
them, help and version, reading the database without delivery secrets, empty results that say
so, one line per alert, paths that follow the configuration file, one daemon per database."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from monitor.cli import main
from tests.conftest import Feed, LocalServer, Response, make_config

STORY = ("Regime forces and Hizbollah clash", "Regime forces clashed with Hizbollah at dawn.")


def test_global_options_before_or_after_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    config = str(make_config(tmp_path))
    # the form config/monitor.yaml's header tells users to type
    assert main(["check", "--config", config]) == 0
    assert main(["--config", config, "check"]) == 0
    assert main(["status", "-c", config, "--log-level", "warning"]) == 0
    out = capsys.readouterr().out
    assert out.count("ok — 0 sources") == 2


def test_help_and_version(capsys: pytest.CaptureFixture[str]):
    assert main(["help"]) == 0
    assert "COMMAND" in capsys.readouterr().out
    assert main(["help", "alerts"]) == 0
    assert "--rule" in capsys.readouterr().out
    assert main(["version"]) == 0
    assert capsys.readouterr().out.startswith("monitor 0.")
    assert main(["help", "nope"]) == 2
    assert "no command 'nope'" in capsys.readouterr().err


def test_reading_commands_need_no_delivery_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.delenv("DESK_HOOK_URL", raising=False)
    config = str(
        make_config(
            tmp_path,
            sources=[{"name": "a", "url": "http://127.0.0.1:9/feed"}],
            channels={"hook": {"type": "webhook", "url": "${DESK_HOOK_URL}"}},
        )
    )
    article = tmp_path / "a.txt"
    article.write_text(f"{STORY[0]}\n{STORY[1]}\n")
    for command in (["articles"], ["alerts"], ["status"], ["test-rules", str(article)]):
        assert main(["--config", config, *command]) == 0, command
    capsys.readouterr()
    # a command that delivers still needs them, and says which
    assert main(["--config", config, "once"]) == 2
    assert "environment variable DESK_HOOK_URL is not set" in capsys.readouterr().err


def test_empty_results_say_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    config = str(make_config(tmp_path))
    assert main(["--config", config, "articles"]) == 0
    assert main(["--config", config, "alerts"]) == 0
    assert main(["--config", config, "status"]) == 0
    err = capsys.readouterr().err
    assert "no articles stored yet" in err and "no alerts" in err
    assert "no sources configured" in err


def test_alerts_list_one_line_per_alert_with_each_channel_s_delivery(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    feed = Feed()
    feed.add(*STORY)
    server.route("/feed.xml", feed)
    server.route("/hook", lambda r: Response(500))
    config = str(
        make_config(
            tmp_path,
            sources=[{"name": "desk", "url": server.url("/feed.xml")}],
            channels={
                "console": {"type": "console"},
                "hook": {"type": "webhook", "url": server.url("/hook")},
            },
            rules=[
                {
                    "name": "infighting",
                    "any": ["conflict"],
                    "severity": "high",
                    "channels": ["console", "hook"],
                }
            ],
        )
    )
    assert main(["--config", config, "once"]) == 0
    capsys.readouterr()
    assert main(["--config", config, "alerts"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1, lines
    [line] = lines
    assert " UTC  HIGH " in line and "Assad regime ⟷ Hezbollah: clash —" in line
    assert "console sent" in line and "hook pending (1 attempt: http 500)" in line
    # --json keeps its form: one object per alert row
    assert main(["--config", config, "alerts", "--json"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert sorted(r["channel"] for r in rows) == ["console", "hook"]


def test_a_relative_database_path_follows_the_configuration_file(
    tmp_path: Path,
    server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    feed = Feed()
    feed.add(*STORY)
    server.route("/feed.xml", feed)
    desk = tmp_path / "desk"
    desk.mkdir()
    path = make_config(desk, sources=[{"name": "desk", "url": server.url("/feed.xml")}])
    data = yaml.safe_load(path.read_text())
    data["storage"] = {"url": "sqlite:///data/monitor.db"}
    path.write_text(yaml.safe_dump(data))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(desk)
    assert main(["--config", "monitor.yaml", "once"]) == 0
    monkeypatch.chdir(elsewhere)
    capsys.readouterr()
    assert main(["--config", str(path), "articles"]) == 0
    assert STORY[0] in capsys.readouterr().out
    assert (desk / "data" / "monitor.db").exists() and not (elsewhere / "data").exists()
    assert main(["check", "--config", str(path)]) == 0
    assert f"database: {desk / 'data' / 'monitor.db'}" in capsys.readouterr().out


def test_one_daemon_per_database_and_once_beside_it_leaves_delivery_to_it(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    feed = Feed()
    feed.add(*STORY)
    server.route("/feed.xml", feed)
    config = make_config(
        tmp_path, sources=[{"name": "desk", "url": server.url("/feed.xml"), "interval": "1h"}]
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lock = tmp_path / "monitor.db.lock"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (lock.exists() and lock.read_text()):
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        assert main(["--config", str(config), "run"]) == 1
        err = capsys.readouterr().err
        assert f"monitor run (pid {proc.pid}, since " in err and "already using" in err
        # `once` beside it polls and stores, and leaves sending to the daemon
        assert main(["--config", str(config), "once", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["sources"][0]["new"] == 1
        assert report["delivery"]["left_to"].startswith(f"monitor run (pid {proc.pid}")
        proc.send_signal(signal.SIGINT)
        _out, daemon_err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    # the start said what happens next
    assert "monitor running: 1 source; first polls spread over the next" in daemon_err
    assert "`monitor once` polls every source now" in daemon_err
    # the lock went with the daemon: `once` delivers again
    assert main(["--config", str(config), "once", "--json"]) == 0
    assert "left_to" not in json.loads(capsys.readouterr().out)["delivery"]


def test_an_unknown_timezone_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    config = str(make_config(tmp_path, delivery={"timezone": "Mars/Olympus"}))
    assert main(["check", "--config", config]) == 1
    assert "delivery.timezone" in capsys.readouterr().err


def test_the_docker_image_s_configuration_keeps_the_database_in_its_volume(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    root = Path(__file__).resolve().parents[1]
    dockerfile = (root / "Dockerfile").read_text()
    assert "sed " not in dockerfile  # the image's configuration is the repository's, as is
    env = dict(re.findall(r"\b(MONITOR_[A-Z_]+)=(\S+)", dockerfile))
    assert env["MONITOR_CONFIG"] == "/config/monitor.yaml"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["check", "--config", str(root / "config" / "monitor.yaml")]) == 0
    out = capsys.readouterr().out
    assert "database: /data/monitor.db" in out  # in the VOLUME, not under /app
    assert "endpoint: http://0.0.0.0:9108/healthz" in out  # reachable through -p
    assert 'VOLUME ["/data"]' in dockerfile and "EXPOSE 9108" in dockerfile
