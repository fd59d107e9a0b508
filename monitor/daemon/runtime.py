"""Lifecycle: open the store, the HTTP client, the engine and the channels; poll; deliver; close.

``monitor once`` and ``monitor run`` share ``Runtime``: ``once`` polls every source a single
time and drains the outbox; ``run`` schedules the same work until SIGINT/SIGTERM, then stops
taking new work, lets in-flight polls and deliveries finish for a grace period, and closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TextIO

import httpx

from monitor import config as configmod
from monitor.alert import Channel
from monitor.alert.deliver import DispatchResult, deliver_at, dispatch
from monitor.alert.planner import AlertPlanner
from monitor.alert.registry import build_channels, uses_http
from monitor.alert.stories import StoryPolicy
from monitor.compiled import load_checked
from monitor.daemon.instance import AlreadyRunning, InstanceLock
from monitor.errors import ConfigError, StorageError, StorageUnavailable
from monitor.fetch import Fetcher
from monitor.logs import event
from monitor.match.engine import Engine
from monitor.models import Match, PollOutcome, Source, SourceState
from monitor.poll.context import PipelineContext
from monitor.poll.pipeline import poll_source
from monitor.poll.source_health import HealthPolicy
from monitor.poll.workers import Processor
from monitor.schedule import Scheduler, first_run
from monitor.store import Store, open_store, shared_turns, sources_hash, sync_beside_nodes

if TYPE_CHECKING:
    from monitor.daemon.endpoint import StatusServer
    from monitor.daemon.metrics import Metrics

log = logging.getLogger("monitor.daemon")

DELIVERY_EVERY = 5.0
#: sources one claim takes at most
CLAIM_BATCH = 100
#: a node says it is alive this often (``store.NODE_ALIVE``: gone after 30 s unheard)
HEARTBEAT = 10.0
#: seconds between two looks for other nodes on the database (politeness across nodes)
PEERS_EVERY = 1.0
#: a node starting beside others waits this long after saying so before its first claim:
#: time for them to look, and take turns at hosts with it
JOIN_SETTLE = 2 * PEERS_EVERY
#: how long a node's claim on a pending delivery holds (a send times out well before)
DELIVERY_LEASE = 120.0
#: retention runs this often (pruning is cheap; compaction follows its own period)
MAINTAIN_EVERY = 3600.0


def node_name(settings: configmod.Settings) -> str:
    """This daemon's name among the nodes sharing a database: ``daemon.node``, else
    host:pid."""
    return settings.daemon.node or f"{socket.gethostname()}:{os.getpid()}"


def lease_seconds(settings: configmod.Settings) -> float:
    """How long a claim on a source holds: ``daemon.lease``, else long enough for a poll that
    reads its feed and a few pages (four fetch deadlines, at least five minutes)."""
    return settings.daemon.lease or max(300.0, 4 * settings.fetch.deadline)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class OnceReport:
    outcomes: list[PollOutcome]
    delivery: DispatchResult
    #: a daemon runs on the same database: delivery is its job (who it is)
    delivery_left_to: str | None = None


class Runtime:
    """Everything a pass needs, opened once; what follows the configuration is (re)built by
    ``_configure``, at the start and at every reload."""

    def __init__(
        self,
        loaded: configmod.LoadedConfig,
        engine: Engine,
        store: Store,
        fetcher: Fetcher,
        delivery_client: httpx.AsyncClient | None,
        processor: Processor,
        now: Callable[[], datetime] = utcnow,
        console: TextIO | None = None,
    ) -> None:
        self.path = loaded.path
        self.store = store
        self.fetcher = fetcher
        self._delivery_client = delivery_client
        self.now = now
        #: where the console channel prints (None: standard output)
        self.console = console
        self.in_flight: set[asyncio.Task[object]] = set()
        #: set when a stop begins: scheduled jobs that start now do nothing
        self.closing = False
        self.ctx = PipelineContext(store, fetcher, processor, AlertPlanner(self.channels_for), now)
        #: set by the daemon (``once`` does without: prometheus-client takes time to load)
        self.metrics: Metrics | None = None
        self._retired: set[asyncio.Task[None]] = set()
        self._compacted: datetime | None = None
        self._deliver_lock = asyncio.Lock()
        self._configure(loaded.settings, engine, processor)

    def _configure(
        self, settings: configmod.Settings, engine: Engine, processor: Processor
    ) -> None:
        """What follows the configuration: the sources, the rules and the processor that
        applies them, the channels, and the policies a poll applies (stories, digests, source
        health). Opening and reloading both come through here."""
        self.settings = settings
        self.sources = settings.source_records()
        self._by_name = {s.name: s for s in self.sources}
        self.engine = engine
        self.processor = processor
        self.channels: dict[str, Channel] = build_channels(
            settings.channels, self._delivery_client, self.console, settings.delivery.zone
        )
        d = settings.delivery
        self.ctx.processor = processor
        self.ctx.outlets.order([s.name for s in self.sources])
        self.ctx.planner = AlertPlanner(
            self.channels_for,
            StoryPolicy(d.story_window, d.duplicate_threshold, d.max_followups, d.escalate_at),
            deliver_at(engine.digest_rules),
            self.ctx.outlets.outlet,
        )
        self.ctx.health = self.health_policy()

    @classmethod
    async def open(
        cls,
        loaded: configmod.LoadedConfig,
        engine: Engine,
        now: Callable[[], datetime] = utcnow,
        console: TextIO | None = None,
        node: str | None = None,
        store: Store | None = None,
    ) -> Runtime:
        """Everything a pass needs; ``node``: the daemon's name among nodes (None: ``once``,
        which refuses to run beside nodes that list other sources); ``store``: the store,
        when the caller has opened it already (the daemon, which waited for its server)."""
        records = loaded.settings.source_records()
        # first, while this process has one thread: worker processes fork ready to work
        processor = Processor(engine, len(records))
        # built in a thread, while the store opens: loading the TLS trust store must not
        # happen inside a step of the event loop
        making_fetcher = asyncio.ensure_future(asyncio.to_thread(Fetcher, loaded.settings.fetch))
        try:
            s = loaded.settings.storage
            store = store or await open_store(s.url, s.pool_size)
            try:
                if not await sync_beside_nodes(store, records, node) and node is None:
                    raise StorageError(
                        "daemons on this database list other sources than this "
                        "configuration: use theirs (or reload them with this one)"
                    )
                turns = await shared_turns(store, node)  # politeness across nodes, if any
            except BaseException:
                await store.close()
                raise
        except BaseException:
            processor.close()
            await (await making_fetcher).aclose()
            raise
        fetcher = await making_fetcher
        fetcher.turns = turns
        delivery_client = await _delivery_client_for(loaded.settings, None)
        runtime = cls(loaded, engine, store, fetcher, delivery_client, processor, now, console)
        for state in await store.source_states():  # what each source resolved to last time
            runtime.ctx.outlets.note(state.name, state.url)
        return runtime

    async def reload(self, loaded: configmod.LoadedConfig, engine: Engine) -> list[str]:
        """Take a new configuration: sources, actors, keywords, rules, channels and delivery
        settings change at once; in-flight polls finish with what they started with. Returns
        what only a restart can change."""
        new = loaded.settings
        fixed = ("storage", "fetch", "daemon")
        later = [
            f"{name}: changes take effect after a restart"
            for name in fixed
            if getattr(new, name) != getattr(self.settings, name)
        ]
        await self.store.sync_sources(new.source_records())
        settings = new.model_copy(update={name: getattr(self.settings, name) for name in fixed})
        old = self.processor
        retire = asyncio.ensure_future(asyncio.to_thread(old.close, False))
        self._retired.add(retire)
        retire.add_done_callback(self._retired.discard)
        self._delivery_client = await _delivery_client_for(settings, self._delivery_client)
        self._configure(settings, engine, Processor(engine, len(settings.source_records())))
        return later

    async def maintain(self) -> None:
        """Retention: prune old texts; compact the database every ``compact_every``."""
        if self.closing:
            return
        r, now = self.settings.retention, self.now()
        with self.tracked():
            if r.keep_text is not None:
                try:
                    pruned = await self.store.prune(now - timedelta(seconds=r.keep_text))
                except StorageError as e:
                    event(log, logging.WARNING, "retention postponed", reason=str(e))
                    return
                if pruned:
                    event(log, logging.INFO, "pruned old article texts", articles=pruned)
            if self._compacted is None:
                self._compacted = now  # the first compaction one period after start
            elif (now - self._compacted).total_seconds() >= r.compact_every:
                try:
                    await self.store.compact()
                except StorageError as e:
                    event(log, logging.WARNING, "database not compacted", reason=str(e))
                    return
                self._compacted = now
                event(log, logging.INFO, "database compacted")

    async def say_alive(self, name: str) -> str:
        """This process is alive on the database as ``name``, with its source list: the
        list's fingerprint."""
        listed = sources_hash(self.sources)
        await self.store.heartbeat(name, listed, self.now())
        return listed

    def health_policy(self) -> HealthPolicy:
        h = self.settings.health
        return HealthPolicy(tuple(h.channels or self.channels), h.after_failures)

    async def health(self) -> str | None:
        """None when healthy, else the reason (for /healthz)."""
        return await self.store.check_writable()

    async def render_metrics(self) -> bytes:
        assert self.metrics is not None
        self.metrics.sources.set(len(self.sources))
        counts = await self.store.alert_counts()
        self.metrics.pending.set(counts.get("pending", 0))
        self.metrics.failed.set(counts.get("failed", 0))
        states = await self.store.source_states()
        self.metrics.in_error.set(sum(1 for s in states if s.failures and not s.gone))
        return self.metrics.render()

    def source(self, name: str) -> Source | None:
        """The configured source of this name (None: not configured here)."""
        return self._by_name.get(name)

    def channels_for(self, match: Match) -> list[str]:
        chosen = self.engine.channels_for(match.rule)
        return list(chosen) if chosen else list(self.channels)

    @contextlib.contextmanager
    def tracked(self) -> Iterator[None]:
        """Mark the current task as in-flight work that a graceful stop waits for."""
        task = asyncio.current_task()
        if task is not None:
            self.in_flight.add(task)
        try:
            yield
        finally:
            if task is not None:
                self.in_flight.discard(task)

    async def poll(self, source: Source, state: SourceState | None = None) -> PollOutcome:
        """Poll one source; an unexpected error is logged with its traceback and contained."""
        try:
            outcome = await poll_source(source, self.ctx, state)
            if self.metrics is not None:
                self.metrics.observe_poll(outcome)
            return outcome
        except StorageError as e:  # a database server away: polled again when it is back
            event(log, logging.WARNING, "poll not stored", source=source.name, reason=str(e))
            return PollOutcome(source.name, "error", error=f"storage: {e}")
        except Exception as e:
            log.exception(
                "poll crashed (a bug: please report it)", extra={"fields": {"source": source.name}}
            )
            return PollOutcome(source.name, "error", error=f"internal error: {type(e).__name__}")

    async def poll_all(
        self, on_poll: Callable[[PollOutcome], None] | None = None
    ) -> list[PollOutcome]:
        """Poll every source once, except those that answered 410 Gone."""
        # every source's state in one query, not one query each
        states = {s.name: s for s in await self.store.source_states()}
        live = [s for s in self.sources if s.name not in states or not states[s.name].gone]
        # a fixed set of workers pulls sources from a list: fetched bodies cannot pile up
        # waiting for the parser, and thousands of sources do not mean thousands of tasks
        # created in one step of the event loop
        todo = list(reversed(live))
        results: dict[str, PollOutcome] = {}

        async def worker() -> None:
            while todo:
                source = todo.pop()
                results[source.name] = await self.poll(source, states.get(source.name))
                if on_poll is not None:
                    on_poll(results[source.name])

        width = min(len(live), self.settings.fetch.concurrency * 2)
        await asyncio.gather(*(worker() for _ in range(width)))
        await self.store.flush()
        return [results[s.name] for s in live]

    async def deliver(self) -> DispatchResult:
        if self.closing:
            return DispatchResult()
        async with self._deliver_lock:
            with self.tracked():
                try:
                    result = await dispatch(
                        self.store,
                        self.channels,
                        self.settings.delivery,
                        self.now,
                        self.engine.digest_rules,
                    )
                except StorageError as e:  # a database server away: pending alerts wait
                    event(log, logging.WARNING, "deliveries paused", reason=str(e))
                    return DispatchResult()
                if self.metrics is not None:
                    self.metrics.observe_delivery(result.sent, result.retrying, result.failed)
                return result

    async def close(self) -> None:
        try:
            if self._retired:
                await asyncio.wait(self._retired)
            await asyncio.to_thread(self.processor.close)
            await self.fetcher.aclose()
            if self._delivery_client is not None:
                await self._delivery_client.aclose()
        finally:
            await self.store.close()


async def _delivery_client_for(
    settings: configmod.Settings, client: httpx.AsyncClient | None
) -> httpx.AsyncClient | None:
    """The HTTP client of webhook and Slack channels, once a channel needs it (built in a
    thread: loading the TLS trust store must not happen inside a step of the event loop)."""
    if client is not None or not uses_http(settings.channels):
        return client
    user_agent = settings.fetch.user_agent
    return await asyncio.to_thread(httpx.AsyncClient, headers={"User-Agent": user_agent})


async def run_once(
    loaded: configmod.LoadedConfig,
    engine: Engine,
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
    runtime = await Runtime.open(loaded, engine, console=console)
    name = f"once:{socket.gethostname()}:{os.getpid()}"
    # deliveries claimed, as the daemons' are: a pass beside them never sends what they send
    runtime.store.claim_as(name, DELIVERY_LEASE)
    try:
        async with _announced(runtime, name):
            outcomes = await runtime.poll_all(on_poll)
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


async def run_forever(
    loaded: configmod.LoadedConfig,
    engine: Engine,
    stop: asyncio.Event | None = None,
    grace: float | None = None,
) -> None:
    """Run until ``stop`` is set or SIGINT/SIGTERM arrives; then stop cleanly. SIGHUP (or
    ``POST /-/reload``) re-reads the configuration. One daemon per SQLite database
    (``daemon.instance``): a second one raises ``AlreadyRunning`` naming the first."""
    stop = stop or asyncio.Event()
    grace = loaded.settings.daemon.grace if grace is None else grace
    settings = loaded.settings
    store = await _wait_for_database(settings.storage, stop, settings.daemon.listen)
    if stop.is_set():  # told to stop while it waited
        if store is not None:
            await store.close()
        return
    try:
        lock = await InstanceLock.acquire(
            settings.storage.url,
            "run",
            listen=settings.daemon.listen,
            config=str(loaded.path.resolve()),
        )
    except BaseException:
        if store is not None:
            await store.close()
        raise
    try:
        await _serve(loaded, engine, stop, grace, exclusive=lock is not None, store=store)
    finally:
        if lock is not None:
            await lock.release()


async def _wait_for_database(
    storage: configmod.StorageSettings, stop: asyncio.Event, listen: str | None
) -> Store | None:
    """A database server that is not there yet (starting with the host, failing over): try
    again, waiting longer each time (up to 30 s), saying so, with ``/healthz`` answering 503
    and why meanwhile; anything else (a refused password, a schema from a newer monitor) ends
    the start with its message. The store, opened; None for a file (nothing to wait for) or
    when told to stop while waiting."""
    if storage.url.startswith("sqlite:"):
        return None
    wait, why = 0.0, ""
    waiting: StatusServer | None = None

    async def unhealthy() -> str:
        return f"waiting for the database: {why}"

    async def no_metrics() -> bytes:
        return b""

    async def not_yet() -> str:
        return "the daemon has not started: it waits for its database"

    try:
        while not stop.is_set():
            try:
                store = await open_store(storage.url, storage.pool_size)
            except StorageUnavailable as e:
                why = str(e)
                if waiting is None and listen:
                    from monitor.daemon.endpoint import StatusServer

                    candidate = StatusServer(listen, unhealthy, no_metrics, not_yet)
                    with contextlib.suppress(OSError):
                        await candidate.start()
                        waiting = candidate
                await _wait_again(e, stop, wait := min(30.0, wait * 2 or 1.0))
                continue
            if wait:
                event(log, logging.INFO, "database reachable")
            return store
        return None
    finally:
        if waiting is not None:
            await waiting.stop()


async def _wait_again(e: StorageUnavailable, stop: asyncio.Event, wait: float) -> None:
    event(log, logging.ERROR, "database not reachable, trying again", reason=str(e), retry_s=wait)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), wait)


async def _serve(
    loaded: configmod.LoadedConfig,
    engine: Engine,
    stop: asyncio.Event,
    grace: float,
    exclusive: bool = False,
    store: Store | None = None,
) -> None:
    """The daemon's life; ``exclusive``: no other daemon uses the database (SQLite's lock);
    ``store``: the store, already open (a server database the daemon waited for)."""
    loop = asyncio.get_running_loop()
    signals = 0

    def on_signal(signum: int) -> None:
        nonlocal signals
        signals += 1
        if signals == 1:
            event(log, logging.INFO, "stopping", signal=signal.Signals(signum).name, grace_s=grace)
            stop.set()
        else:
            event(log, logging.WARNING, "second signal: stopping now")
            for task in list(runtime.in_flight):
                task.cancel()

    node = node_name(loaded.settings)
    runtime = await Runtime.open(loaded, engine, node=node, store=store)
    # what this node held before a crash is free again now (alone on the database: what
    # anyone held; several nodes: what a node of this name held)
    await runtime.store.release_claims(None if exclusive else node)
    runtime.store.claim_as(node, DELIVERY_LEASE)
    from monitor.daemon.metrics import Metrics  # here: only the daemon has an endpoint

    runtime.metrics = Metrics()
    scheduler = Scheduler()
    settings = loaded.settings
    claims = _Claims(runtime, scheduler, node, lease_seconds(settings))
    reloading = asyncio.Lock()
    background: set[asyncio.Task[object]] = set()

    async def reload() -> str | None:
        """Re-read the configuration file; None when applied, else what is wrong with it
        (and the running configuration stays)."""
        async with reloading:
            try:
                new, new_engine = await asyncio.to_thread(load_checked, runtime.path)
            except ConfigError as e:
                problems = "\n".join(str(p) for p in e.problems)
                event(
                    log,
                    logging.ERROR,
                    "reload rejected, the running configuration stays",
                    problems=problems.replace("\n", "; "),
                )
                return problems
            later = await runtime.reload(new, new_engine)
            await claims.plan_first_polls()  # new sources come due in the first minutes
            claims.wake(recheck=True)
            event(log, logging.INFO, "configuration reloaded", sources=len(runtime.sources))
            for note in later:
                event(log, logging.WARNING, "not reloaded", note=note)
            return None

    def on_hup() -> None:
        task: asyncio.Task[object] = asyncio.ensure_future(reload())
        background.add(task)
        task.add_done_callback(background.discard)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    loop.add_signal_handler(signal.SIGHUP, on_hup)
    server = None
    claiming: asyncio.Task[None] | None = None
    try:
        await claims.plan_first_polls()
        # right away too: alerts left pending by a crash or restart go out first
        scheduler.add_periodic("deliver", DELIVERY_EVERY, runtime.deliver, first=runtime.now())
        scheduler.add_periodic(
            "maintain", MAINTAIN_EVERY, runtime.maintain, first=runtime.now() + timedelta(minutes=1)
        )
        scheduler.start()
        claiming = asyncio.ensure_future(claims.run())
        listen = loaded.settings.daemon.listen
        if listen:
            server = await _start_server(runtime, scheduler, listen, reload)
        endpoint = loaded.settings.daemon.endpoint if server is not None else None
        event(log, logging.INFO, _started(runtime, claims, endpoint))
        await stop.wait()
    finally:
        runtime.closing = True
        scheduler.pause()
        if claiming is not None:
            claims.wake()
            await asyncio.wait([claiming], timeout=5)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        await _drain(runtime, grace)
        scheduler.shutdown()
        if server is not None:
            await server.stop()
        await runtime.close()
        event(log, logging.INFO, "stopped")


def _started(runtime: Runtime, claims: _Claims, endpoint: str | None) -> str:
    """What happens next, in words: ``monitor running: 13 sources; first polls spread over
    the next 5 min (`monitor once` polls every source now); health on http://…/healthz``."""
    n = len(runtime.sources)
    line = f"monitor running: {n} source{'s' if n != 1 else ''}"
    if claims.first:
        span = max(0.0, (max(claims.first.values()) - runtime.now()).total_seconds())
        when = f"{span / 60:.0f} min" if span >= 90 else f"{span:.0f} s"
        line += f"; first polls spread over the next {when} (`monitor once` polls every source now)"
    line += f"; alerts to {', '.join(runtime.channels) or 'no channel'}"
    if endpoint:
        line += f"; health on {endpoint}/healthz"
    return line


async def _start_server(
    runtime: Runtime, scheduler: Scheduler, listen: str, reload: Callable[[], Awaitable[str | None]]
) -> StatusServer | None:
    """The health and metrics endpoint; a port already taken is logged, not fatal (the
    monitor goes on watching, and a HEALTHCHECK reports it)."""

    async def health() -> str | None:
        if not scheduler.running:
            return "the scheduler is not running"
        return await runtime.health()

    from monitor.daemon.endpoint import StatusServer  # aiohttp's server: only the daemon needs it

    server = StatusServer(listen, health, runtime.render_metrics, reload)
    try:
        await server.start()
    except OSError as e:
        event(log, logging.ERROR, "endpoint not started", listen=listen, error=e.strerror or str(e))
        return None
    return server


class _Claims:
    """The one scheduling path for sources, on one node or several sharing a database:
    claim the due sources (``Store.claim_sources``: a lease each, so that no two nodes poll
    one source), poll them, record each poll (which ends its lease), sleep until the next
    comes due. A node that dies leaves leases that run out: its sources come due again."""

    def __init__(self, runtime: Runtime, scheduler: Scheduler, node: str, lease: float) -> None:
        self.runtime = runtime
        self.scheduler = scheduler
        self.node = node
        self.lease = lease
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
        last synced with? A node whose configuration differs (another node reloaded a new
        list) claims nothing, and says so once, until it is reloaded too."""
        theirs = await self.runtime.store.synced_hash()
        agreed = theirs is None or theirs == mine
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
        away = 0.0  # seconds to wait while the database cannot be reached (doubling)
        while not runtime.closing:
            try:
                wait = await self._claim()
            except StorageError as e:
                if not away:
                    event(log, logging.ERROR, "database unreachable: polls paused", reason=str(e))
                away = min(30.0, away * 2 or 1.0)
                wait = away
            else:
                if away:
                    event(log, logging.INFO, "database reachable again: polls resume")
                away = 0.0
            self._woken.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), wait)

    async def _claim(self) -> float:
        """Claim what is due and start its polls; how long to sleep before the next claim."""
        runtime = self.runtime
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
            if outcome.alerts and not runtime.closing:
                self.scheduler.wake("deliver", runtime.now() + timedelta(milliseconds=50))
        finally:
            self.polling.discard(source.name)
            if runtime.metrics is not None:
                runtime.metrics.leases.set(len(self.polling))
            self.wake()


async def _drain(runtime: Runtime, grace: float) -> None:
    """Let in-flight polls and deliveries finish within ``grace`` seconds, then cancel them."""
    pending = [t for t in runtime.in_flight if not t.done()]
    if not pending:
        return
    event(log, logging.INFO, "waiting for in-flight work", tasks=len(pending))
    _done, still = await asyncio.wait(pending, timeout=grace)
    for t in still:
        t.cancel()
    if still:
        await asyncio.wait(still, timeout=5)
