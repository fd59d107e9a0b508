"""Feed farm: N RSS feeds of 20 items served by nginx on 127.0.0.1, polled by `monitor once`.

Prints, for a cold pass (everything new), a warm pass (nothing changed) and a pass where 10 %
of the feeds gained two items: wall seconds, CPU seconds, requests per second, new articles
per second and peak resident memory of the monitor process. nginx gives real ETag,
Last-Modified, 304 and gzip. Cold and warm passes are run three times (each cold one on a new
database) and the median run is shown, with the spread.
Usage: python benchmarks/feed_farm.py --feeds 1000 [--feeds 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import yaml

ROOT = Path(__file__).resolve().parents[1]
#: cold and warm passes are repeated and the median shown (one run varies by ±0.1 s here)
REPEAT = 3
WORDS = (
    "the of and to in a that for on with as by at from officials said reported forces town "
    "village province border local sources residents market prices government council week "
    "month region city north south people talks aid convoy road checkpoint hospital school "
    "water power fuel winter harvest election parliament minister statement agency"
).split()
ACTORS = [
    "Hezbollah",
    "regime forces",
    "Iran-backed militias",
    "Russian forces",
    "HTS",
    "the SDF",
    "Turkish-backed factions",
    "Daesh",
]
CONFLICT = ["clashed with", "attacked", "exchanged fire with", "met", "visited", "praised"]
#: sentences whose sides only the parser can read ("A clashed with B" needs no parse)
HARD = [
    "On Sunday, fighters of {a} and {b} clashed near the town, a monitor said.",
    "Two {a} members were killed overnight in an ambush by {b} militants.",
    "{a} said its forces had repelled an attack by {b} on the outskirts.",
    "A spokesman for {a} denied that its men had shelled {b} positions.",
]


def paragraph(rng: random.Random, words: int) -> str:
    out = [rng.choice(WORDS) for _ in range(words)]
    if rng.random() < 0.3:
        i = rng.randrange(len(out))
        first, second = rng.sample(ACTORS, 2)  # two actors (no "Daesh clashed with Daesh")
        out[i:i] = [first, rng.choice(CONFLICT), second]
    return sentence(out)


def hard_sentence(rng: random.Random) -> str:
    first, second = rng.sample(ACTORS, 2)
    text = rng.choice(HARD).format(a=first, b=second)
    return text[:1].upper() + text[1:]


def sentence(words: list[str]) -> str:
    """Words as a sentence: a capital first letter, names keep theirs (str.capitalize()
    lowered them: "hts", "the sdf", which no text writes)."""
    text = " ".join(words)
    return text[:1].upper() + text[1:] + "."


def item(rng: random.Random, feed: int, n: int, when: datetime, hard: float = 0.0) -> str:
    title = sentence([rng.choice(WORDS) for _ in range(8)])[:-1]
    body = "".join(f"<p>{paragraph(rng, rng.randint(25, 45))}</p>" for _ in range(4))
    if hard and rng.random() < hard:  # one sentence of this article needs the parser
        body += f"<p>{hard_sentence(rng)}</p>"
    return (
        f"<item><title>{escape(title)}</title>"
        f"<link>https://outlet{feed}.example/news/{n}</link>"
        f'<guid isPermaLink="false">urn:farm:{feed}:{n}</guid>'
        f"<pubDate>{format_datetime(when)}</pubDate>"
        f"<description>{escape(body)}</description></item>"
    )


def write_feed(path: Path, feed: int, first: int, count: int, seed: int, hard: float = 0.0) -> None:
    """Items first .. first+count-1, newest first; an item's text depends only on its feed and
    number, so a feed that gains items keeps the old ones exactly as they were. ``hard``: the
    share of items with a sentence that needs the parser."""
    now = datetime(2026, 11, 22, tzinfo=UTC)
    items = "".join(
        item(
            random.Random((seed * 100003 + feed) * 1009 + n),
            feed,
            n,
            now - timedelta(minutes=n),
            hard,
        )
        for n in range(first + count - 1, first - 1, -1)
    )
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Outlet {feed}</title><link>https://outlet{feed}.example/</link>"
        f"<description>farm</description>{items}</channel></rss>",
        encoding="utf-8",
    )


def compile_package() -> None:
    """An installed package has its bytecode compiled (pip does it on install); a checkout
    in an environment with PYTHONDONTWRITEBYTECODE=1 (this machine's) would compile the
    package's modules from source at every start (~60 ms), which is not what is measured."""
    compileall.compile_dir(ROOT / "monitor", quiet=1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    default_type application/rss+xml;
    gzip on;
    gzip_types application/rss+xml text/xml;
    gzip_min_length 256;
    keepalive_requests 100000;
    client_body_temp_path {prefix}/tmp; proxy_temp_path {prefix}/tmp;
    fastcgi_temp_path {prefix}/tmp; uwsgi_temp_path {prefix}/tmp; scgi_temp_path {prefix}/tmp;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        etag on;
    }}
}}
"""


def start_nginx(work: Path, root: Path) -> tuple[subprocess.Popen[bytes], int]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    (work / "tmp").mkdir(exist_ok=True)
    conf = work / "nginx.conf"
    conf.write_text(NGINX_CONF.format(prefix=work, port=port, root=root))
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(work)])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("nginx did not start: see " + str(work / "error.log"))


def run_pass(config: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    t0 = time.perf_counter()
    command = [
        sys.executable,
        "-m",
        "monitor",
        "--config",
        str(config),
        "--log-level",
        "warning",
        "once",
        "--json",
    ]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(command, stdout=out, stderr=err, env={**os.environ, **(env or {})})
        # this pass's own figures: wait4 gives the rusage of this child and of the worker
        # processes it waited for (peak RSS: the largest of them)
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode:
        raise SystemExit(f"monitor once exited {proc.returncode}: {stderr[-2000:]}")
    report = json.loads(stdout)
    errors = [s for s in report["sources"] if s["status"] == "error"]
    if errors:
        print(f"  ! {len(errors)} sources failed, e.g. {errors[0]['error']}")
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "requests": len(report["sources"]),
        "new": sum(s["new"] for s in report["sources"]),
        "rss_mb": usage.ru_maxrss / 1024,
        "slow": [float(x) for x in re.findall(r"took (\d+\.\d+) seconds", stderr)],
    }


def median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median wall time."""
    return sorted(runs, key=lambda r: float(r["wall"]))[len(runs) // 2]


def show(name: str, r: dict[str, Any], runs: list[dict[str, Any]] | None = None) -> None:
    spread = ""
    if runs and len(runs) > 1:
        walls = sorted(x["wall"] for x in runs)
        spread = f"  (median of {len(runs)}: {walls[0]:.2f}–{walls[-1]:.2f} s)"
    print(
        f"  {name:<22} wall {r['wall']:6.2f} s  cpu {r['cpu']:6.2f} s  "
        f"{r['requests'] / r['wall']:7.0f} req/s  {r['new'] / r['wall']:7.0f} new/s  "
        f"({int(r['new'])} new)  peak RSS {r['rss_mb']:.0f} MB{spread}"
    )


def postgres_farm(n: int, seed: int) -> None:
    """The 1,000-feed cold and warm passes with the database on PostgreSQL (a throwaway
    cluster on this machine, tests/pg.py), beside the SQLite figures above."""
    sys.path.insert(0, str(ROOT))
    from tests.pg import Cluster

    work, root = _farm_files(f"farm-pg-{n}", n, seed)
    nginx, port = start_nginx(work, root)
    cluster = Cluster()
    try:
        config = work / "monitor.yaml"
        base = _farm_config(n, port)
        print(f"feed farm on PostgreSQL: {n} feeds x 20 items, nginx 127.0.0.1:{port}")
        # alone; then beside another node alive on the database, where every request
        # takes its turn at the host through the database (politeness across nodes)
        for beside, cold, warm in (
            (False, "cold (all new), postgresql", "warm (unchanged), postgresql"),
            (True, "cold, beside a node", "warm, beside a node"),
        ):
            colds, warms = [], []
            for i in range(REPEAT):
                base["storage"] = {"url": cluster.database(f"farm{i}{'b' if beside else ''}")}
                config.write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
                for passes in (colds, warms):
                    if beside:
                        asyncio.run(_another_node(config))  # alive for the next 30 s
                    passes.append(run_pass(config))
            show(cold, median(colds), colds)
            show(warm, median(warms), warms)
        print("  (beside a node, a pass waits 2 s before its first request: included above)")
    finally:
        cluster.stop()
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=10)


async def _another_node(config: Path) -> None:
    """Another node says it is alive on this configuration's database, with its sources."""
    from monitor.config import load
    from monitor.store import open_store, sources_hash

    settings = load(config, delivering=False).settings
    store = await open_store(settings.storage.url)
    try:
        listed = sources_hash(settings.source_records())
        await store.heartbeat("another-node", listed, datetime.now(UTC))
    finally:
        await store.close()


def _farm_files(name: str, n: int, seed: int) -> tuple[Path, Path]:
    """A fresh work folder under benchmarks/out, with n feeds of 20 items in its www/."""
    work = ROOT / "benchmarks" / "out" / name
    if work.exists():
        shutil.rmtree(work)
    root = work / "www"
    root.mkdir(parents=True)
    for f in range(n):
        write_feed(root / f"f{f}.xml", f, 0, 20, seed)
    return work, root


def _farm_config(n: int, port: int) -> dict[str, Any]:
    """The example configuration polling the farm's n feeds, its rules in shadow mode (they
    record, and print nothing); the storage is the caller's."""
    base: dict[str, Any] = yaml.safe_load(
        (ROOT / "config" / "monitor.yaml").read_text(encoding="utf-8")
    )
    base.update(
        {
            # one nginx stands in for n publishers: lift the per-host limit accordingly
            "fetch": {"allow_private": True, "per_host": 64, "concurrency": 64},
            "sources": [
                {"name": f"f{f}", "url": f"http://127.0.0.1:{port}/f{f}.xml"} for f in range(n)
            ],
            "channels": {"console": {"type": "console"}},
        }
    )
    base["rules"] = [{**r, "mode": "shadow"} for r in base["rules"]]
    return base


def farm(n: int, seed: int) -> None:
    work, root = _farm_files(f"farm-{n}", n, seed)
    nginx, port = start_nginx(work, root)
    try:
        config = work / "monitor.yaml"
        base = _farm_config(n, port)
        base["storage"] = {"url": f"sqlite:///{work}/monitor.db"}
        config.write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
        print(f"feed farm: {n} feeds x 20 items, nginx 127.0.0.1:{port}, one `monitor once` each")
        colds = []
        for _ in range(REPEAT):  # each on a new database
            for db in work.glob("monitor.db*"):
                db.unlink()
            colds.append(run_pass(config))
        show("cold (all new)", median(colds), colds)
        show("warm (unchanged)", median([run_pass(config) for _ in range(REPEAT)]))
        changed = random.Random(seed).sample(range(n), n // 10)
        for f in changed:
            write_feed(root / f"f{f}.xml", f, 2, 20, seed)  # two new items on top
        time.sleep(1.1)  # a new Last-Modified second
        show("10% gained 2 items", run_pass(config))
        # a cold pass again, on a new database, with asyncio reporting every callback that
        # held the event loop for more than 50 ms
        fresh = work / "watch.yaml"
        watched = yaml.safe_load(config.read_text(encoding="utf-8"))
        watched["storage"] = {"url": f"sqlite:///{work}/watch.db"}
        fresh.write_text(yaml.safe_dump(watched), encoding="utf-8")
        r = run_pass(fresh, {"MONITOR_SLOW_CALLBACK_MS": "50"})
        worst = max(r["slow"], default=0.0)
        print(
            f"  event loop (cold, debug) {len(r['slow'])} callbacks held it over 50 ms; "
            f"longest {worst * 1000:.0f} ms"
        )
        # the same farm where 2 % of the articles have a sentence only the parser reads: the
        # workers load the model (once each) and parse those sentences
        for f in range(n):
            write_feed(root / f"f{f}.xml", f, 0, 20, seed, hard=0.02)
        for db in work.glob("watch.db*"):
            db.unlink()
        show("cold, 2% need a parse", run_pass(fresh))
    finally:
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=10)


def main() -> None:
    global REPEAT
    ap = argparse.ArgumentParser()
    ap.add_argument("--feeds", type=int, action="append")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=REPEAT, help="cold and warm passes, median")
    ap.add_argument(
        "--postgresql", action="store_true", help="also the passes on PostgreSQL (1,000 feeds)"
    )
    args = ap.parse_args()
    REPEAT = max(1, args.repeat)
    compile_package()
    for n in args.feeds or [1000]:
        farm(n, args.seed)
    if args.postgresql:
        postgres_farm(1000, args.seed)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
