"""Running for months: reload without a restart, a clean stop during a slow fetch, the health
and metrics endpoint. `monitor run` as a real process against real local servers."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Feed, LocalServer, Request, Response, free_port, make_config
from tests.conftest import http_get as get


def start(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM, timeout: float = 30) -> str:
    try:
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return err


def counts(server: LocalServer, n: int) -> list[int]:
    return [len(server.seen(f"/f{i}.xml")) for i in range(n)]


def wait_until(check: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def desks(server: LocalServer, n: int, clash: int) -> tuple[list[Feed], list[Request]]:
    """Feeds /f0.xml … served with a quiet item each, one of them (``clash``) also with an
    infighting item; a webhook receiver at /hook: the feeds and the requests it got."""
    feeds = [Feed(f"Desk {i}") for i in range(n)]
    for i, feed in enumerate(feeds):
        feed.add(f"Market day {i}", "Traders reopened the covered market on Monday.")
        server.route(f"/f{i}.xml", feed)
    feeds[clash].add("Hizbollah and regime forces clash", "Regime forces clashed with Hizbollah.")
    hooks: list[Request] = []
    server.route("/hook", lambda r: (hooks.append(r), Response(204))[1])
    return feeds, hooks


def test_sighup_applies_a_new_configuration_then_sigterm_stops_cleanly(
    tmp_path: Path, server: LocalServer
):
    feeds, hooks = desks(server, 51, clash=50)

    def slow(_r: Request) -> Response:
        time.sleep(3)
        return Response(200, feeds[1].xml(), {"Content-Type": "application/rss+xml"})

    server.route("/slow.xml", slow)
    sources = [
        {"name": f"f{i}", "url": server.url(f"/f{i}.xml"), "interval": "1s", "full_text": False}
        for i in range(50)
    ]
    config = make_config(
        tmp_path,
        sources=sources,
        channels={"hook": {"type": "webhook", "url": server.url("/hook")}},
        daemon={"listen": None, "grace": "10s"},
        fetch={
            "allow_private": True,
            "read_timeout": "10s",
            "deadline": "20s",
            "min_interval": "1s",
            "adapt": False,
        },
    )
    proc = start(config)
    try:
        wait_until(lambda: min(counts(server, 50)) >= 2, timeout=60)  # every feed, twice
        # edit: f0 removed, f50 added, f7's interval 1s -> 1h
        data = yaml.safe_load(config.read_text())
        data["sources"] = [s for s in data["sources"] if s["name"] != "f0"]
        data["sources"].append(
            {"name": "f50", "url": server.url("/f50.xml"), "interval": "1s", "full_text": False}
        )
        next(s for s in data["sources"] if s["name"] == "f7")["interval"] = "1h"
        config.write_text(yaml.safe_dump(data))
        proc.send_signal(signal.SIGHUP)
        server.wait_for("/hook", count=1, timeout=30)  # f50 was polled and alerted
        time.sleep(1.5)  # let polls started before the reload finish
        before = counts(server, 50)
        time.sleep(3)
        after = counts(server, 50)
        assert after[0] == before[0]  # removed: no longer polled
        assert after[7] == before[7]  # 1h now: not polled again soon
        others = [after[i] - before[i] for i in range(50) if i not in (0, 7)]
        assert min(others) >= 1  # everything else went on as before
        # a broken edit is rejected and the running configuration stays
        config.write_text(config.read_text().replace("sources:", "sourcez:"))
        proc.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        assert proc.poll() is None
        # SIGTERM while a slow fetch is in flight: it finishes within the grace period
        data["sources"].append({"name": "slow", "url": server.url("/slow.xml"), "interval": "1s"})
        config.write_text(yaml.safe_dump(data))
        proc.send_signal(signal.SIGHUP)
        server.wait_for("/slow.xml", timeout=30)
        t0 = time.monotonic()
        err = stop(proc)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err, err
    assert "configuration reloaded" in err
    assert "reload rejected, the running configuration stays" in err and "sourcez" in err
    assert "waiting for in-flight work" in err
    assert 1.0 < took < 10.0, took  # waited for the slow fetch, not for the whole grace
    with sqlite3.connect(tmp_path / "monitor.db") as db:
        statuses = db.execute("SELECT status FROM alerts").fetchall()
        slow_ok = db.execute(
            "SELECT last_success IS NOT NULL FROM sources WHERE name = 'slow'"
        ).fetchone()
    assert statuses == [("sent",)]  # the one alert, delivered once, nothing left pending
    assert len(hooks) == 1
    assert slow_ok == (1,)  # the in-flight poll completed and was recorded


def test_a_large_pass_forks_workers_and_ctrl_c_stops_them_all(tmp_path: Path, server: LocalServer):
    """From 100 sources on, parsing and matching run in worker processes forked at start-up.
    Ctrl-C reaches the whole process group: the daemon stops cleanly and no worker is left
    behind, and none prints a traceback."""
    _feeds, hooks = desks(server, 120, clash=77)
    config = make_config(
        tmp_path,
        sources=[
            {"name": f"f{i}", "url": server.url(f"/f{i}.xml"), "interval": "1s", "full_text": False}
            for i in range(120)
        ],
        channels={"hook": {"type": "webhook", "url": server.url("/hook")}},
    )
    log = tmp_path / "monitor.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,  # its own process group, as a terminal gives it
        )
    try:
        server.wait_for("/hook", count=1, timeout=30)
        wait_until(lambda: min(counts(server, 120)) >= 2, timeout=30)
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    err = log.read_text()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    if (os.cpu_count() or 1) > 1:
        assert "worker processes" in err and "start=fork" in err, err
    with contextlib.suppress(ProcessLookupError):
        time.sleep(0.5)
        os.killpg(proc.pid, 0)  # anything left in the group (a worker) answers
        raise AssertionError("a worker process outlived the daemon")
    assert len(hooks) == 1
    with sqlite3.connect(tmp_path / "monitor.db") as db:
        stored = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert stored == 121


def test_healthz_and_metrics(tmp_path: Path, server: LocalServer):
    feed = Feed()
    feed.add("Hizbollah and regime forces clash", "Regime forces clashed with Hizbollah.")
    server.route("/feed.xml", feed)
    server.route("/broken.xml", Response(500, b"oops"))
    port = free_port()
    config = make_config(
        tmp_path,
        sources=[
            {"name": "desk", "url": server.url("/feed.xml"), "interval": "1s"},
            {"name": "broken", "url": server.url("/broken.xml"), "interval": "1s"},
        ],
        daemon={"listen": f"127.0.0.1:{port}"},
    )
    proc = start(config)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _reachable(base), timeout=30)
        server.wait_for("/feed.xml", count=2, timeout=30)
        server.wait_for("/broken.xml", count=1, timeout=30)
        assert get(base + "/healthz") == (200, "ok\n")
        status, text = get(base + "/metrics")
        assert status == 200
        families = {f.name: f for f in text_string_to_metric_families(text)}
        polls = {
            s.labels["outcome"]: s.value
            for s in families["monitor_polls"].samples
            if s.name == "monitor_polls_total"
        }
        assert polls["ok"] >= 1 and polls["error"] >= 1
        assert families["monitor_sources"].samples[0].value == 2
        assert families["monitor_sources_in_error"].samples[0].value == 1
        assert families["monitor_articles_stored"].samples[0].value == 1
        assert any(s.value > 0 for s in families["monitor_fetch_seconds"].samples)
        assert "monitor_scheduler_lag_seconds" in families
        # each source claimed (a lease each) by this node, none held once polled
        claimed = families["monitor_sources_claimed"].samples[0].value
        assert claimed >= 2 and "monitor_leases_held" in families
        assert families["monitor_lease_lag_seconds"].samples[0].value >= 0
        # the database is made read-only: unhealthy, and says why
        (tmp_path / "monitor.db").chmod(0o444)
        status, text = get(base + "/healthz")
        assert status == 503 and "read-only" in text
        assert (
            subprocess.run(
                [sys.executable, "-m", "monitor", "--config", str(config), "health"],
                capture_output=True,
            ).returncode
            == 1
        )
        (tmp_path / "monitor.db").chmod(0o644)
        assert get(base + "/healthz")[0] == 200
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(config), "health"],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0 and done.stdout.strip() == "ok"
        # `monitor reload` asks the running daemon to re-read its configuration
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(config), "reload"],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
    finally:
        err = stop(proc)
    assert proc.returncode == 0, err
    assert "configuration reloaded" in err


def _reachable(base: str) -> bool:
    try:
        return get(base + "/healthz")[0] in (200, 503)
    except OSError:
        return False


def test_health_fails_when_nothing_listens(tmp_path: Path):
    config = make_config(tmp_path, daemon={"listen": f"127.0.0.1:{free_port()}"})
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "health"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "not running" in done.stdout + done.stderr


def test_operating_commands_need_no_channel_secret(tmp_path: Path, monkeypatch: Any):
    """`health`, `reload`, `status`, `nodes`, `sources export` send nothing: a webhook whose
    URL is in an unset environment variable does not stop them."""
    monkeypatch.delenv("MONITOR_TEST_UNSET_HOOK", raising=False)
    config = make_config(
        tmp_path,
        sources=[{"name": "desk", "url": "http://127.0.0.1:9/feed"}],
        channels={"hook": {"type": "webhook", "url": "${MONITOR_TEST_UNSET_HOOK}"}},
        daemon={"listen": f"127.0.0.1:{free_port()}"},
    )
    for command, code in [
        (["health"], 1),  # nothing listens: "not running", not a configuration error
        (["reload"], 1),
        (["status"], 0),
        (["nodes"], 0),
        (["sources", "export"], 0),
    ]:
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(config), *command],
            capture_output=True,
            text=True,
        )
        assert done.returncode == code, (command, done.stdout, done.stderr)
        assert "MONITOR_TEST_UNSET_HOOK" not in done.stderr, (command, done.stderr)


def test_a_node_that_missed_a_beat_is_listed_as_late(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A node SIGKILLed leaves its last heartbeat behind: it stays listed until 30 s, but
    from 15 s (a missed beat: nodes beat every 10 s) `nodes` and `status` say it is late."""
    import asyncio
    from datetime import UTC, datetime, timedelta

    from monitor.cli import main
    from monitor.store import open_store, sources_hash

    config = make_config(tmp_path, sources=[{"name": "desk", "url": "http://127.0.0.1:9/feed"}])
    url = yaml.safe_load(config.read_text())["storage"]["url"]

    async def beats() -> None:
        store = await open_store(url)
        try:
            now = datetime.now(UTC)
            listed = sources_hash([])
            await store.heartbeat("desk-live", listed, now - timedelta(seconds=2))
            await store.heartbeat("desk-killed", listed, now - timedelta(seconds=20))
        finally:
            await store.close()

    asyncio.run(beats())
    assert main(["--config", str(config), "nodes", "--json"]) == 0
    rows = {r["node"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows["desk-live"]["late"] is False and rows["desk-killed"]["late"] is True
    assert main(["--config", str(config), "nodes"]) == 0
    lines = dict(line.split(":", 1) for line in capsys.readouterr().out.splitlines())
    assert "late" not in lines["desk-live"]
    assert "late: no word for 20 s (taken for gone at 30 s)" in lines["desk-killed"]
    assert main(["--config", str(config), "status"]) in (0, 3)
    assert "desk-killed (seen 20 s ago, late)" in capsys.readouterr().out
