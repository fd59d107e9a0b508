"""What a pass needs, opened once: the store, the HTTP clients, the rules and the channels.

``monitor once`` (``daemon.once``) and ``monitor run`` (``daemon.serve``) share ``Runtime``:
it polls a source, polls every source, delivers the outbox, maintains the database, reloads
the configuration, and closes. When sources are polled is ``daemon.claims``'s business.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TextIO

import httpx

from monitor import config as configmod
from monitor.alert import Channel
from monitor.alert.deliver import DispatchResult, deliver_at, dispatch
from monitor.alert.planner import AlertPlanner
from monitor.alert.registry import build_channels, uses_http
from monitor.alert.stories import StoryPolicy
from monitor.daemon.supervise import Faults
from monitor.errors import StorageError, StorageUnavailable
from monitor.fetch import Fetcher
from monitor.logs import event
from monitor.match.ruleset import RuleSet
from monitor.models import Match, PollOutcome, Source, SourceState
from monitor.poll.context import PipelineContext
from monitor.poll.pipeline import poll_source
from monitor.poll.source_health import HealthPolicy
from monitor.poll.workers import Processor
from monitor.store import Store, open_store, shared_turns, sources_hash, sync_beside_nodes

if TYPE_CHECKING:
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
#: time for them to look (each looks every second, when its loop is not held up: a loaded
#: machine held one for 1.8 s in a CI-like run, and two requests reached one host), and take
#: turns at hosts with it
JOIN_SETTLE = 4 * PEERS_EVERY
#: how long a node's claim on a pending delivery holds (a send times out well before)
DELIVERY_LEASE = 120.0
#: retention runs this often (pruning is cheap; compaction follows its own period)
MAINTAIN_EVERY = 3600.0
#: sources due, or alerts due, for this long with no poll completed (no alert sent) in as
#: long: the daemon is stalled, whatever the cause, and says so on /healthz (at least; a
#: poll may take up to two fetch deadlines)
STALL_AFTER = 120.0


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


class Runtime:
    """Everything a pass needs, opened once; what follows the configuration is (re)built by
    ``_configure``, at the start and at every reload."""

    def __init__(
        self,
        loaded: configmod.LoadedConfig,
        rules: RuleSet,
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
        #: what does not work now (a database paused, a loop failing): said once, on /healthz
        self.faults = Faults()
        #: when a poll last completed, an alert was last sent (monotonic): progress
        self.polled_at = self.sent_at = time.monotonic()
        self._configure(loaded.settings, rules, processor)

    def _configure(
        self, settings: configmod.Settings, rules: RuleSet, processor: Processor
    ) -> None:
        """What follows the configuration: the sources, the rules and the processor that
        applies them, the channels, and the policies a poll applies (stories, digests, source
        health). Opening and reloading both come through here."""
        self.settings = settings
        self.sources = settings.source_records()
        self._by_name = {s.name: s for s in self.sources}
        self.rules = rules
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
            deliver_at(rules.digest_rules),
            self.ctx.outlets.outlet,
            d.late_after or None,
            d.late,
            followup_wait=d.followup_wait,
        )
        self.ctx.health = self.health_policy()

    @classmethod
    async def open(
        cls,
        loaded: configmod.LoadedConfig,
        rules: RuleSet,
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
        processor = Processor(rules, len(records))
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
        runtime = cls(loaded, rules, store, fetcher, delivery_client, processor, now, console)
        for state in await store.source_states():  # what each source resolved to last time
            runtime.ctx.outlets.note(state.name, state.url)
        return runtime

    async def reload(self, loaded: configmod.LoadedConfig, rules: RuleSet) -> list[str]:
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
        self._configure(settings, rules, Processor(rules, len(settings.source_records())))
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

    async def index(self) -> None:
        """The full-text index caught up with the articles stored since it last was (a
        transaction a batch: polls and deliveries go on between them)."""
        with self.tracked():
            try:
                while not self.closing and await self.store.index_articles():
                    pass
            except StorageError as e:
                event(log, logging.WARNING, "search index postponed", reason=str(e))

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
        """None when healthy, else the reasons, in words (for /healthz): what is paused or
        failing, a database that takes no writes, and work due that makes no progress."""
        reasons = self.faults.reasons()
        try:
            problem = await self.store.check_writable()
            if problem:
                reasons.append(problem)
            reasons += await self._stalled()
        except StorageError as e:
            reasons.append(f"{getattr(e, 'headline', 'database error')}: {e}")
        return "; ".join(dict.fromkeys(reasons)) or None

    def stall_after(self) -> float:
        return max(STALL_AFTER, 2 * self.settings.fetch.deadline)

    async def _stalled(self) -> list[str]:
        """Work due and no progress, whatever the cause: sources due this long and no poll
        completed in as long; alerts due this long and none sent in as long."""
        out = []
        now, clock, limit = self.now(), time.monotonic(), self.stall_after()
        due = await self.store.next_due()
        late = (now - due).total_seconds() if due is not None else 0.0
        if late > limit and clock - self.polled_at > limit:
            out.append(
                f"polling stalled: sources due for {late:.0f} s and no poll completed in "
                f"{clock - self.polled_at:.0f} s"
            )
        if self.metrics is not None:  # a daemon: delivering is its job
            oldest = await self.store.oldest_due_alert(now)
            waiting = (now - oldest).total_seconds() if oldest is not None else 0.0
            if waiting > limit and clock - self.sent_at > limit:
                out.append(
                    f"delivery stalled: an alert due for {waiting:.0f} s and none sent in "
                    f"{clock - self.sent_at:.0f} s"
                )
        return out

    async def render_metrics(self) -> bytes:
        """The metrics; the database's gauges as last read when it cannot be read now."""
        assert self.metrics is not None
        self.metrics.sources.set(len(self.sources))
        with contextlib.suppress(StorageError):
            counts = await self.store.alert_counts()
            self.metrics.pending.set(counts.get("pending", 0))
            self.metrics.failed.set(counts.get("failed", 0))
            states = await self.store.source_states()
            self.metrics.in_error.set(sum(1 for s in states if s.failures and not s.gone))
            due = await self.store.next_due()
            late = (self.now() - due).total_seconds() if due is not None else 0.0
            self.metrics.oldest_due.set(max(0.0, late))
        return self.metrics.render()

    def source(self, name: str) -> Source | None:
        """The configured source of this name (None: not configured here)."""
        return self._by_name.get(name)

    def channels_for(self, match: Match) -> list[str]:
        chosen = self.rules.channels_for(match.rule)
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
        except StorageUnavailable as e:  # a server away, a full disk: said once, for all
            self.faults.paused("polls", e)
            return PollOutcome(source.name, "error", error=f"storage: {e}", stored=False)
        except StorageError as e:
            event(log, logging.WARNING, "poll not stored", source=source.name, reason=str(e))
            return PollOutcome(source.name, "error", error=f"storage: {e}", stored=False)
        except Exception as e:
            log.exception(
                "poll crashed (a bug: please report it)", extra={"fields": {"source": source.name}}
            )
            return PollOutcome(source.name, "error", error=f"internal error: {type(e).__name__}")
        self.polled_at = time.monotonic()
        self.faults.resumed("polls")
        if self.metrics is not None:
            self.metrics.observe_poll(outcome)
        return outcome

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
                if "polls" in self.faults:
                    todo.clear()  # the database takes nothing now: the pass stops here

        width = min(len(live), self.settings.fetch.concurrency * 2)
        await asyncio.gather(*(worker() for _ in range(width)))
        await self.store.flush()
        return [results[s.name] for s in live if s.name in results]

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
                        self.rules.digest_rules,
                    )
                except StorageUnavailable as e:  # a server away, a full disk: alerts wait
                    self.faults.paused("deliveries", e)
                    return DispatchResult()
                except StorageError as e:
                    event(log, logging.WARNING, "deliveries paused", reason=str(e))
                    return DispatchResult()
                self.faults.resumed("deliveries")
                if result.sent:
                    self.sent_at = time.monotonic()
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
