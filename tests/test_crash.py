"""Crash safety: `monitor run` killed with SIGKILL during delivery, again and again."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import Feed, LocalServer, Request, Response, make_config

ALERTS = 60
KILLS = 20


def unique_story(i: int, rng: random.Random) -> str:
    words = " ".join(f"w{rng.randrange(10**6)}" for _ in range(40))
    return (
        f"Hizbollah fighters clashed with regime forces near village {i} on Sunday, killing "
        f"{i + 2} people. {words}."
    )


def start(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "run"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def all_sent(path: Path) -> bool:
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=1)) as db:
            statuses = [s for (s,) in db.execute("SELECT status FROM alerts")]
    except sqlite3.Error:  # busy, or not created yet: ask again
        return False
    return len(statuses) == ALERTS and set(statuses) == {"sent"}


@pytest.mark.timeout(240)
def test_sigkill_during_delivery_loses_no_alert(tmp_path: Path, server: LocalServer):
    rng = random.Random(20261122)
    feed = Feed()
    for i in range(ALERTS):
        feed.add(f"Clash {i}", unique_story(i, rng), guid=f"urn:crash:{i}")
    server.route("/feed.xml", feed)
    received: list[str] = []
    lock = threading.Lock()

    def hook(req: Request) -> Response:
        time.sleep(0.15)  # a receiver that takes its time: kills land mid-delivery
        with lock:
            received.append(req.headers["idempotency-key"])
        return Response(200)

    server.route("/hook", hook)
    config = make_config(
        tmp_path,
        sources=[{"name": "desk", "url": server.url("/feed.xml"), "interval": "1s"}],
        channels={"hook": {"type": "webhook", "url": server.url("/hook")}},
        delivery={"max_per_minute": 0},  # this test is about crashes, not floods
    )
    kills_mid_delivery = 0
    for _ in range(KILLS):
        proc = start(config)
        before = len(received)
        time.sleep(rng.uniform(0.8, 2.0))  # start-up, a poll, then deliveries under way
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        time.sleep(0.2)  # the receiver finishes the request it was answering
        kills_mid_delivery += before < len(received) < before + ALERTS
    # a last, undisturbed run delivers whatever is still pending: until the database says
    # every alert is sent (an alert the receiver took just before a kill is pending again, and
    # is sent once more: its key is received already)
    proc = start(config)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all_sent(tmp_path / "monitor.db"):
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    with sqlite3.connect(tmp_path / "monitor.db") as db:
        rows = db.execute("SELECT id, status FROM alerts").fetchall()
    duplicates = len(received) - len(set(received))
    print(
        f"\ncrash test: {KILLS} kills ({kills_mid_delivery} during delivery), {ALERTS} alerts, "
        f"{len(received)} requests received, {duplicates} duplicates"
    )
    assert len(rows) == ALERTS and {s for _, s in rows} == {"sent"}
    assert len(set(received)) == ALERTS  # none lost
    assert kills_mid_delivery >= 5  # the test did kill during delivery
    # a duplicate needs a kill between "sent" and "recorded": at most one per kill
    assert duplicates <= kills_mid_delivery


def children(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (a daemon's worker processes)."""
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    out.add(int(entry.name))
    return out


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_killed_daemon_s_worker_processes_exit_with_it(tmp_path: Path, server: LocalServer):
    """A daemon killed outright (SIGKILL, the OOM killer) cannot stop its worker processes;
    they notice and exit, instead of waiting for work for ever."""
    feed = Feed()
    server.route("/feed.xml", feed)
    sources = [
        {"name": f"s{i}", "url": server.url(f"/feed.xml?{i}"), "interval": "1h"} for i in range(120)
    ]  # enough sources for a pool of workers
    proc = start(make_config(tmp_path, sources=sources))
    try:
        deadline = time.monotonic() + 30
        workers: set[int] = set()
        while time.monotonic() < deadline and len(workers) < 2:
            time.sleep(0.2)
            workers = children(proc.pid)
        assert len(workers) >= 2, "the daemon started no worker processes"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(w) for w in workers):
        time.sleep(0.2)
    left = [w for w in workers if alive(w)]
    for w in left:  # (not to leave them behind when the test fails)
        os.kill(w, signal.SIGKILL)
    assert not left, f"{len(left)} worker processes outlived their daemon"
