"""`monitor run` as a real process: it polls on schedule, alerts, and stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import Feed, LocalServer, Request, Response, make_config


def start(config: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_run_polls_alerts_and_stops_cleanly(
    tmp_path: Path, server: LocalServer, sig: signal.Signals
):
    feed = Feed()
    feed.add("Regime forces and Hizbollah clash", "Regime forces clashed with Hizbollah.")
    server.route("/feed.xml", feed)
    got: list[Request] = []
    server.route("/hook", lambda r: (got.append(r), Response(204))[1])
    config = make_config(
        tmp_path,
        sources=[{"name": "desk", "url": server.url("/feed.xml"), "interval": "1s"}],
        channels={"hook": {"type": "webhook", "url": server.url("/hook")}},
    )
    proc = start(config)
    try:
        server.wait_for("/feed.xml", count=2, timeout=30)  # polled, then polled again
        server.wait_for("/hook", count=1, timeout=15)
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err, err
    assert "stopped" in err.splitlines()[-1]
    assert len(got) == 1  # polled repeatedly, alerted once
    assert "if-none-match" in server.seen("/feed.xml")[-1].headers


def test_run_with_no_network_keeps_running(tmp_path: Path):
    config = make_config(
        tmp_path, sources=[{"name": "nowhere", "url": "http://127.0.0.1:9/feed", "interval": "1s"}]
    )
    proc = start(config)
    try:
        deadline = time.monotonic() + 20
        seen_failure = False
        while time.monotonic() < deadline and not seen_failure:
            time.sleep(0.2)
            assert proc.poll() is None, "the daemon died"
            seen_failure = (tmp_path / "monitor.db").exists()
        time.sleep(1.5)
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert "poll failed" in err and "connection refused" in err
    assert "Traceback" not in err, err


async def test_a_reload_that_adds_a_webhook_channel_delivers_through_it(
    tmp_path: Path, server: LocalServer
):
    """A console-only configuration builds no HTTP delivery client; a reload that adds a
    webhook channel gets one, and the next alert goes out through it."""
    from monitor.compiled import load_rules
    from monitor.daemon.runtime import Runtime

    feed = Feed()
    server.route("/feed.xml", feed)
    hooks: list[Request] = []
    server.route("/hook", lambda r: (hooks.append(r), Response(204))[1])
    sources = [{"name": "desk", "url": server.url("/feed.xml")}]
    config = make_config(tmp_path, sources=sources)
    runtime = await Runtime.open(*load_rules(config))
    try:
        assert runtime._delivery_client is None
        make_config(
            tmp_path,
            sources=sources,
            channels={"hook": {"type": "webhook", "url": server.url("/hook")}},
        )
        await runtime.reload(*load_rules(config))
        feed.add("Hizbollah and regime forces clash", "Regime forces clashed with Hizbollah.")
        await runtime.poll_all()
        result = await runtime.deliver()
    finally:
        await runtime.close()
    assert result.sent == 1
    assert len(hooks) == 1 and hooks[0].json()["rule"] == "infighting"
