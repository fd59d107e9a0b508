"""``monitor run``: the daemon's life. Wait for the database, take the instance lock, open
the runtime, claim and poll sources, deliver, maintain, answer on the endpoint; on
SIGINT/SIGTERM stop taking new work, let in-flight polls and deliveries finish for a grace
period, and close. SIGHUP (or ``POST /-/reload``) re-reads the configuration."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from monitor import config as configmod
from monitor.compiled import load_rules
from monitor.daemon.claims import Claims
from monitor.daemon.instance import InstanceLock
from monitor.daemon.runtime import (
    DELIVERY_EVERY,
    DELIVERY_LEASE,
    MAINTAIN_EVERY,
    Runtime,
    lease_seconds,
    node_name,
    utcnow,
)
from monitor.daemon.supervise import Supervisor
from monitor.errors import ConfigError, StartRefused, StorageError, StorageUnavailable
from monitor.logs import REPEAT_WINDOW, event, flush_repeats
from monitor.match.ruleset import RuleSet
from monitor.schedule import Scheduler
from monitor.store import Store, open_store, sources_hash

if TYPE_CHECKING:
    from aiohttp import web

    from monitor.daemon.endpoint import StatusServer

log = logging.getLogger("monitor.daemon")

#: the first maintenance (retention, compaction) this long after the start
MAINTAIN_FIRST = 60.0
#: the full-text index catches up with new articles this often (and before every search)
INDEX_EVERY = 60.0


async def run_forever(
    loaded: configmod.LoadedConfig,
    rules: RuleSet,
    stop: asyncio.Event | None = None,
    grace: float | None = None,
    now: Callable[[], datetime] = utcnow,
) -> None:
    """Run until ``stop`` is set or SIGINT/SIGTERM arrives; then stop cleanly. SIGHUP (or
    ``POST /-/reload``) re-reads the configuration. One daemon per SQLite database
    (``daemon.instance``): a second one raises ``AlreadyRunning`` naming the first; a port
    of ``daemon.listen`` that another process holds, ``StartRefused``. ``now``: the wall
    clock the schedule reads (a test's, to step it)."""
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
        await _serve(loaded, rules, stop, grace, lock is not None, store, now)
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
                    await _listen(candidate, listen)
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
    rules: RuleSet,
    stop: asyncio.Event,
    grace: float,
    exclusive: bool = False,
    store: Store | None = None,
    now: Callable[[], datetime] = utcnow,
) -> None:
    """The daemon's life; ``exclusive``: no other daemon uses the database (SQLite's lock);
    ``store``: the store, already open (a server database the daemon waited for). Every
    loop and job runs under the supervisor (``daemon.supervise``)."""
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
    runtime = await Runtime.open(loaded, rules, now=now, node=node, store=store)
    from monitor.daemon.metrics import Metrics  # here: only the daemon has an endpoint

    metrics = runtime.metrics = Metrics()
    runtime.faults.on_restart = lambda part: metrics.restarts.labels(part).inc()
    scheduler = Scheduler()
    settings = loaded.settings
    claims = Claims(runtime, scheduler, node, lease_seconds(settings), exclusive)
    supervisor = Supervisor(runtime.faults, lambda: runtime.closing)
    reload = _reloader(runtime, claims)
    claims.follow = reload

    def on_hup() -> None:
        supervisor.spawn("reload", reload())

    server = None
    try:
        # the endpoint first, before any poll: a daemon whose port another process holds
        # refuses to start, rather than run with that process answering for it
        if settings.daemon.listen:
            server = await _start_server(runtime, scheduler, settings.daemon.listen, reload)
        # what this node held before a crash is free again now (alone on the database: what
        # anyone held; several nodes: what a node of this name held)
        await _patiently(lambda: runtime.store.release_claims(None if exclusive else node))
    except BaseException:
        if server is not None:
            await server.stop()
        await runtime.close()
        raise
    runtime.store.claim_as(node, DELIVERY_LEASE)
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    loop.add_signal_handler(signal.SIGHUP, on_hup)
    claiming: asyncio.Task[None] | None = None
    try:
        await _patiently(claims.plan_first_polls)
        # right away too: alerts left pending by a crash or restart go out first
        scheduler.add_periodic(
            "deliver", DELIVERY_EVERY, supervisor.job("deliver", runtime.deliver), first_after=0
        )
        scheduler.add_periodic(
            "maintain",
            MAINTAIN_EVERY,
            supervisor.job("maintain", runtime.maintain),
            MAINTAIN_FIRST,
        )
        scheduler.add_periodic(
            "index", INDEX_EVERY, supervisor.job("index", runtime.index), INDEX_EVERY
        )
        scheduler.add_periodic("logs", REPEAT_WINDOW, supervisor.job("logs", _say_repeats))
        scheduler.start()
        claiming = supervisor.loop("claims", claims.run)
        endpoint = settings.daemon.endpoint if server is not None else None
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
        with contextlib.suppress(StorageError):  # gone, not "alive" for another 30 s
            await runtime.store.forget_node(node)
        scheduler.shutdown()
        if server is not None:
            await server.stop()
        await runtime.close()
        flush_repeats()
        event(log, logging.INFO, "stopped")


async def _patiently(step: Callable[[], Awaitable[None]], tries: int = 10) -> None:
    """A start-up step on a database shared with other nodes, tried again while it is busy
    (a deadlock with another node's writes is resolved by PostgreSQL failing one side)."""
    for attempt in range(1, tries + 1):
        try:
            await step()
            return
        except StorageUnavailable as e:
            if attempt == tries or not e.headline.startswith("database busy"):
                raise
            event(log, logging.WARNING, "start-up step tried again: database busy", reason=str(e))
            await asyncio.sleep(0.2 * attempt)


async def _say_repeats() -> None:
    flush_repeats()


def _reloader(runtime: Runtime, claims: Claims) -> Callable[..., Awaitable[str | None]]:
    """What SIGHUP and ``POST /-/reload`` do, one at a time."""
    reloading = asyncio.Lock()

    async def reload(follow: str | None = None) -> str | None:
        """Re-read the configuration file; None when applied, else what is wrong with it
        (and the running configuration stays). ``follow``: the source list's fingerprint
        another node synced; the file is taken only if it lists the same sources."""
        async with reloading:
            try:
                new, new_rules = await asyncio.to_thread(load_rules, runtime.path)
            except ConfigError as e:
                problems = "\n".join(str(p) for p in e.problems)
                event(
                    log,
                    logging.ERROR,
                    "reload rejected, the running configuration stays",
                    problems=problems.replace("\n", "; "),
                )
                return problems
            if follow is not None and sources_hash(new.settings.source_records()) != follow:
                return "this node's configuration file lists other sources than the database"
            later = await runtime.reload(new, new_rules)
            await claims.plan_first_polls()  # new sources come due in the first minutes
            claims.wake(recheck=True)
            event(log, logging.INFO, "configuration reloaded", sources=len(runtime.sources))
            for note in later:
                event(log, logging.WARNING, "not reloaded", note=note)
            return None

    return reload


def _started(runtime: Runtime, claims: Claims, endpoint: str | None) -> str:
    """What happens next, in words: ``monitor running: 13 sources; first polls spread over
    the next 5 min (`monitor once` polls every source now); health on http://…/healthz``."""
    n = len(runtime.sources)
    line = f"monitor running: {n} source{'s' if n != 1 else ''}"
    if claims.first:
        span = max(0.0, (max(claims.first.values()) - runtime.now()).total_seconds())
        when = f"{span / 60:.0f} min" if span >= 90 else f"{span:.0f} s"
        once = _once_command(runtime.path)
        line += f"; first polls spread over the next {when} (`{once}` polls every source now)"
    line += f"; alerts to {', '.join(runtime.channels) or 'no channel'}"
    if endpoint:
        line += f"; health on {endpoint}/healthz"
        if runtime.settings.console_served():
            line += f"; the console on {endpoint}/"
    return line


def _once_command(config: Path) -> str:
    """``monitor once`` as this user can type it: the program as it was started (``make
    run``'s ``.venv/bin/monitor``, ``python -m monitor``), with ``--config`` when the file is
    not the one found by default."""
    prog = sys.argv[0] if sys.argv and sys.argv[0] else "monitor"
    if prog.endswith("__main__.py"):
        command = "python -m monitor"
    else:
        found = shutil.which("monitor")
        same = found is not None and os.path.realpath(found) == os.path.realpath(prog)
        command = "monitor" if same else prog
    if os.path.realpath(config) != os.path.realpath(configmod.resolve_path(None)):
        command += f" --config {config}"
    return f"{command} once"


async def _start_server(
    runtime: Runtime, scheduler: Scheduler, listen: str, reload: Callable[[], Awaitable[str | None]]
) -> StatusServer:
    """The health and metrics endpoint; ``StartRefused`` when its port cannot be had."""

    async def health() -> str | None:
        if not scheduler.running:
            return "the scheduler is not running"
        return await runtime.health()

    from monitor.daemon.endpoint import StatusServer  # aiohttp's server: only the daemon needs it

    refusal = runtime.settings.console_refusal(listen)
    if refusal:
        raise StartRefused(f"daemon.listen {listen}: {refusal}")
    extend = None
    if runtime.settings.console_served(listen):
        # (loaded before the event loop ran: ``cli._module_of``)
        from monitor.console.app import mount
        from monitor.console.context import Desk

        desk = Desk(
            runtime.store, lambda: runtime.settings, lambda: runtime.rules.engine(), runtime.now
        )

        def extend(app: web.Application) -> None:
            mount(app, desk, listen)

    server = StatusServer(listen, health, runtime.render_metrics, reload, extend)
    await _listen(server, listen)
    return server


async def _listen(server: StatusServer, listen: str) -> None:
    try:
        await server.start()
    except OSError as e:
        raise StartRefused(
            f"cannot listen on {listen} (daemon.listen): {e.strerror or e}; another process "
            f"holds it: stop that process, or give this daemon another port (or "
            f"daemon.listen: off)"
        ) from e


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
