"""Soak: `monitor run` for N minutes over 500 feeds from nginx on 127.0.0.1, intervals
accelerated, some feeds gaining items all along (2 % of the articles with a sentence that
only the parser reads, so the workers load the parser's model). Prints polls made (from the
daemon's own /metrics), errors, alerts, and the resident memory of the daemon and its worker
processes at the start, after the first minute and at the end: growth after the first minute
should stay under 20 %. ``--postgresql``: the database on a throwaway PostgreSQL cluster
(tests/pg.py), ``--nodes N`` daemons sharing it (figures summed; memory per node).
Usage: python benchmarks/soak.py [--feeds 500] [--minutes 10] [--postgresql [--nodes 2]]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.feed_farm import ROOT, free_port, start_nginx, write_feed

#: articles with a sentence only the parser reads: the workers load the model, as a daemon
#: on real feeds does, so the memory figures include it
HARD_SHARE = 0.02


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (worker processes), in MB."""
    pids = {pid}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                pids.add(int(entry.name))
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def metrics(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            key = s.name + "".join(f"[{v}]" for v in s.labels.values())
            out[key] = out.get(key, 0.0) + s.value
    return out


def soak(n: int, minutes: float, seed: int, postgresql: bool = False, nodes: int = 1) -> None:
    cluster = None
    if postgresql:
        from tests.pg import Cluster

        cluster = Cluster()
    try:
        _soak(n, minutes, seed, cluster.database("soak") if cluster else None, nodes)
    finally:
        if cluster is not None:
            cluster.stop()


def _soak(n: int, minutes: float, seed: int, database: str | None, nodes: int) -> None:
    work = ROOT / "benchmarks" / "out" / f"soak-{n}"
    if work.exists():
        shutil.rmtree(work)
    root = work / "www"
    root.mkdir(parents=True)
    first = dict.fromkeys(range(n), 0)
    for f in range(n):
        write_feed(root / f"f{f}.xml", f, 0, 20, seed, hard=HARD_SHARE)
    nginx, port = start_nginx(work, root)
    ports = [free_port() for _ in range(nodes)]
    base = yaml.safe_load((ROOT / "config" / "monitor.yaml").read_text(encoding="utf-8"))
    base.update(
        {
            "storage": {"url": database or f"sqlite:///{work}/monitor.db"},
            "fetch": {
                "allow_private": True,
                "per_host": 64,
                "concurrency": 64,
                "interval": "20s",
                "min_interval": "5s",
                "adapt": False,
            },
            "daemon": {"listen": "127.0.0.1:${SOAK_PORT}", "node": "${SOAK_NODE}"},
            "sources": [
                {"name": f"f{f}", "url": f"http://127.0.0.1:{port}/f{f}.xml", "full_text": False}
                for f in range(n)
            ],
            "channels": {"console": {"type": "console"}},
        }
    )
    base["rules"] = [{**r, "mode": "shadow"} for r in base["rules"]]
    config = work / "monitor.yaml"
    config.write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
    stop = threading.Event()
    rng = random.Random(seed)

    def publish() -> None:  # a few feeds gain two items every second
        while not stop.wait(1.0):
            for f in rng.sample(range(n), max(1, n // 100)):
                first[f] += 2
                write_feed(root / f"f{f}.xml", f, first[f], 20, seed, hard=HARD_SHARE)

    logs = [open(work / f"daemon-{i}.log", "w") for i in range(nodes)]  # noqa: SIM115
    command = [sys.executable, "-m", "monitor", "--config", str(config)]
    procs = [
        subprocess.Popen(
            [*command, "--log-level", "warning", "run"],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env={**os.environ, "SOAK_PORT": str(p), "SOAK_NODE": f"soak-{i}"},
        )
        for i, (p, log) in enumerate(zip(ports, logs, strict=True))
    ]
    publisher = threading.Thread(target=publish, daemon=True)
    where = "PostgreSQL" if database else "SQLite"
    print(
        f"soak: {n} feeds, {minutes:g} minutes, {nodes} daemon(s) on {where}, "
        f"nginx 127.0.0.1:{port}, pids {' '.join(str(p.pid) for p in procs)}"
    )
    m: dict[str, float] = {}
    try:
        time.sleep(3)
        publisher.start()
        memory = _watch(procs, [log.name for log in logs], minutes)
        for p in ports:
            for key, value in metrics(p).items():
                m[key] = m.get(key, 0.0) + value
    finally:
        stop.set()
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=60)
        for log in logs:
            log.close()
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=10)
    returncodes = ",".join(str(p.returncode) for p in procs)
    polls = {k.split("[")[1][:-1]: v for k, v in m.items() if k.startswith("monitor_polls_total[")}
    requests = sum(polls.values())
    start_rss, after_minute, final, peak = memory
    growth = (final - after_minute) / after_minute * 100 if after_minute else 0.0
    print(
        f"  polls {requests:.0f} ({', '.join(f'{k} {v:.0f}' for k, v in sorted(polls.items()))}); "
        f"errors {polls.get('error', 0):.0f}; articles stored "
        f"{m.get('monitor_articles_stored_total', 0):.0f}; exit {returncodes}"
    )
    which = " (the largest node)" if nodes > 1 else ""
    print(
        f"  resident memory of daemon + workers{which}: start {start_rss:.0f} MB, after 1 min "
        f"{after_minute:.0f} MB, end {final:.0f} MB, peak {peak:.0f} MB; "
        f"growth after the first minute {growth:+.1f} % (target < 20 %)"
    )


def _watch(
    procs: list[subprocess.Popen[bytes]], logs: list[str], minutes: float
) -> tuple[float, float, float, float]:
    """Memory of the largest node (MB) at the start, after a minute, at the end, and at its
    peak, every 5 s for ``minutes``; stops the soak when a daemon exits."""
    start = max(tree_rss_mb(p.pid) for p in procs)
    end = time.monotonic() + minutes * 60
    one_minute = time.monotonic() + 60
    after_minute = None
    peak = start
    while time.monotonic() < end:
        time.sleep(5)
        rss = max(tree_rss_mb(p.pid) for p in procs)
        peak = max(peak, rss)
        if after_minute is None and time.monotonic() >= one_minute:
            after_minute = rss
        for p, log in zip(procs, logs, strict=True):
            if p.poll() is not None:
                raise SystemExit(f"a daemon exited ({p.returncode}): see {log}")
    final = max(tree_rss_mb(p.pid) for p in procs)
    return start, after_minute or final, final, peak


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--feeds", type=int, default=500)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--postgresql", action="store_true", help="on a throwaway PostgreSQL")
    ap.add_argument("--nodes", type=int, default=1, help="daemons sharing it (PostgreSQL)")
    args = ap.parse_args()
    if args.nodes > 1 and not args.postgresql:
        ap.error("several nodes share a PostgreSQL database: add --postgresql")
    soak(args.feeds, args.minutes, args.seed, args.postgresql, args.nodes)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
