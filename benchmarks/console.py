"""The console's pages on a database of 100,000 articles: each page's answer time through
`monitor console` (a real server, HTTP on 127.0.0.1), median of 5 (issue #24: under 100 ms).

python benchmarks/console.py [--articles N]

The database is filled through the store (200 sources, one article in twenty alerting, a
verdict on one alert in ten); the first search pays the full-text index's catch-up and is
shown apart.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.alert.planner import AlertPlanner  # noqa: E402
from monitor.alert.stories import StoryPolicy  # noqa: E402
from monitor.desk import Verdict  # noqa: E402
from monitor.models import ActorMention, Article, Match, Source, Span  # noqa: E402
from monitor.store import open_store  # noqa: E402

WORDS = (
    "the of and to in a that for on with officials said forces town village province border "
    "sources residents market government council week region city people talks aid convoy "
    "road checkpoint hospital school water power fuel winter harvest election minister"
).split()
ACTORS = ["Hezbollah", "Assad regime", "HTS", "SDF", "Islamic State", "Iran", "Russia", "Turkey"]


#: rarer words (names, places, things), as real reporting has thousands of them
ENDINGS = ("ran", "lek", "mur", "sin", "dor", "vat", "qul", "zeh", "tam", "bir")
RARE = [
    f"{a}{b}{c}" for a in "bdfgklmnprst" for b in ("a", "e", "i", "o", "ai", "ou") for c in ENDINGS
]


def _text(rng: random.Random) -> str:
    return " ".join(
        rng.choice(WORDS) if rng.random() < 0.8 else rng.choice(RARE) for _ in range(120)
    )


def _match(rng: random.Random) -> Match:
    a, b = rng.sample(ACTORS, 2)
    text = f"{a} clashed with {b} near the town."
    return Match(
        "infighting",
        rng.choice(["low", "medium", "high"]),
        2.0,
        (ActorMention(a, (a,)), ActorMention(b, (b,))),
        ("clashed",),
        (Span("text", 0, len(text), text, ((0, len(a)),)),),
    )


async def fill(url: str, articles: int) -> None:
    store = await open_store(url)
    rng = random.Random(7)
    sources = [Source(f"s{i}", f"https://outlet{i}.example/feed", 600) for i in range(200)]
    await store.sync_sources(sources)
    planner = AlertPlanner(lambda m: ["console"], StoryPolicy())
    now = datetime.now(UTC)
    per = 500
    for start in range(0, articles, per):
        source = f"s{(start // per) % 200}"
        batch = []
        for n in range(start, min(start + per, articles)):
            text = _text(rng)
            when = now - timedelta(minutes=articles - n)
            a = Article(source, f"id{n}", f"https://x.example/{n}", f"id{n}", f"Report {n}",
                        text, when, when, f"h{n}")  # fmt: skip
            batch.append((a, [_match(rng)] if n % 20 == 0 else []))
        await store.add_articles(source, batch, now, planner)
    for alert in (await store.alerts(limit=articles // 200))[::10]:
        assert alert.article_id is not None
        await store.record_verdict(Verdict(alert.article_id, "right", ("HTS", "SDF")), now)
    await store.close()
    if url.startswith("postgresql"):  # as autovacuum would, some time after a bulk load
        import asyncpg

        conn = await asyncpg.connect(url)
        await conn.execute("ANALYZE")
        await conn.close()


def timed(port: int, path: str) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    t = time.perf_counter()
    conn.request("GET", path)
    resp = conn.getresponse()
    resp.read()
    wall = time.perf_counter() - t
    conn.close()
    if resp.status != 200:
        raise SystemExit(f"{path}: {resp.status}")
    return wall


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--postgresql", action="store_true", help="on PostgreSQL too (tests/pg.py)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        measure(f"sqlite:///{tmp}/monitor.db", Path(tmp), a.articles, "SQLite")
    if a.postgresql:
        from tests.pg import Cluster

        cluster = Cluster()
        try:
            with tempfile.TemporaryDirectory() as tmp:
                measure(cluster.database("console"), Path(tmp), a.articles, "PostgreSQL")
        finally:
            cluster.stop()
    return 0


def measure(url: str, tmp: Path, articles: int, backend: str) -> None:
    t = time.perf_counter()
    asyncio.run(fill(url, articles))
    took = time.perf_counter() - t
    print(f"console pages on {backend}: {articles:,} articles stored in {took:.1f} s")
    config = tmp / "monitor.yaml"
    shipped = yaml.safe_load((ROOT / "config" / "monitor.yaml").read_text())
    shipped["storage"] = {"url": url}
    shipped["sources"] = [
        {"name": f"s{i}", "url": f"https://outlet{i}.example/feed"} for i in range(200)
    ]
    config.write_text(yaml.safe_dump(shipped))
    port = int(os.environ.get("CONSOLE_PORT", "19109"))
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "monitor", "--config", str(config), "--log-level"),
            *("warning", "console", "--listen", f"127.0.0.1:{port}"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # asyncio's debug mode reports every callback that holds the loop over 50 ms
        env={**os.environ, "MONITOR_SLOW_CALLBACK_MS": "50"},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                timed(port, "/static/console.css")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the console did not start") from None
                time.sleep(0.1)
        first = timed(port, "/alerts?q=kairan")
        print(f"  first search (the index catches up with every article): {first:.2f} s")
        for path in (
            "/alerts",
            "/alerts?actor=HTS",
            "/alerts?severity=high&source=s7",
            "/alerts?verdict=right",
            "/alerts?q=kairan+sevat",  # two rarer words: a few hundred articles
            "/alerts?q=checkpoint",  # a common word: in most articles
            "/alerts?before=2000",
            "/story/3",
            "/sources",
            "/evaluation",
            "/alerts.csv?actor=HTS&since=2026-01-01",
        ):
            ms = statistics.median(timed(port, path) for _ in range(5)) * 1000
            verdict = "" if path.startswith("/alerts.csv") else ("ok" if ms < 100 else "SLOW")
            print(f"  {path:<40} {ms:7.1f} ms  {verdict}")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    slow = [float(x) for x in re.findall(r"took (\d+\.\d+) seconds", err)]
    worst = f"; the longest {max(slow) * 1000:.0f} ms" if slow else ""
    print(f"  event loop: {len(slow)} callbacks held it over 50 ms{worst} (target: none)")


if __name__ == "__main__":
    sys.exit(main())
