"""When the machine fails under the daemon: a full disk, a loop that raises, a clock that steps,
an endpoint's port taken. Each is said once, pauses what cannot work, and resumes by itself;
nothing is lost. `monitor run` as a real process where the fault is the machine's (a small
file system of the test's own), in this process where it must be injected (an exception
inside a loop, a stepped clock)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
import logging
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import (
    Feed,
    LocalServer,
    Request,
    Response,
    free_port,
    make_config,
    start_monitor,
)
from tests.conftest import http_get as get

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


def wait_until(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


def one_desk(
    tmp_path: Path, server: LocalServer, first: tuple[str, str]
) -> tuple[Feed, list[Request], int, Path]:
    """A feed polled every second with one clash in it, a receiver for its alerts and an
    endpoint: the feed, what the receiver got, the endpoint's port, the configuration."""
    feed = Feed()
    feed.add(*first, guid="urn:first")
    server.route("/feed.xml", feed)
    got: list[Request] = []
    server.route("/hook", lambda r: (got.append(r), Response(204))[1])
    port = free_port()
    config = make_config(
        tmp_path,
        sources=[{"name": "desk", "url": server.url("/feed.xml"), "interval": "1s"}],
        channels={"hook": {"type": "webhook", "url": server.url("/hook")}},
        daemon={"listen": f"127.0.0.1:{port}"},
    )
    return feed, got, port, config


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
    """Take every byte left on ``disk`` (none, when the daemon filled it already: then even
    the filler cannot be created)."""
    with contextlib.suppress(OSError), (disk / "filler").open("wb") as f:
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
                    feed.add(
                        f"Long read {i}.{k}", "Nothing happened. " * 2000, guid=f"urn:{i}:{k}l"
                    )
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


# -- in this process: faults injected into the daemon's own loops, a clock stepped ----------


async def _get(url: str) -> tuple[int, str]:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, await resp.text()


async def _until(check: Callable[[], object], within: float, what: str) -> None:
    """Wait for ``check()`` (or what it awaits) to be true."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {within:.0f} s: {what}")


def _failing(times: int, what: str, real: object) -> object:
    """``real``, raising RuntimeError the first ``times`` calls (a bug inside a loop)."""
    calls = {"n": 0}

    async def wrapper(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] <= times:
            raise RuntimeError(f"injected into {what}")
        return await real(*args, **kwargs)  # type: ignore[operator]

    return wrapper


@pytest.mark.timeout(120)
async def test_each_background_loop_restarts_after_an_exception_and_the_work_goes_on(
    tmp_path: Path,
    server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
):
    from monitor.compiled import load_rules
    from monitor.daemon import runtime as runtime_module
    from monitor.daemon import serve
    from monitor.daemon.runtime import Runtime
    from monitor.store.sql.sources import Sources

    caplog.set_level(logging.INFO, logger="monitor")
    _feed, got, port, config = one_desk(tmp_path, server, CLASHES[0])
    # a bug in each loop: claiming sources, delivering, maintaining the database
    monkeypatch.setattr(Sources, "claim_sources", _failing(2, "claims", Sources.claim_sources))
    monkeypatch.setattr(runtime_module, "dispatch", _failing(2, "deliver", runtime_module.dispatch))
    monkeypatch.setattr(Runtime, "maintain", _failing(2, "maintain", Runtime.maintain))
    monkeypatch.setattr(serve, "DELIVERY_EVERY", 1.0)
    monkeypatch.setattr(serve, "MAINTAIN_EVERY", 1.0)
    monkeypatch.setattr(serve, "MAINTAIN_FIRST", 0.5)
    stop = asyncio.Event()
    daemon = asyncio.ensure_future(serve.run_forever(*load_rules(config), stop=stop, grace=5))
    health = f"http://127.0.0.1:{port}/healthz"
    said: list[str] = []  # what /healthz answered with 503

    async def reachable() -> bool:
        with contextlib.suppress(OSError):
            status, text = await _get(health)
            if status == 503:
                said.append(text)
            return True
        return False

    try:
        await _until(reachable, 30, "the endpoint answers")

        async def looked_at() -> bool:
            await reachable()
            return all(
                any(f"{loop} failed: RuntimeError: injected" in t for t in said)
                for loop in ("claims", "deliver", "maintain")
            )

        await _until(looked_at, 30, "each loop's failure on /healthz")
        await _until(lambda: len(got) == 1, 30, "the alert delivered")
        await _until(lambda: _healthy(health), 30, "healthy again")
        _, metrics = await _get(f"http://127.0.0.1:{port}/metrics")
        seen = len(server.seen("/feed.xml"))
        await asyncio.sleep(2.5)
        assert len(server.seen("/feed.xml")) > seen, "polling goes on"
    finally:
        stop.set()
        await asyncio.wait_for(daemon, 30)
    restarts = {
        line.split('loop="')[1].split('"')[0]: float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("monitor_loop_restarts_total{")
    }
    assert restarts == {"claims": 2.0, "deliver": 2.0, "maintain": 2.0}, metrics
    for loop in ("claims", "deliver", "maintain"):
        logged = [r for r in caplog.records if r.getMessage().startswith(f"{loop} failed")]
        assert len(logged) == 1, [r.getMessage() for r in logged]  # once, with its cause
        assert logged[0].exc_info is not None
        assert any(r.getMessage().startswith(f"{loop} recovered") for r in caplog.records)
    assert len(got) == 1


async def _healthy(url: str) -> bool:
    return (await _get(url))[0] == 200


@pytest.mark.timeout(120)
async def test_a_wall_clock_stepping_back_and_forward_an_hour_starves_no_source_and_doubles_none(
    tmp_path: Path, server: LocalServer, caplog: pytest.LogCaptureFixture
):
    from datetime import UTC, datetime, timedelta

    from monitor.compiled import load_rules
    from monitor.daemon.serve import run_forever

    caplog.set_level(logging.INFO, logger="monitor")
    interval = 3.0
    polled: dict[int, list[float]] = {i: [] for i in range(3)}
    for i in range(3):
        feed = Feed(f"Desk {i}")
        feed.add(f"Briefing {i}", "Markets opened calmly.")

        def served(r: Request, i: int = i, feed: Feed = feed) -> Response:
            polled[i].append(time.monotonic())
            return feed(r)

        server.route(f"/f{i}.xml", served)
    config = make_config(
        tmp_path,
        sources=[
            {"name": f"desk{i}", "url": server.url(f"/f{i}.xml"), "interval": f"{interval:.0f}s"}
            for i in range(3)
        ],
        fetch={"allow_private": True, "min_interval": "1s", "adapt": False},
    )
    offset = timedelta(0)

    def clock() -> datetime:  # the wall clock, as an operator's `date -s` or NTP steps it
        return datetime.now(UTC) + offset

    stop = asyncio.Event()
    daemon = asyncio.ensure_future(run_forever(*load_rules(config), stop=stop, now=clock))
    try:
        await _until(lambda: all(len(t) >= 2 for t in polled.values()), 30, "polled twice")
        steps = {}
        for step in (timedelta(hours=-1), timedelta(hours=1)):
            offset += step
            steps[step] = time.monotonic()
            await asyncio.sleep(3 * interval)
    finally:
        stop.set()
        await asyncio.wait_for(daemon, 30)
    for i, times in polled.items():
        for step, at in steps.items():
            after = [t for t in times if at < t <= at + 3 * interval]
            assert len(after) >= 2, f"desk{i} starved after a step of {step}"
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert min(gaps) >= interval - 0.3, f"desk{i} polled twice within its interval: {gaps}"
    said = [r.getMessage() for r in caplog.records if "wall clock stepped" in r.getMessage()]
    assert len(said) == 2, said


@pytest.mark.timeout(120)
async def test_work_due_without_progress_is_unhealthy_whatever_the_cause(
    tmp_path: Path, server: LocalServer, monkeypatch: pytest.MonkeyPatch
):
    """No exception anywhere: a claim that hangs (a lock never released), a channel that
    refuses every alert. Sources due and no poll completed, alerts due and none sent, for
    longer than the daemon allows: /healthz is 503 and says which, until work moves again."""
    from monitor.compiled import load_rules
    from monitor.daemon import runtime as runtime_module
    from monitor.daemon.serve import run_forever
    from monitor.store.sql.sources import Sources

    monkeypatch.setattr(runtime_module, "STALL_AFTER", 2.0)
    feed = Feed()
    feed.add("Hizbollah and regime forces clash", "Regime forces clashed with Hizbollah.")
    server.route("/feed.xml", feed)
    refusing = True
    got: list[Request] = []

    def hook(r: Request) -> Response:
        if refusing:
            return Response(500, b"down")
        got.append(r)
        return Response(204)

    server.route("/hook", hook)
    port = free_port()
    config = make_config(
        tmp_path,
        sources=[{"name": "desk", "url": server.url("/feed.xml"), "interval": "1s"}],
        channels={"hook": {"type": "webhook", "url": server.url("/hook")}},
        daemon={"listen": f"127.0.0.1:{port}"},
        fetch={"allow_private": True, "min_interval": "1s", "deadline": "1s"},
        delivery={"retry_base": "1s", "retry_max": "2s"},
    )
    stuck, freed = asyncio.Event(), asyncio.Event()
    real_claim = Sources.claim_sources

    async def claim(self: Sources, *args: object, **kwargs: object) -> object:
        if stuck.is_set():
            await freed.wait()  # hangs, raising nothing, until the test frees it
        return await real_claim(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Sources, "claim_sources", claim)
    stop = asyncio.Event()
    daemon = asyncio.ensure_future(run_forever(*load_rules(config), stop=stop))
    health = f"http://127.0.0.1:{port}/healthz"
    try:
        await _until(lambda: len(server.seen("/hook")) >= 1, 30, "the alert tried")

        async def says(words: str) -> bool:
            status, text = await _get(health)
            return status == 503 and words in text

        await _until(lambda: says("delivery stalled"), 30, "delivery stalled said")
        refusing = False
        await _until(lambda: len(got) == 1, 30, "the alert sent once the channel takes it")
        await _until(lambda: _healthy(health), 30, "healthy again after the channel")
        stuck.set()
        await _until(lambda: says("polling stalled"), 30, "polling stalled said")
        _, metrics = await _get(f"http://127.0.0.1:{port}/metrics")
        waited = [
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("monitor_oldest_due_seconds ")
        ]
        assert waited and waited[0] >= 2.0, metrics
        stuck.clear()
        freed.set()
        await _until(lambda: _healthy(health), 30, "healthy again after the claims")
    finally:
        freed.set()
        stop.set()
        await asyncio.wait_for(daemon, 30)


@pytest.mark.timeout(120)
def test_a_database_file_removed_under_the_daemon_pauses_it_until_a_file_is_back(
    tmp_path: Path, server: LocalServer
):
    """A backup script moves the database away and puts a copy back: meanwhile nothing is
    written into a file nobody would find (polls pause, said once, /healthz 503); the copy
    put back is opened in its place, and what was published meanwhile is alerted."""
    feed, got, port, config = one_desk(tmp_path, server, CLASHES[0])
    db = tmp_path / "monitor.db"
    log = tmp_path / "daemon.log"
    proc = start_monitor(config, log)
    try:
        wait_until(lambda: len(got) == 1, 30, "the first alert")
        with sqlite3.connect(db) as live, sqlite3.connect(tmp_path / "backup.db") as copy:
            live.backup(copy)
        db.rename(tmp_path / "moved.db")
        feed.add(*CLASHES[1], guid="urn:clash:1")
        wait_until(lambda: "database file gone" in log.read_text(), 30, "the file gone said")
        status, text = get(f"http://127.0.0.1:{port}/healthz")
        assert status == 503 and "database file gone" in text, text
        time.sleep(3)
        assert len(got) == 1
        (tmp_path / "backup.db").rename(db)
        wait_until(lambda: len(got) == 2, 30, "the clash of the gap delivered")
        wait_until(lambda: get(f"http://127.0.0.1:{port}/healthz")[0] == 200, 15, "healthy")
    finally:
        proc.terminate()
        proc.wait(30)
    text = log.read_text()
    assert proc.returncode == 0 and "Traceback" not in text, text[-3000:]
    assert text.count("): polls paused") == 1, text[-3000:]  # said once
    assert [json.loads(r.body)["title"] for r in got] == [CLASHES[0][0], CLASHES[1][0]]
    with sqlite3.connect(db) as reopened:
        assert reopened.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_the_log_says_a_repeated_error_once_and_then_how_many_times(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    from monitor import logs

    monkeypatch.setattr(logs, "REPEAT_WINDOW", 0.3)
    logs.setup("info")
    log = logging.getLogger("monitor.daemon")
    try:
        for _ in range(312):
            logs.event(log, logging.ERROR, "database not writable", path="/var/lib/monitor.db")
        logs.event(log, logging.ERROR, "database not writable", path="/elsewhere.db")
        logs.event(log, logging.INFO, "poll ok", source="desk")
        logs.event(log, logging.INFO, "poll ok", source="desk")  # information is never held
        time.sleep(0.35)
        logs.flush_repeats()
        logs.event(log, logging.ERROR, "database not writable", path="/var/lib/monitor.db")
    finally:
        logs.setup("info")
    lines = capsys.readouterr().err.splitlines()
    same = [x for x in lines if "/var/lib/monitor.db" in x]
    assert len(same) == 3, lines
    assert "311 more times in the last minute" in same[1]
    assert len([x for x in lines if "/elsewhere.db" in x]) == 1
    assert len([x for x in lines if "poll ok" in x]) == 2


def test_postgresql_out_of_room_is_a_full_disk_named_without_the_password():
    import asyncpg

    from monitor.errors import StorageFull
    from monitor.store.postgres import _resources

    server_said = asyncpg.exceptions.DiskFullError(
        'could not extend file "base/16384/16400": No space left on device'
    )
    full = _resources(server_said, "postgresql://desk:s3cret@db.example:5432/monitor")
    assert isinstance(full, StorageFull)
    assert full.headline == "database disk full (server db.example:5432/monitor)"
    assert "s3cret" not in str(full) and "could not extend file" in str(full)


def test_a_postgresql_deadlock_is_a_busy_database_tried_again_not_a_failure():
    """Nodes writing the same rows in other orders: PostgreSQL fails one side of a deadlock
    (a daemon restarted mid-run died of it at start); that side tries again."""
    import asyncpg

    from monitor.errors import StorageUnavailable
    from monitor.store.postgres import _resources

    busy = _resources(
        asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
        "postgresql://desk:s3cret@db.example:5432/monitor",
    )
    assert isinstance(busy, StorageUnavailable) and busy.headline == "database busy"
    assert "s3cret" not in str(busy)


async def test_a_start_up_step_is_tried_again_while_the_database_is_busy():
    from monitor.daemon.serve import _patiently
    from monitor.errors import StorageUnavailable

    tries: list[int] = []

    async def step() -> None:
        tries.append(1)
        if len(tries) < 3:
            raise StorageUnavailable("deadlock detected", headline="database busy")

    await _patiently(step)
    assert len(tries) == 3

    async def away() -> None:
        raise StorageUnavailable("connection refused")  # not busy: not this step's to wait

    with pytest.raises(StorageUnavailable):
        await _patiently(away)
