"""Nothing the daemon does in the background stops, or fails, without a word.

``Faults`` is what does not work now, by part ("polls", "deliveries", the name of a loop),
each said once when it starts and once when it ends (never once per attempt), and answered by
``/healthz`` as 503 with the reason. ``Supervisor`` runs the daemon's loops (claiming sources,
delivering, maintaining): an exception inside one is logged once with its cause, the loop is
started again after a backoff (1 s doubling to 30 s), a metric counts the restarts, and the
fault stands until the loop next gets through its work.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from monitor.errors import StorageUnavailable
from monitor.logs import event

log = logging.getLogger("monitor.daemon")

#: a failing loop is started again after this long at first, doubling up to ``MAX_BACKOFF``
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 30.0


@dataclass(slots=True)
class _Fault:
    reason: str
    since: float = field(default_factory=time.monotonic)
    #: times it happened again since it was said
    repeats: int = 0
    #: the database's headline, for a pause (None: a loop's failure)
    headline: str | None = None
    cause: BaseException | None = None


class Faults:
    """What does not work now, by part, each said once when it starts and once when it ends."""

    def __init__(self, on_restart: Callable[[str], None] | None = None) -> None:
        self._now: dict[str, _Fault] = {}
        #: told each time a loop fails (the restart metric)
        self.on_restart = on_restart
        #: say nothing (``monitor once`` ends with one line of its own instead)
        self.quiet = False

    def paused(self, part: str, e: StorageUnavailable) -> None:
        """``part`` waits for the database (a server away, a full disk): said once, as
        "database disk full (/path, 12 KB free): polls paused"."""
        known = self._now.get(part)
        if known is not None and known.headline == e.headline:
            known.repeats += 1
            return
        reason = f"{e.headline}: {part} paused"
        self._now[part] = _Fault(reason, headline=e.headline, cause=e)
        if not self.quiet:
            event(log, logging.ERROR, reason, reason=str(e))

    def failed(self, part: str, e: BaseException) -> None:
        """``part`` (a loop) raised: logged with its traceback the first time, counted after."""
        if self.on_restart is not None:
            self.on_restart(part)
        reason = f"{part} failed: {type(e).__name__}: {e}"
        known = self._now.get(part)
        if known is not None and known.reason == reason:
            known.repeats += 1
            return
        self._now[part] = _Fault(reason, cause=e)
        log.error(
            f"{part} failed and is restarted: {type(e).__name__}: {e}",
            exc_info=e,
            extra={"fields": {"loop": part}},
        )

    def resumed(self, part: str) -> None:
        """``part`` works again: said once, if it was said to fail."""
        known = self._now.pop(part, None)
        if known is None or self.quiet:
            return
        took = f"{time.monotonic() - known.since:.0f}"
        if known.headline is None:
            event(log, logging.INFO, f"{part} recovered", failures=known.repeats + 1, after_s=took)
        elif known.headline.startswith("database unreachable"):
            event(log, logging.INFO, f"database reachable again: {part} resume", after_s=took)
        else:
            event(
                log,
                logging.INFO,
                f"database writable again: {part} resume",
                was=known.headline,
                after_s=took,
            )

    def cause(self, part: str) -> BaseException | None:
        """What paused or failed ``part`` (None: it works)."""
        known = self._now.get(part)
        return known.cause if known is not None else None

    def reasons(self) -> list[str]:
        """What does not work now, in words, the oldest first."""
        return [f.reason for f in sorted(self._now.values(), key=lambda f: f.since)]

    def __contains__(self, part: str) -> bool:
        return part in self._now


class Supervisor:
    """Runs the daemon's loops and jobs so that none dies silently."""

    def __init__(self, faults: Faults, closing: Callable[[], bool]) -> None:
        self.faults = faults
        self._closing = closing
        self._tasks: set[asyncio.Task[None]] = set()

    def loop(self, name: str, body: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """Run ``body`` (a loop that returns when the daemon stops) for the daemon's life:
        started again with a backoff whenever it raises."""
        task = asyncio.ensure_future(self._forever(name, body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _forever(self, name: str, body: Callable[[], Awaitable[None]]) -> None:
        backoff = 0.0
        while not self._closing():
            try:
                await body()
                return
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.faults.failed(name, e)
            backoff = min(MAX_BACKOFF, backoff * 2 or FIRST_BACKOFF)
            await asyncio.sleep(backoff)

    def job(
        self, name: str, body: Callable[[], Awaitable[object]]
    ) -> Callable[[], Awaitable[None]]:
        """``body`` as a periodic job (run by the scheduler) that never raises: a failure is
        a fault of ``name`` until a run gets through."""

        async def run() -> None:
            try:
                await body()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.faults.failed(name, e)
            else:
                self.faults.resumed(name)

        return run

    def spawn(self, name: str, body: Awaitable[object]) -> asyncio.Task[None]:
        """A one-off task (a reload) whose failure is logged, never lost."""

        async def run() -> None:
            try:
                await body
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.error(
                    f"{name} failed: {type(e).__name__}: {e}",
                    exc_info=e,
                    extra={"fields": {"task": name}},
                )

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
