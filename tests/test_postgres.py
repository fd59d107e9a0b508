"""The PostgreSQL store as a user meets it, on a real server (a throwaway cluster, tests.pg):
the pipeline end to end, a refused password, a server that is not there, and moving an
existing SQLite database over (`monitor migrate`); several daemons sharing one database are
tests/test_multinode.py's. What every store
must do is the contract suite's (tests/test_store_contract.py), run on both backends."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from monitor.cli import main
from monitor.config import FetchSettings
from monitor.fetch import Fetcher
from monitor.store import open_store
from tests.conftest import (
    Feed,
    LocalServer,
    Request,
    Response,
    make_config,
    postgres_cluster,
    start_monitor,
)

STORY = ("Regime forces and Hizbollah clash", "Regime forces clashed with Hizbollah at dawn.")


def on_postgres(config: Path, url: str) -> Path:
    data = yaml.safe_load(config.read_text())
    data["storage"] = {"url": url}
    config.write_text(yaml.safe_dump(data))
    return config


def database(tmp_path: Path) -> str:
    return postgres_cluster().database(f"u{abs(hash(str(tmp_path))) % 10**12}")


def test_a_pass_on_postgresql_stores_and_alerts_once(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    feed = Feed()
    feed.add(*STORY)
    server.route("/feed.xml", feed)
    config = on_postgres(
        make_config(tmp_path, sources=[{"name": "desk", "url": server.url("/feed.xml")}]),
        database(tmp_path),
    )
    assert main(["--config", str(config), "once", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["sources"][0]["new"] == 1 and report["delivery"]["sent"] == 1
    assert main(["--config", str(config), "once", "--json"]) == 0  # nothing new, nothing sent
    report = json.loads(capsys.readouterr().out)
    assert report["sources"][0]["new"] == 0 and report["delivery"]["sent"] == 0
    assert main(["--config", str(config), "articles"]) == 0
    assert STORY[0] in capsys.readouterr().out


def test_a_refused_password_names_the_database_never_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    port = postgres_cluster().port
    monkeypatch.setenv("DESK_PG_PASSWORD", "not-the-password")
    url = f"postgresql://desk:${{DESK_PG_PASSWORD}}@127.0.0.1:{port}/monitor"
    config = on_postgres(make_config(tmp_path), url)
    assert main(["--config", str(config), "status"]) == 3
    err = capsys.readouterr().err
    assert f"cannot open database 127.0.0.1:{port}/monitor: the password was refused" in err
    assert "not-the-password" not in err


def test_a_server_that_is_not_there_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    config = on_postgres(make_config(tmp_path), "postgresql://monitor@127.0.0.1:9/monitor")
    assert main(["--config", str(config), "status"]) == 3
    assert "cannot open database 127.0.0.1:9/monitor: cannot connect" in capsys.readouterr().err


def test_migrate_moves_a_sqlite_desk_to_postgresql_and_it_carries_on(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    """A desk's SQLite database (articles, a story, alerts sent and pending, source state)
    copied into PostgreSQL: the copy carries on where the old one stopped — nothing stored
    again, nothing sent again, the pending alert goes out, the story still groups copies."""

    feed = Feed()
    feed.add(*STORY)
    feed.add("Market day", "Traders reopened the covered market on Monday.")
    server.route("/feed.xml", feed)
    got: list[Request] = []
    server.route("/hook", lambda r: (got.append(r), Response(204))[1])
    server.route("/down", Response(503))
    config = make_config(
        tmp_path,
        sources=[
            {"name": "desk", "url": server.url("/feed.xml")},
            {"name": "copycat", "url": server.url("/copy.xml")},
        ],
        channels={
            "hook": {"type": "webhook", "url": server.url("/hook")},
            "later": {"type": "webhook", "url": server.url("/down")},
        },
        delivery={"retry_base": "1s"},
    )
    copy = Feed()
    server.route("/copy.xml", copy)
    assert main(["--config", str(config), "once"]) == 0
    assert len(got) == 1  # sent on hook; pending on "later" (503)
    capsys.readouterr()

    url = database(tmp_path)
    assert main(["--config", str(config), "migrate", "--to", url]) == 0
    out = capsys.readouterr().out
    assert (
        "2 sources" in out
        and "2 articles" in out
        and "2 alert deliveries" in out
        and "1 story," in out
    )
    assert main(["--config", str(config), "migrate", "--to", url]) == 3  # not into data
    assert "already holds" in capsys.readouterr().err

    on_postgres(config, url)
    later: list[Request] = []
    server.route("/down", lambda r: (later.append(r), Response(204))[1])
    time.sleep(1.2)  # the pending alert's retry is due
    copy.add(*STORY)  # another outlet carries the same story
    assert main(["--config", str(config), "once", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    by = {s["source"]: s for s in report["sources"]}
    assert by["desk"]["new"] == 0  # known already: stored in the copy
    assert by["copycat"]["new"] == 1
    # the alert pending on "later" goes out once its retry is due (its delay has ±50 %
    # jitter: a pass may come before it; a later pass sends it, and its follow-up after it)
    for _ in range(10):
        if len(later) >= 2:
            break
        time.sleep(0.5)
        assert main(["--config", str(config), "once"]) == 0
        capsys.readouterr()
    # the copy is a follow-up of the old story, sent once
    assert [json.loads(r.body)["kind"] for r in got[1:]] == ["followup"]
    assert sorted(json.loads(r.body)["kind"] for r in later) == ["alert", "followup"]
    assert main(["--config", str(config), "alerts", "--json"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert all(r["status"] == "sent" for r in rows)
    assert len({r["story"] for r in rows}) == 1


@pytest.mark.timeout(180)
def test_a_server_down_at_start_and_gone_mid_run_loses_nothing(tmp_path: Path, server: LocalServer):
    """The daemon starts before its database (it waits, saying so), and the database goes
    away for a while (polls and deliveries pause, saying so): every story reaches the
    receiver once, and the daemon never stops."""

    from tests.pg import Cluster

    cluster = Cluster()
    try:
        url = cluster.database("desk")
        cluster.pause()
        feed = Feed()
        feed.add(*STORY)
        server.route("/feed.xml", feed)
        got: list[Request] = []
        server.route("/hook", lambda r: (got.append(r), Response(204))[1])
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        config = on_postgres(
            make_config(
                tmp_path,
                sources=[{"name": "desk", "url": server.url("/feed.xml"), "interval": "1s"}],
                channels={"hook": {"type": "webhook", "url": server.url("/hook")}},
                daemon={"listen": f"127.0.0.1:{port}"},
            ),
            url,
        )
        proc = start_monitor(config, tmp_path / "daemon.log")
        try:
            time.sleep(3)
            assert proc.poll() is None
            # meanwhile /healthz says why it is not healthy
            with pytest.raises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
            assert e.value.code == 503
            assert "waiting for the database" in e.value.read().decode()
            cluster.resume()
            server.wait_for("/hook", count=1, timeout=40)
            cluster.pause()
            feed.add(
                "Nusra and Hizbollah clash near the border",
                "Hizbollah fighters clashed with regime forces near the border crossing, "
                "killing three, a monitor said.",
            )
            time.sleep(4)
            assert proc.poll() is None, "the daemon stopped with its database"
            # /healthz says why, every time it is asked: 503, never 500
            for _ in range(3):
                with pytest.raises(urllib.error.HTTPError) as e:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
                assert e.value.code == 503
                assert "database unreachable" in e.value.read().decode()
            cluster.resume()
            server.wait_for("/hook", count=2, timeout=60)
            time.sleep(2)
        finally:
            proc.terminate()
            proc.wait(30)
    finally:
        cluster.stop()
    err = (tmp_path / "daemon.log").read_text()
    assert "database not reachable, trying again" in err
    assert "database unreachable: polls paused" in err
    assert "database reachable again: polls resume" in err
    assert "Traceback" not in err, err[-3000:]
    titles = [json.loads(r.body)["title"] for r in got]
    assert sorted(titles) == sorted([STORY[0], "Nusra and Hizbollah clash near the border"])


# -- politeness across nodes ---------------------------------------------------------------


async def _fetch_from_two_nodes(
    server: LocalServer, url: str | None, settings: FetchSettings
) -> list[tuple[float, float]]:
    """Two nodes (a store and a fetcher each, as two daemons have) fetch three pages each
    from one host at once; when each request started and ended, as the server saw it.
    ``url``: the database they share (None: each keeps to its own limits)."""
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()

    def slow(_r: Request) -> Response:
        start = time.monotonic()
        time.sleep(0.1)
        with lock:
            spans.append((start, time.monotonic()))
        return Response(200, b"a page")

    server.route("/page", slow)
    stores = [await open_store(url) for _ in range(2)] if url else []
    fetchers = [Fetcher(settings) for _ in range(2)]
    for fetcher, store in zip(fetchers, stores, strict=False):
        fetcher.turns = store.host_turns()
    try:
        await asyncio.gather(
            *(f.fetch(server.url(f"/page?{n}")) for f in fetchers for n in range(3))
        )
    finally:
        for f in fetchers:
            await f.aclose()
        for s in stores:
            await s.close()
    return sorted(spans)


async def test_nodes_keep_a_host_s_limit_and_delay_together(tmp_path: Path, server: LocalServer):
    """per_host: 1 and host_delay: 0.3 s hold for the nodes together, not for each: never two
    requests to the host at once, and 0.3 s between two starts, whichever node sends them."""
    polite = FetchSettings(per_host=1, host_delay=0.3, robots=False)
    # each node alone keeps its own limits: two requests to the host at once, twice as often
    apart = await _fetch_from_two_nodes(server, None, polite)
    assert any(b[0] < a[1] for a, b in itertools.pairwise(apart))
    shared = await _fetch_from_two_nodes(server, database(tmp_path), polite)
    assert len(shared) == 6
    for a, b in itertools.pairwise(shared):
        assert b[0] >= a[1], "two requests to one host at once"
        # 0.3 s on the database's clock; as the server sees them, give a little for latency
        assert b[0] - a[0] >= 0.25, f"{b[0] - a[0]:.3f} s between two requests to one host"


async def test_a_turn_a_dead_node_held_ends_by_itself(tmp_path: Path):
    store = await open_store(database(tmp_path))
    try:
        turns = store.host_turns()
        assert turns is not None
        held = await turns.take("news.example", 1, 0.0, 0.3)  # its node dies holding it
        assert held is not None and held[1] == 0
        assert await turns.take("news.example", 1, 0.0, 0.3) is None  # the host is busy
        assert await turns.take("other.example", 1, 0.0, 0.3) is not None  # others are not
        await asyncio.sleep(0.35)
        assert await turns.take("news.example", 1, 0.0, 0.3) is not None
    finally:
        await store.close()


async def test_a_fetch_goes_on_with_its_own_limits_when_turns_cannot_be_asked(
    tmp_path: Path, server: LocalServer, caplog: pytest.LogCaptureFixture
):
    """The database that shares turns is away (its connections closed): the fetch is made
    under this node's own limits, and one warning says so."""
    server.route("/page", Response(200, b"a page"))
    store = await open_store(database(tmp_path))
    fetcher = Fetcher(FetchSettings(robots=False))
    fetcher.turns = store.host_turns()
    await store.close()
    try:
        with caplog.at_level("WARNING", logger="monitor.fetch"):
            got = [await fetcher.fetch(server.url(f"/page?{n}")) for n in range(3)]
    finally:
        await fetcher.aclose()
    assert [g.body for g in got] == [b"a page"] * 3
    said = [r for r in caplog.records if "politeness across nodes unavailable" in r.getMessage()]
    assert len(said) == 1


async def test_connections_killed_under_transactions_say_unavailable_and_come_back(
    tmp_path: Path,
):
    """The server ends the store's connections (a restart, a failover, an administrator)
    while transactions run: each fails with StorageUnavailable, never with asyncpg's
    "released back to the pool" (which escaped the delivery loop's transaction as a
    traceback), and the store carries on once new connections can be made."""
    import asyncpg

    from monitor.errors import StorageUnavailable

    url = database(tmp_path)
    store = await open_store(url)
    killer = await asyncpg.connect(url)
    stop = asyncio.Event()

    async def kill() -> None:
        while not stop.is_set():
            await killer.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            await asyncio.sleep(0.005)

    outcomes: list[str] = []
    killing = asyncio.create_task(kill())
    try:
        for _ in range(150):  # bounded: a few seconds at most
            try:
                await store.due_alerts(datetime.now(UTC), limit=10)
                outcomes.append("ok")
            except StorageUnavailable:
                outcomes.append("unavailable")
    finally:
        stop.set()
        await killing
        await killer.close()
    try:
        assert "unavailable" in outcomes  # the killing reached transactions
        assert await store.due_alerts(datetime.now(UTC), limit=10) == []
    finally:
        await store.close()


async def test_an_article_committed_after_a_later_one_was_indexed_is_found_too():
    """Nodes take article ids before they commit: an id below what the search index has
    caught up with can arrive late. The catch-up looks back for such articles."""
    import asyncpg

    from monitor.alert.planner import AlertPlanner
    from monitor.models import Article, Source

    url = postgres_cluster().database("search_late")
    store = await open_store(url)
    now = datetime.now(UTC)
    await store.sync_sources([Source("desk", "https://x.example/feed", 60)])

    def article(n: int, text: str) -> Article:
        return Article(
            "desk", f"a{n}", f"https://x.example/{n}", f"a{n}", f"T{n}", text, now, now, f"h{n}"
        )

    planner = AlertPlanner(lambda m: [])
    await store.add_articles("desk", [(article(1, "a quiet market"), [])], now, planner)
    await store.add_articles("desk", [(article(2, "a busy harbour"), [])], now, planner)
    await store.index_articles()
    conn = await asyncpg.connect(url)  # article 1 as if its transaction committed after 2's
    await conn.execute(
        "DELETE FROM article_words WHERE article_id = (SELECT min(id) FROM articles)"
    )
    await conn.close()
    await store.add_articles("desk", [(article(3, "a new bridge"), [])], now, planner)
    assert [a.article.title for a in await store.search_articles("market")] == ["T1"]
    assert [a.article.title for a in await store.search_articles("bridge")] == ["T3"]
    await store.close()
