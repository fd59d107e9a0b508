"""When the machine fails under the daemon: a full disk, a loop that raises, a clock that steps,
an endpoint's port taken. Each is said once, pauses what cannot work, and resumes by itself;
nothing is lost. `monitor run` as a real process where the fault is the machine's (a small
file system of the test's own), in this process where it must be injected (an exception
inside a loop, a stepped clock)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Feed, LocalServer, Request, Response, make_config, start_monitor

#: eight clashes published while the disk is full, each a story of its own
CLASHES = [
    ("Hizbollah and HTS clash near Qusayr", "Hizbollah fighters clashed with HTS in Qusayr."),
    ("Daesh and Hizbollah clash in the desert", "Daesh fighters clashed with Hizbollah near T4."),
    ("Regime forces clash with HTS in Idlib", "Regime forces clashed with HTS near Saraqib."),
    ("Daesh clashes with regime forces", "Daesh fighters clashed with regime forces in Sukhnah."),
    ("IRGC and Russian forces clash", "IRGC fighters clashed with Russian forces in Mayadin."),
    ("IRGC units clash with HTS", "IRGC units clashed with HTS fighters near Aleppo."),
    ("Russian forces clash with HTS", "Russian forces clashed with HTS near Kafranbel."),
    ("Russian forces clash with Daesh", "Russian forces clashed with Daesh near Palmyra."),
]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


@contextlib.contextmanager
def small_disk(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where`` (as root: CI runs as root)."""
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"a file system of the test's own needs root: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> None:
    """Take every byte left on ``disk``."""
    with (disk / "filler").open("wb") as f:
        with contextlib.suppress(OSError):
            while True:
                f.write(b"\0" * 65536)
                f.flush()


@pytest.mark.timeout(240)
def test_a_full_disk_pauses_polls_says_so_once_and_resumes_by_itself(
    tmp_path: Path, server: LocalServer
):
    with small_disk(tmp_path / "disk", "1536k") as disk:
        feeds = [Feed(f"Desk {i}") for i in range(20)]
        for i, feed in enumerate(feeds):
            feed.add(f"Morning briefing {i}", "Markets opened calmly.", guid=f"urn:{i}:0")
            server.route(f"/f{i}.xml", feed)
        got: list[Request] = []
        server.route("/hook", lambda r: (got.append(r), Response(204))[1])
        port = free_port()
        config = make_config(
            tmp_path,
            sources=[
                {"name": f"desk{i}", "url": server.url(f"/f{i}.xml"), "interval": "1s"}
                for i in range(20)
            ],
            channels={"hook": {"type": "webhook", "url": server.url("/hook")}},
            daemon={"listen": f"127.0.0.1:{port}"},
            storage={"url": f"sqlite:///{disk}/monitor.db"},
        )
        log = tmp_path / "daemon.log"
        proc = start_monitor(config, log)
        try:
            wait_until(
                lambda: all(len(server.seen(f"/f{i}.xml")) >= 2 for i in range(20)),
                60,
                "every feed polled twice",
            )
            fill(disk)
            # big quiet articles, to use up what room the database's log file still has,
            # and eight clashes: the disk fills while they are polled
            for i, feed in enumerate(feeds):
                for k in range(3):
                    feed.add(f"Long read {i}.{k}", "Nothing happened. " * 2000, guid=f"urn:{i}:{k}l")
            for i, (title, text) in enumerate(CLASHES):
                feeds[i * 2].add(title, text, guid=f"urn:clash:{i}")
            wait_until(lambda: "database disk full" in log.read_text(), 60, "the full disk said")
            said_at = len(log.read_text().splitlines())
            status, text = get(f"http://127.0.0.1:{port}/healthz")
            assert status == 503 and "disk full" in text, text
            time.sleep(10)  # ten seconds of a full disk, polls due every second
            assert proc.poll() is None, "the daemon died"
            status, text = get(f"http://127.0.0.1:{port}/healthz")
            assert status == 503 and "disk full" in text, text
            while_full = log.read_text().splitlines()[said_at - 1 :]
            assert len(while_full) <= 6, "\n".join(while_full)
            subprocess.run(["mount", "-o", "remount,size=24m", str(disk)], check=True)
            grown = time.monotonic()
            wait_until(lambda: len(got) >= len(CLASHES), 30, "every clash delivered")
            took = time.monotonic() - grown
            wait_until(
                lambda: get(f"http://127.0.0.1:{port}/healthz")[0] == 200, 15, "healthy again"
            )
        finally:
            proc.terminate()
            proc.wait(30)
        text = log.read_text()
        assert proc.returncode == 0, text[-3000:]
        assert "Traceback" not in text and "bug" not in text, text[-3000:]
        assert "database writable again: polls resume" in text
        titles = sorted(json.loads(r.body)["title"] for r in got)
        assert titles == sorted(t for t, _ in CLASHES), titles  # each once, no notice
        print(f"every clash delivered {took:.1f} s after the disk grew")
        with sqlite3.connect(disk / "monitor.db") as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_monitor_once_on_a_full_disk_exits_non_zero_with_one_line(
    tmp_path: Path, server: LocalServer
):
    with small_disk(tmp_path / "disk", "1536k") as disk:
        feeds = [Feed(f"Desk {i}") for i in range(20)]
        for i, feed in enumerate(feeds):
            feed.add(f"Briefing {i}", "Nothing happened. " * 100, guid=f"urn:{i}")
            server.route(f"/f{i}.xml", feed)
        config = make_config(
            tmp_path,
            sources=[{"name": f"desk{i}", "url": server.url(f"/f{i}.xml")} for i in range(20)],
            storage={"url": f"sqlite:///{disk}/monitor.db"},
        )
        run = [sys.executable, "-m", "monitor", "--config", str(config), "once"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        assert subprocess.run(run, capture_output=True, env=env).returncode == 0  # the schema
        fill(disk)
        for feed in feeds:
            feed.add("Another long read", "Nothing happened again. " * 3000, guid="urn:more")
        done = subprocess.run(run, capture_output=True, text=True, env=env)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "database disk full" in lines[0], done.stderr[-3000:]
    assert "Traceback" not in done.stderr


def test_a_daemon_whose_endpoint_port_is_taken_refuses_to_start(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = make_config(tmp_path, daemon={"listen": f"127.0.0.1:{port}"})
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and f"127.0.0.1:{port}" in errors[0], done.stderr
    assert "daemon.listen" in errors[0] and "Traceback" not in done.stderr
    assert not (tmp_path / "monitor.db").exists() or "monitor running" not in done.stderr
