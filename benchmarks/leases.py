"""Lease-and-complete throughput of the PostgreSQL store: 50,000 due sources, claimed in
batches of 100 by 1, 2 and 4 daemon processes (``Store.claim_sources``), each poll recorded
under its lease (``record_poll``), until none is due. Prints sources a second and the claim's
latency (median, p99) for each number of processes, on a throwaway cluster (tests/pg.py).

What a desk needs: 500,000 sources every 15 minutes is about 560 a second.

Then the turns at hosts that nodes take while several share the database (politeness across
nodes, ``fetch.HostTurns``): 2,000 requests' turns taken and given back, 64 at a time as a
fetcher asks them, on one host and on 1,000 hosts; microseconds a turn.
Usage: python benchmarks/leases.py [--sources 50000] [--nodes 1 --nodes 2 --nodes 4]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.models import Source  # noqa: E402
from monitor.store import PollRecord, open_store  # noqa: E402

BATCH = 100
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


async def _prepare(url: str, n: int) -> None:
    store = await open_store(url)
    try:
        await store.sync_sources(
            [Source(f"s{i}", f"https://feeds{i % 97}.example/{i}.xml", 900) for i in range(n)]
        )
    finally:
        await store.close()


async def _node(url: str, name: str, start: float) -> tuple[int, list[float]]:
    store = await open_store(url)
    done, waits = 0, []
    try:
        await asyncio.sleep(max(0.0, start - time.time()))  # every node begins together
        later = NOW + timedelta(hours=1)
        while True:
            t = time.perf_counter()
            claimed = await store.claim_sources(name, NOW, BATCH, 300)
            waits.append(time.perf_counter() - t)
            if not claimed:
                break
            for state in claimed:
                await store.record_poll(state.name, PollRecord(True, later, lease=state.lease), NOW)
            await store.flush()
            done += len(claimed)
    finally:
        await store.close()
    return done, waits


def _run_node(url: str, name: str, start: float, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    out.put(asyncio.run(_node(url, name, start)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=int, default=50_000)
    ap.add_argument("--nodes", type=int, action="append")
    args = ap.parse_args()
    from tests.pg import Cluster

    cluster = Cluster()
    try:
        print(f"leases on PostgreSQL: {args.sources} due sources, claims of {BATCH}")
        for nodes in args.nodes or [1, 2, 4]:
            url = cluster.database(f"leases{nodes}")
            asyncio.run(_prepare(url, args.sources))
            out: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
            start = time.time() + 1.0
            procs = [
                multiprocessing.Process(target=_run_node, args=(url, f"node-{k}", start, out))
                for k in range(nodes)
            ]
            for p in procs:
                p.start()
            results = [out.get(timeout=600) for _ in procs]
            for p in procs:
                p.join()
            elapsed = time.time() - start
            total = sum(d for d, _ in results)
            waits = sorted(w for _, ws in results for w in ws)
            p99 = waits[min(len(waits) - 1, int(len(waits) * 0.99))]
            print(
                f"  {nodes} node{'s' if nodes > 1 else ''}: {total} leased and completed in "
                f"{elapsed:.1f} s = {total / elapsed:,.0f} sources/s; claim median "
                f"{statistics.median(waits) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
            )
            assert total == args.sources, "every source exactly once"
        asyncio.run(_turns(cluster.database("turns")))
    finally:
        cluster.stop()


async def _turns(url: str, asks: int = 2000) -> None:
    store = await open_store(url)
    try:
        turns = store.host_turns()
        assert turns is not None
        print(f"turns at hosts on PostgreSQL: {asks} requests, 64 at a time")
        for hosts in (1, 1000):
            at_once = asyncio.Semaphore(64)

            async def one(i: int, hosts: int = hosts, at_once: asyncio.Semaphore = at_once) -> None:
                async with at_once:
                    turn = await turns.take(f"host{i % hosts}.example", 64, 0.0, 65.0)
                    assert turn is not None
                    await turns.give_back(turn[0])

            started = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(asks)))
            took = time.perf_counter() - started
            print(
                f"  {hosts} host{'s' if hosts > 1 else ''}: {took / asks * 1e6:.0f} µs a turn "
                f"(taken and given back), {asks / took:,.0f} turns/s"
            )
    finally:
        await store.close()


if __name__ == "__main__":
    main()
