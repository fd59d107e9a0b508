"""``monitor once``: every source polled a single time, the outbox drained, then exit."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TextIO

from monitor import config as configmod
from monitor.alert.deliver import DispatchResult
from monitor.daemon.instance import AlreadyRunning, InstanceLock
from monitor.daemon.runtime import DELIVERY_LEASE, HEARTBEAT, JOIN_SETTLE, Runtime
from monitor.errors import StorageError, StorageUnavailable
from monitor.match.ruleset import RuleSet
from monitor.models import PollOutcome


@dataclass(frozen=True, slots=True)
class OnceReport:
    outcomes: list[PollOutcome]
    delivery: DispatchResult
    #: a daemon runs on the same database: delivery is its job (who it is)
    delivery_left_to: str | None = None


async def run_once(
    loaded: configmod.LoadedConfig,
    rules: RuleSet,
    on_poll: Callable[[PollOutcome], None] | None = None,
    console: TextIO | None = None,
) -> OnceReport:
    url, config = loaded.settings.storage.url, str(loaded.path.resolve())
    try:
        lock = await InstanceLock.acquire(url, "once", config=config)
        left_to = None
    except AlreadyRunning as e:
        # beside a running daemon: poll and store (idempotent), leave sending to it, so an
        # alert never goes out from two processes
        lock, left_to = None, e.holder
    runtime = await Runtime.open(loaded, rules, console=console)
    name = f"once:{socket.gethostname()}:{os.getpid()}"
    # deliveries claimed, as the daemons' are: a pass beside them never sends what they send
    runtime.store.claim_as(name, DELIVERY_LEASE)
    runtime.faults.quiet = True  # a database that takes nothing ends the pass in one line
    try:
        async with _announced(runtime, name):
            outcomes = await runtime.poll_all(on_poll)
        down = runtime.faults.cause("polls")
        if isinstance(down, StorageUnavailable):
            raise StorageUnavailable(
                f"{down.headline}: the pass stopped, {sum(o.stored for o in outcomes)} of "
                f"{len(runtime.sources)} sources stored; nothing is lost (run it again once "
                f"the database takes writes)",
                headline=down.headline,
            )
        delivery = DispatchResult() if left_to else await runtime.deliver()
        return OnceReport(outcomes, delivery, left_to)
    finally:
        await runtime.close()
        if lock is not None:
            await lock.release()


@contextlib.asynccontextmanager
async def _announced(runtime: Runtime, name: str) -> AsyncIterator[None]:
    """A pass beside daemons on a shared database says it is alive, as they do, while it
    runs: they take turns at hosts with it (per-host limits hold for all of them)."""
    if runtime.fetcher.turns is None:  # alone on its database: nobody to share turns with
        yield
        return

    async def beat() -> None:
        while True:
            await asyncio.sleep(HEARTBEAT)
            await runtime.say_alive(name)

    with contextlib.suppress(StorageError):  # the daemons look, before its first request
        await runtime.say_alive(name)
        await asyncio.sleep(JOIN_SETTLE)
    beating = asyncio.create_task(beat())
    try:
        yield
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError, StorageError):
            await beating
