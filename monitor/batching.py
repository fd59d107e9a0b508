"""Batching of requests made at the same time (group commit).

A pass over a thousand feeds makes a thousand small lookups and writes at once; each one on
its own costs a round trip to the database thread (~0.1 ms of CPU, more than SQLite's own
work), and each document sent to a worker process costs a round trip through the process
pool. A ``Coalescer`` runs the first request at once and gathers the ones that arrive
meanwhile into batches, so the round trips are per batch, not per request, and a request
waits at most for the batches before it. Nothing is delayed on purpose.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

R = TypeVar("R")
T = TypeVar("T")


class Coalescer(Generic[R, T]):
    """``await submit(request)`` → its result from ``run(batch)``, which takes the requests
    in the order they came and returns one result for each. When ``run`` fails, every
    request of that batch fails with its error. A caller that stops waiting does not stop
    the batch: a write it took part in is written whole or not at all."""

    def __init__(
        self,
        run: Callable[[list[R]], Awaitable[Sequence[T]]],
        *,
        concurrency: int = 1,
        max_batch: int | None = None,
    ) -> None:
        """``concurrency``: batches run at once (one per worker process, say); ``max_batch``:
        requests in one batch at most (so that the batches in flight share the work)."""
        self._run = run
        self._queue: list[tuple[R, asyncio.Future[T]]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._concurrency = concurrency
        self._max_batch = max_batch

    async def submit(self, request: R) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((request, future))
        if len(self._tasks) < self._concurrency:
            self._tasks.add(asyncio.create_task(self._drain()))
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                take = len(self._queue) if self._max_batch is None else self._max_batch
                batch, self._queue = self._queue[:take], self._queue[take:]
                try:
                    results = await self._run([request for request, _ in batch])
                except BaseException as e:
                    for _, future in batch:
                        if not future.done():
                            if isinstance(e, asyncio.CancelledError):
                                future.cancel()
                            else:
                                future.set_exception(e)
                    if not isinstance(e, Exception):
                        raise
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            # at once, not in a done-callback: a request queued from now on starts a new drain
            self._tasks.discard(asyncio.current_task())  # type: ignore[arg-type,unused-ignore]
            if not self._tasks:  # the last one: nobody else will run what is left
                for _, future in self._queue:  # (only when cancelled)
                    future.cancel()
                self._queue = []

    async def wait(self) -> None:
        """Until every request made so far has been run."""
        while self._tasks:
            await asyncio.gather(*(asyncio.shield(t) for t in list(self._tasks)))
