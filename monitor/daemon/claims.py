"""When sources are polled: claims on the database, so that nodes sharing it never poll one
source twice, and a node that dies leaves leases that run out.

The claim loop is where the daemon notices the machine's faults. A database that takes
nothing (a server away, a full disk) pauses polls, said once, and is tried again every few
seconds (up to 30 s for a server away); the polls it could not record give their sources back
as soon as it takes writes again, rather than when their leases run out. A wall clock that
steps (``ClockWatch``) moves the schedule with it, where this daemon is alone on its database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from monitor.daemon.runtime import CLAIM_BATCH, HEARTBEAT, JOIN_SETTLE, PEERS_EVERY, Runtime
from monitor.errors import StorageError, StorageUnavailable
from monitor.logs import event
from monitor.models import Source, SourceState
from monitor.schedule import Scheduler, first_run
from monitor.store import shared_turns, sources_hash

log = logging.getLogger("monitor.daemon")

#: the wall clock moving this much more (or less) than the monotonic clock between two looks
#: is a step (an NTP correction, an operator's date): the schedule moves with it
CLOCK_STEP = 20.0
#: a database that takes nothing is tried again after 1 s, doubling up to this (a server away)
AWAY_MAX = 30.0
#: … or up to this, for a fault of the machine's own (a full disk): cheap to try, and space
#: may come back any moment
FAULT_MAX = 4.0


class ClockWatch:
    """Notices the wall clock stepping: the daemon's clock against the monotonic one."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self._last = (now(), time.monotonic())
        #: a step seen and not yet dealt with (seconds; 0: none)
        self.pending = 0.0

    def look(self) -> float:
        """The step not yet dealt with, this look's included (0.0: none)."""
        wall, clock = self._now(), time.monotonic()
        last_wall, last_clock = self._last
        self._last = (wall, clock)
        drift = (wall - last_wall).total_seconds() - (clock - last_clock)
        if abs(drift) >= CLOCK_STEP:
            self.pending += drift
        return self.pending


class Claims:
    """The one scheduling path for sources, on one node or several sharing a database:
    claim the due sources (``Store.claim_sources``: a lease each, so that no two nodes poll
    one source), poll them, record each poll (which ends its lease), sleep until the next
    comes due. A node that dies leaves leases that run out: its sources come due again."""

    def __init__(
        self,
        runtime: Runtime,
        scheduler: Scheduler,
        node: str,
        lease: float,
        exclusive: bool = False,
    ) -> None:
        self.runtime = runtime
        self.scheduler = scheduler
        self.node = node
        self.lease = lease
        #: alone on the database (SQLite's lock): the schedule is this node's to move
        self.exclusive = exclusive
        self.clock = ClockWatch(runtime.now)
        #: polls whose record could not be written: source → its lease, given back when
        #: the database takes writes again
        self.unrecorded: dict[str, str] = {}
        #: re-read this node's configuration file and take it only if its sources' fingerprint
        #: is the one given (None when taken, else why not): set by the daemon
        self.follow: Callable[[str], Awaitable[str | None]] | None = None
        self._followed: str | None = None
        #: sources being polled by this node now
        self.polling: set[str] = set()
        #: when each source was first due after the start (what the start-up line tells)
        self.first: dict[str, datetime] = {}
        self._woken = asyncio.Event()
        self._agreed = True
        self._beat = -1e9  # when this node last said it is alive (monotonic)
        self._peers_at = -1e9  # when it last looked for other nodes (monotonic)

    @property
    def capacity(self) -> int:
        return self.runtime.settings.fetch.concurrency * 2

    async def plan_first_polls(self) -> None:
        """Sources never polled are spread over the first minutes (as are those due further
        off than their interval); the others keep their stored schedule."""
        runtime, now = self.runtime, self.runtime.now()
        states = {s.name: s for s in await runtime.store.source_states()}
        due = {}
        for src in runtime.sources:
            state = states.get(src.name)
            if state is not None and state.gone is not None:
                continue  # answered 410 Gone: not polled until its URL changes
            due[src.name] = first_run(src.interval, now, state.next_due if state else None)
        await runtime.store.first_polls(due, now)
        self.first = due

    def wake(self, recheck: bool = False) -> None:
        """Claim again now; ``recheck``: the configuration changed, say so to the others and
        compare source lists again first."""
        if recheck:
            self._beat = -1e9
        self._woken.set()

    async def agrees(self, mine: str) -> bool:
        """Does this node's list (``mine``: its fingerprint) match the one the database was
        last synced with? When another node reloaded a new list, this one re-reads its own
        configuration file and takes it if it lists the same sources (nodes sharing one
        file follow each other's reloads); a node whose file still differs claims nothing,
        and says so once, until it is reloaded too."""
        theirs = await self.runtime.store.synced_hash()
        agreed = theirs is None or theirs == mine
        if (
            not agreed
            and theirs is not None
            and self.follow is not None
            and theirs != self._followed
        ):
            self._followed = theirs
            event(
                log,
                logging.INFO,
                "the database's source list changed (another node reloaded): re-reading this "
                "node's configuration",
                node=self.node,
            )
            if await self.follow(theirs) is None:
                return await self.agrees(sources_hash(self.runtime.sources))
        if not agreed and self._agreed:
            event(
                log,
                logging.ERROR,
                "this node's source list differs from the one the database was last synced "
                "with (another node has another configuration): claiming nothing until the "
                "configurations agree (reload this node, or the other)",
                node=self.node,
            )
        elif agreed and not self._agreed:
            event(log, logging.INFO, "source lists agree again: claiming", node=self.node)
        self._agreed = agreed
        return agreed

    async def run(self) -> None:
        runtime = self.runtime
        if runtime.fetcher.turns is not None:
            # beside other nodes: say so first, and give them the time to look, so that
            # they take turns at hosts with this one before its first request
            with contextlib.suppress(StorageError):
                await self._say_alive()
                await asyncio.sleep(JOIN_SETTLE)
        away = 0.0  # seconds to wait while the database takes nothing (doubling)
        while not runtime.closing:
            try:
                wait = await self._claim()
            except StorageError as e:
                down = e if isinstance(e, StorageUnavailable) else _unavailable(e)
                runtime.faults.paused("polls", down)
                most = AWAY_MAX if down.headline.startswith("database unreachable") else FAULT_MAX
                away = wait = min(most, away * 2 or 1.0)
            else:
                away = 0.0
                runtime.faults.resumed("claims")  # the loop gets through (after a restart)
            self._woken.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), wait)

    async def _claim(self) -> float:
        """Claim what is due and start its polls; how long to sleep before the next claim."""
        runtime = self.runtime
        if self.clock.look():
            await self._clock_stepped(self.clock.pending)
        for name, lease in list(self.unrecorded.items()):  # the database takes writes again?
            await runtime.store.release_lease(name, lease, runtime.now())
            del self.unrecorded[name]
        if time.monotonic() - self._beat >= HEARTBEAT:
            await self._say_alive()
        if time.monotonic() - self._peers_at >= PEERS_EVERY:  # a node started beside this one?
            runtime.fetcher.turns = await shared_turns(runtime.store, self.node)
            self._peers_at = time.monotonic()
        room = min(CLAIM_BATCH, self.capacity - len(self.polling))
        wait = 1.0
        if room > 0 and self._agreed:
            claimed = await runtime.store.claim_sources(self.node, runtime.now(), room, self.lease)
            for state in claimed:
                self._start(state)
            if not claimed and not self.polling:
                runtime.faults.resumed("polls")  # nothing due, nothing waiting
            if runtime.metrics is not None:
                runtime.metrics.claimed.inc(len(claimed))
                runtime.metrics.leases.set(len(self.polling))
                late = [
                    (runtime.now() - s.claimed_due).total_seconds()
                    for s in claimed
                    if s.claimed_due is not None
                ]
                if late:
                    runtime.metrics.lease_lag.set(max(0.0, max(late)))
            due = await runtime.store.next_due()
            if due is not None:
                wait = min(wait, max(0.02, (due - runtime.now()).total_seconds()))
        return wait

    async def _clock_stepped(self, step: float) -> None:
        """The wall clock stepped by ``step`` seconds: alone on the database, every due
        time, lease and claim moves with it (what was due in a minute is due in a minute
        still); beside other nodes the schedule is theirs too, and stays."""
        if self.exclusive:
            await self.runtime.store.shift_schedule(step)
            event(
                log,
                logging.WARNING,
                "the wall clock stepped: the schedule moves with it",
                step_s=round(step),
            )
        else:
            event(
                log,
                logging.WARNING,
                "the wall clock stepped: nodes sharing a database must agree on the time "
                "(NTP); the shared schedule stays as it is",
                step_s=round(step),
            )
        self.clock.pending = 0.0
        self.scheduler.realign()

    async def _say_alive(self) -> None:
        """Alive, with this list; and does the list still agree (checked as often)."""
        await self.agrees(await self.runtime.say_alive(self.node))
        self._beat = time.monotonic()

    def _start(self, state: SourceState) -> None:
        source = self.runtime.source(state.name)
        if source is None or state.name in self.polling:
            return  # not in this node's configuration (any more): its lease runs out
        self.polling.add(state.name)
        task = asyncio.ensure_future(self._poll(source, state))
        self.runtime.in_flight.add(task)
        task.add_done_callback(self.runtime.in_flight.discard)

    async def _renew(self, name: str, lease: str | None) -> None:
        """A poll that runs long (pages to read, a slow server) keeps its lease: renewed at
        half its length, for as long as the poll runs and the lease is still this node's."""
        if lease is None:
            return
        while True:
            await asyncio.sleep(self.lease / 2)
            try:
                held = await self.runtime.store.renew_lease(
                    name, lease, self.runtime.now(), self.lease
                )
            except StorageError:
                continue  # the database is away: the record will say whether it still holds
            if not held:
                event(log, logging.WARNING, "lease lost to another node", source=name)
                if self.runtime.metrics is not None:
                    self.runtime.metrics.lost.inc()
                return

    async def _poll(self, source: Source, state: SourceState) -> None:
        runtime = self.runtime
        try:
            if runtime.metrics is not None and source.name in self.first:
                started = runtime.now()
                due = self.first.pop(source.name)
                runtime.metrics.lag.set(max(0.0, (started - due).total_seconds()))
            renewing = asyncio.ensure_future(self._renew(source.name, state.lease))
            try:
                outcome = await runtime.poll(source, state)
            finally:
                renewing.cancel()
            if not outcome.stored and state.lease is not None:
                self.unrecorded[source.name] = state.lease
            if outcome.alerts and not runtime.closing:
                self.scheduler.wake("deliver", 0.05)
        finally:
            self.polling.discard(source.name)
            if runtime.metrics is not None:
                runtime.metrics.leases.set(len(self.polling))
            self.wake()


def _unavailable(e: StorageError) -> StorageUnavailable:
    """Any other failure of the database, paused and tried again as one that is away."""
    return StorageUnavailable(str(e), headline="database error")
