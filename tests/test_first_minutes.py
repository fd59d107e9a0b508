"""The first minutes with the command line, as a new user types it: options where they put
them, help and version, reading the database without delivery secrets, empty results that say
so, one line per alert, paths that follow the configuration file, one daemon per database."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from monitor.cli import main
from tests.conftest import Feed, LocalServer, Response, make_config, start_monitor

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
    assert main(["--config", config, "nodes"]) == 0
    err = capsys.readouterr().err
    assert "no articles stored yet" in err and "no alerts" in err
    assert "no sources configured" in err
    assert "no daemon on this database (none seen in the last 30 s)" in err


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
    # each channel's delivery, with the row id `alerts --retry` takes
    assert "console sent #" in line and "hook pending #" in line
    assert "(1 attempt: http 500)" in line
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
    log = tmp_path / "daemon.log"
    proc = start_monitor(config, log)
    try:
        # started: it says what happens next (and holds the database's lock)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "monitor running" not in log.read_text():
            assert proc.poll() is None, log.read_text()
            time.sleep(0.1)
        assert main(["--config", str(config), "run"]) == 1
        err = capsys.readouterr().err
        assert f"monitor run (pid {proc.pid} on " in err and "already using" in err
        # `once` beside it polls and stores, and leaves sending to the daemon
        assert main(["--config", str(config), "once", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["sources"][0]["new"] == 1
        assert report["delivery"]["left_to"].startswith(f"monitor run (pid {proc.pid}")
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    daemon_err = log.read_text()
    assert "monitor running: 1 source; first polls spread over the next" in daemon_err
    # the program as it was started, and the file it was given
    assert f"`python -m monitor --config {config} once` polls every source now" in daemon_err
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


def test_check_finds_what_would_fail_at_run_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n")
    assert main(["check", "--config", str(empty)]) == 1
    assert "the file is empty: nothing to watch" in capsys.readouterr().err

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    under = str(make_config(tmp_path, storage={"url": f"sqlite:///{blocker}/sub/monitor.db"}))
    assert main(["check", "--config", under]) == 1
    assert f"{blocker} is a file, not a folder" in capsys.readouterr().err
    # and at run time the same words, not "[Errno 17] File exists"
    assert main(["--config", under, "status"]) == 3
    assert f"{blocker} is a file, not a folder" in capsys.readouterr().err

    elsewhere = str(make_config(tmp_path, daemon={"listen": "192.0.2.7:9108"}))
    assert main(["check", "--config", elsewhere]) == 1
    assert "192.0.2.7 is not an address of this machine" in capsys.readouterr().err

    lonely = str(make_config(tmp_path))
    assert main(["check", "--config", lonely]) == 0
    captured = capsys.readouterr()
    assert "no sources: nothing will be polled" in captured.err
    assert f"database: {tmp_path / 'monitor.db'} (will be created)" in captured.out


def test_a_tab_in_the_yaml_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "monitor.yaml"
    path.write_text("storage:\n\turl: sqlite:///x.db\n")
    assert main(["check", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:2: not valid YAML: a tab indents this line (YAML needs spaces)" in err
    assert "<unicode string>" not in err


def test_an_html_page_configured_as_a_feed_says_so(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    page = b"<!doctype html><html><body><p>Levant news</p></body></html>"
    server.route("/news", Response(200, page, {"Content-Type": "text/html"}))
    config = make_config(
        tmp_path, sources=[{"name": "desk", "url": server.url("/news"), "kind": "feed"}]
    )
    assert main(["--config", str(config), "once", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)["sources"]
    assert row["error"] == "not a feed: the URL returned an HTML page (did you mean kind: page?)"


def test_a_webhook_that_refuses_says_where(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    feed = Feed()
    feed.add(*STORY)
    server.route("/feed.xml", feed)
    config = str(
        make_config(
            tmp_path,
            sources=[{"name": "desk", "url": server.url("/feed.xml")}],
            channels={"team-hook": {"type": "webhook", "url": "http://127.0.0.1:9/hook"}},
        )
    )
    assert main(["--config", config, "once"]) == 0
    assert "connection refused (127.0.0.1:9)" in capsys.readouterr().err
    assert main(["--config", config, "alerts"]) == 0
    out = capsys.readouterr().out
    assert "team-hook pending #" in out
    assert "(1 attempt: connection refused (127.0.0.1:9))" in out


def test_libraries_own_log_lines_stay_out_at_the_default_level(
    capsys: pytest.CaptureFixture[str],
):
    import logging

    from monitor import logs

    logs.setup("info")
    logging.getLogger("trafilatura.core").warning("discarding data: None")
    logging.getLogger("apprise").info("Notifying 1 service(s).")
    logging.getLogger("monitor.pipeline").info("poll ok")
    err = capsys.readouterr().err
    assert "poll ok" in err
    assert "discarding data" not in err and "Notifying" not in err
    logs.setup("debug")  # asked for: everything
    logging.getLogger("trafilatura.core").warning("discarding data: None")
    assert "discarding data" in capsys.readouterr().err
    logs.setup("info")


def test_ctrl_c_during_once_says_what_was_kept(tmp_path: Path):
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts, never answers: the poll is in flight at the interrupt
    port = listener.getsockname()[1]
    config = make_config(
        tmp_path,
        sources=[{"name": "slow", "url": f"http://127.0.0.1:{port}/feed"}],
        fetch={"allow_private": True, "read_timeout": "60s", "deadline": "60s"},
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "once"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        listener.settimeout(30)
        conn, _ = listener.accept()  # the poll has started
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
        conn.close()
    finally:
        listener.close()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130
    assert "interrupted: what was polled is stored; alerts not yet delivered stay pending" in err
    assert "Traceback" not in err
