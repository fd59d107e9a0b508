"""Several daemons on one PostgreSQL database, one of them killed again and again: every alert
reaches the receiver, a duplicate only for a send in flight at a kill, no source polled twice
within its interval but for a killed node's leases, every source kept polled, one alert per
story across outlets. Prints the counts."""

from __future__ import annotations

import itertools
import json
import random
import signal
import subprocess
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import (
    Feed,
    LocalServer,
    Request,
    Response,
    make_config,
    postgres_cluster,
    start_monitor,
)

FEEDS = 300
INTERVAL = 4.0  # seconds between polls of one feed
LEASE = 6.0  # a killed node's sources come back after this
NODES = 3
KILLS = 3
RUN = 36.0  # seconds of stories appearing
STORIES = 12  # each carried by three outlets


WORDS = (
    "market bridge school harvest convoy river winter council election hospital bakery "
    "railway airport festival museum tunnel border quarry orchard stadium mosque factory "
    "refinery pipeline garrison checkpoint village suburb valley plateau highway reservoir "
    "cemetery barracks warehouse clinic courthouse prison embassy ministry parliament"
).split()


def story_text(rng: random.Random, n: int) -> tuple[str, str]:
    """A story of its own (other stories share few of its words): a clash and its scene."""
    scene = " ".join(rng.sample(WORDS, 14))
    title = f"Hizbollah and regime forces clash at the {scene.split()[0]} (report {n})"
    text = f"Regime forces clashed with Hizbollah near the {scene}, residents said."
    return title, text


def daemon(config: Path, name: str) -> subprocess.Popen[bytes]:
    """A `monitor run` node; its log in a file beside the configuration."""
    log = config.parent / f"{name}-{time.monotonic_ns()}.log"
    return start_monitor(config, log, MONITOR_NODE=name)


def node_config(tmp_path: Path, name: str, feed_url: str) -> tuple[Path, dict[str, Any]]:
    """A configuration of one source ("a", every second) on a fresh PostgreSQL database, the
    node named by MONITOR_NODE; and its data, for variants."""
    url = postgres_cluster().database(f"{name}{abs(hash(str(tmp_path))) % 10**9}")
    config = make_config(tmp_path, sources=[{"name": "a", "url": feed_url, "interval": "1s"}])
    data = yaml.safe_load(config.read_text())
    data["storage"] = {"url": url}
    data["daemon"] = {"listen": None, "node": "${MONITOR_NODE}"}
    config.write_text(yaml.safe_dump(data))
    return config, data


def run_the_desk(
    nodes: list[subprocess.Popen[bytes]], feeds: list[Feed], lock: threading.Lock, config: Path
) -> list[float]:
    """Stories appear, three outlets each; node 0 is SIGKILLed and restarted ``KILLS`` times.
    Returns when the kills were."""
    kills: list[float] = []
    rng = random.Random(7)
    start = time.monotonic()
    story = 0
    next_kill = start + RUN / (KILLS + 1)
    while time.monotonic() - start < RUN:
        if story < STORIES and time.monotonic() - start > 2 + story * (RUN - 8) / STORIES:
            title, text = story_text(rng, story)
            with lock:
                for i in rng.sample(range(FEEDS), 3):  # three outlets carry it
                    feeds[i].add(title, text, guid=f"urn:story:{story}:{i}")
            story += 1
        if len(kills) < KILLS and time.monotonic() >= next_kill:
            nodes[0].send_signal(signal.SIGKILL)
            nodes[0].wait(10)
            kills.append(time.monotonic())
            nodes[0] = daemon(config, "node-0")
            next_kill += RUN / (KILLS + 1)
        for n in nodes:
            assert n.poll() is None, logs(config)
        time.sleep(0.2)
    return kills


def started(config: Path, name: str, timeout: float = 60) -> None:
    """Wait until the node ``name`` has said it runs (its start-up line)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any("monitor running" in p.read_text() for p in config.parent.glob(f"{name}-*.log")):
            return
        time.sleep(0.1)
    raise AssertionError(f"{name} did not start: {logs(config)}")


def logs(config: Path) -> str:
    return "\n".join(p.read_text()[-3000:] for p in sorted(config.parent.glob("*.log")))


def alert_rows(url: str) -> list[dict[str, Any]]:
    import asyncio

    import asyncpg

    async def rows() -> list[dict[str, Any]]:
        conn = await asyncpg.connect(url)
        try:
            got = await conn.fetch("SELECT id, created, status, kind FROM alerts")
            return [dict(r) for r in got]
        finally:
            await conn.close()

    return asyncio.run(rows())


@pytest.mark.timeout(240)
def test_three_daemons_share_the_sources_and_the_outbox_through_kills(
    tmp_path: Path, server: LocalServer
):
    feeds = [Feed(f"Desk {i}") for i in range(FEEDS)]
    polls: dict[int, list[float]] = defaultdict(list)
    lock = threading.Lock()

    def serve(i: int) -> Any:
        def handler(r: Request) -> Response:
            with lock:
                polls[i].append(time.monotonic())
                return feeds[i](r)  # type: ignore[no-any-return]

        return handler

    for i in range(FEEDS):
        server.route(f"/f{i}.xml", serve(i))
    received: list[dict[str, Any]] = []
    keys: Counter[str] = Counter()

    def hook(r: Request) -> Response:
        with lock:
            received.append(json.loads(r.body))
            keys[r.headers["idempotency-key"]] += 1
        return Response(204)

    server.route("/hook", hook)
    url = postgres_cluster().database(f"nodes{abs(hash(str(tmp_path))) % 10**9}")
    config = make_config(
        tmp_path,
        sources=[
            {"name": f"f{i}", "url": server.url(f"/f{i}.xml"), "interval": f"{INTERVAL:g}s"}
            for i in range(FEEDS)
        ],
        channels={"hook": {"type": "webhook", "url": server.url("/hook")}},
    )
    data = yaml.safe_load(config.read_text())
    data["storage"] = {"url": url}
    data["fetch"].update({"per_host": 64, "adapt": False, "min_interval": "1s", "robots": False})
    data["daemon"] = {"listen": None, "lease": f"{LEASE:g}s", "node": "${MONITOR_NODE}"}
    # each alert its own send (follow-ups too: none waits to be named with others)
    data["delivery"] = {"retry_base": "1s", "max_per_minute": 0, "followup_wait": "0s"}
    config.write_text(yaml.safe_dump(data))

    nodes = [daemon(config, f"node-{n}") for n in range(NODES)]
    try:
        kills = run_the_desk(nodes, feeds, lock, config)
        # every alert the database holds gets sent
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            rows = alert_rows(url)
            if rows and all(r["status"] == "sent" for r in rows):
                break
            time.sleep(0.5)
        end = time.monotonic()
    finally:
        for n in nodes:
            n.send_signal(signal.SIGTERM)
        for n in nodes:
            try:
                n.wait(timeout=30)
            except subprocess.TimeoutExpired:
                n.kill()
                n.wait()

    rows = alert_rows(url)
    sent_keys = {
        f"monitor-{r['id']}-{int(datetime.fromisoformat(r['created']).timestamp() * 1000)}"
        for r in rows
    }
    duplicates = sum(c - 1 for c in keys.values())
    lost = [r for r in rows if r["status"] != "sent"]

    def near_a_kill(t: float) -> bool:
        return any(k - 1 <= t <= k + LEASE + INTERVAL + 2 for k in kills)

    early = [
        (i, b - a)
        for i, times in polls.items()
        for a, b in itertools.pairwise(times)
        if b - a < INTERVAL * 0.5 and not near_a_kill(b)
    ]
    quiet = [i for i in range(FEEDS) if not any(t > end - 3 * INTERVAL - LEASE for t in polls[i])]
    firsts = Counter(b["title"] for b in received if b["kind"] == "alert")
    print(
        f"\n{NODES} daemons, {FEEDS} feeds every {INTERVAL:g} s, {len(kills)} SIGKILLs: "
        f"{sum(len(t) for t in polls.values())} polls, {len(rows)} alerts in the database, "
        f"{len(keys)} received ({duplicates} duplicate sends), {len(lost)} not sent, "
        f"{len(early)} polls within half an interval away from a kill, "
        f"{len(quiet)} sources not polled lately, {len(firsts)} stories alerted "
        f"(max {max(firsts.values(), default=0)} first alerts for one)"
    )
    assert not lost, lost[:5]
    assert sent_keys <= set(keys)  # every alert in the database reached the receiver
    assert duplicates <= len(kills)
    assert not early, early[:10]
    assert not quiet, quiet[:10]
    assert len(firsts) == STORIES and set(firsts.values()) == {1}


def test_a_node_whose_source_list_differs_claims_nothing_and_takes_nothing_away(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    """Node A runs with sources [a]. Node B starts with a configuration that lists [b]: it
    leaves A's list in place, claims nothing, and says why; `once` with B's list refuses.
    A goes on polling its source."""
    feed = Feed()
    server.route("/a.xml", feed)
    server.route("/b.xml", feed)
    config, data = node_config(tmp_path, "lists", server.url("/a.xml"))
    other = tmp_path / "other"
    other.mkdir()
    data["sources"] = [{"name": "b", "url": server.url("/b.xml"), "interval": "1s"}]
    (other / "monitor.yaml").write_text(yaml.safe_dump(data))
    first = daemon(config, "node-a")
    second = None
    try:
        server.wait_for("/a.xml", count=2, timeout=30)
        second = daemon(other / "monitor.yaml", "node-b")
        time.sleep(4)
        polled = len(server.seen("/a.xml"))
        time.sleep(3)
        assert len(server.seen("/a.xml")) > polled  # A goes on
        assert server.seen("/b.xml") == []  # B claims nothing, and B's list is not synced
        data["daemon"] = {"listen": None}
        (other / "once.yaml").write_text(yaml.safe_dump(data))
        from monitor.cli import main

        assert main(["--config", str(other / "once.yaml"), "once"]) == 3
        assert "daemons on this database list other sources" in capsys.readouterr().err
    finally:
        for n in (first, second):
            if n is not None:
                n.send_signal(signal.SIGTERM)
                n.wait(30)
    assert "source list differs from the one the database was last synced with" in logs(
        other / "monitor.yaml"
    )


@pytest.mark.timeout(240)
def test_nodes_sharing_one_file_follow_a_reload_of_any_of_them(tmp_path: Path, server: LocalServer):
    """Two nodes run from one configuration file listing sources a and b. The file loses b
    and only node A is reloaded: node B re-reads the file itself and takes it (the lists
    agree again), so no source is left unpolled and b is polled by no one."""
    feed = Feed()
    server.route("/a.xml", feed)
    server.route("/b.xml", feed)
    config, data = node_config(tmp_path, "follow", server.url("/a.xml"))
    data["sources"].append({"name": "b", "url": server.url("/b.xml"), "interval": "1s"})
    config.write_text(yaml.safe_dump(data))
    first = daemon(config, "node-a")
    second = None
    try:
        started(config, "node-a")
        second = daemon(config, "node-b")
        started(config, "node-b")
        server.wait_for("/b.xml", count=3, timeout=30)
        data["sources"] = data["sources"][:1]
        config.write_text(yaml.safe_dump(data))
        first.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while "re-reading this node's configuration" not in logs(config):
            assert time.monotonic() < deadline, logs(config)
            time.sleep(0.2)
        time.sleep(3)
        b_then, a_then = len(server.seen("/b.xml")), len(server.seen("/a.xml"))
        time.sleep(4)
        assert len(server.seen("/b.xml")) == b_then, "b is still polled"
        assert len(server.seen("/a.xml")) >= a_then + 2, "a is not polled any more"
    finally:
        for n in (first, second):
            if n is not None:
                n.send_signal(signal.SIGTERM)
                n.wait(30)
    text = logs(config)
    assert "claiming nothing" not in text, text
    assert text.count("configuration reloaded") == 2, text


def test_status_names_the_nodes_on_the_database(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    feed = Feed()
    server.route("/a.xml", feed)
    config, data = node_config(tmp_path, "status", server.url("/a.xml"))
    node = daemon(config, "desk-1")
    try:
        server.wait_for("/a.xml", count=1, timeout=30)
        data["daemon"] = {"listen": None}
        reader = tmp_path / "reader.yaml"
        reader.write_text(yaml.safe_dump(data))
        from monitor.cli import main

        assert main(["--config", str(reader), "status"]) == 0
        out = capsys.readouterr().out
        assert "nodes: desk-1 (seen " in out and "another source list" not in out
        assert main(["--config", str(reader), "nodes"]) == 0
        out = capsys.readouterr().out
        assert out.startswith("desk-1: seen ") and "polling " in out
        assert main(["--config", str(reader), "nodes", "--json"]) == 0
        [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert row["node"] == "desk-1" and row["agrees"] is True and row["polling"] in (0, 1)
    finally:
        node.send_signal(signal.SIGTERM)
        node.wait(30)
    # a node that stopped is not listed as alive for another half minute
    assert main(["--config", str(reader), "nodes", "--json"]) == 0
    assert capsys.readouterr().out.strip() == ""


class SlowHost:
    """Twelve feeds of one host, each answered after 0.25 s: how many requests it has at once
    at most, and how many came, while ``measuring``."""

    def __init__(self, server: LocalServer) -> None:
        self.now = self.most = self.requests = 0
        self.measuring = False
        self.lock = threading.Lock()
        for i in range(12):
            server.route(f"/s{i}.xml", self.serve)
        self.sources = [
            {"name": f"s{i}", "url": server.url(f"/s{i}.xml"), "interval": "1s"} for i in range(12)
        ]

    def serve(self, r: Request) -> Response:
        with self.lock:
            self.now += 1
            if self.measuring:
                self.most = max(self.most, self.now)
                self.requests += 1
        time.sleep(0.25)
        with self.lock:
            self.now -= 1
        return Response(200, Feed()(r).body, {"content-type": "application/rss+xml"})

    def measure(self, on: bool) -> None:
        with self.lock:
            self.measuring = on

    def config(self, tmp_path: Path, server: LocalServer) -> tuple[Path, dict[str, Any]]:
        """A configuration of its feeds on a fresh PostgreSQL database, ``per_host: 1``."""
        config, data = node_config(tmp_path, "polite", server.url("/s0.xml"))
        data["sources"] = self.sources
        data["fetch"].update({"per_host": 1, "adapt": False, "min_interval": "1s", "robots": False})
        config.write_text(yaml.safe_dump(data))
        return config, data


def test_two_daemons_keep_one_host_s_limit_together(tmp_path: Path, server: LocalServer):
    """per_host: 1 holds for the nodes together: with two daemons polling twelve slow feeds
    of one host, the host never has two requests at once (each node alone would send one),
    from the moment the second starts beside the first."""
    host = SlowHost(server)
    config, _data = host.config(tmp_path, server)
    nodes = [daemon(config, "polite-a")]
    try:
        server.wait_for("/s0.xml", count=1, timeout=30)
        host.measure(True)
        nodes.append(daemon(config, "polite-b"))
        started(config, "polite-b")
        time.sleep(8)  # b polls (after it said it is alive, a has seen it)
        host.measure(False)
        for n in nodes:
            assert n.poll() is None, logs(config)
    finally:
        for n in nodes:
            n.send_signal(signal.SIGTERM)
            n.wait(30)
    print(
        f"\none host, per_host 1, two daemons: {host.requests} requests, most at once {host.most}"
    )
    assert host.requests >= 10  # polled all along (one at a time: 4 a second at most)
    assert host.most == 1


def test_a_pass_beside_a_daemon_keeps_one_host_s_limit_with_it(tmp_path: Path, server: LocalServer):
    """`monitor once` beside a daemon on the same database: the daemon takes turns at the
    host with it while it runs (it says it is alive, as a node does)."""
    host = SlowHost(server)
    config, data = host.config(tmp_path, server)
    data["daemon"] = {"listen": None}
    once = tmp_path / "once.yaml"
    once.write_text(yaml.safe_dump(data))
    node = daemon(config, "polite-a")
    try:
        server.wait_for("/s0.xml", count=1, timeout=30)
        started = time.monotonic()
        host.measure(True)
        beside = start_monitor(once, tmp_path / "once.log", "once")
        assert beside.wait(60) == 0, (tmp_path / "once.log").read_text()[-2000:]
        host.measure(False)
        assert node.poll() is None, logs(config)
    finally:
        node.send_signal(signal.SIGTERM)
        node.wait(30)
    took = time.monotonic() - started
    print(f"\none host, per_host 1, a daemon and `once` ({took:.1f} s): most at once {host.most}")
    assert host.requests >= 5 and host.most == 1
