"""Group commit: requests made while a batch is being written go together in the next one.

A pass over a thousand feeds makes a thousand small lookups and writes at once; each one on
its own costs a round trip to the database thread (~0.1 ms of CPU, more than SQLite's own
work). A ``Coalescer`` runs the first request at once and gathers the ones that arrive
meanwhile into one batch, so the round trips are per batch, not per request, and a request
waits at most for the batch before it. Nothing is delayed on purpose.
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

    def __init__(self, run: Callable[[list[R]], Awaitable[Sequence[T]]]) -> None:
        self._run = run
        self._queue: list[tuple[R, asyncio.Future[T]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, request: R) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((request, future))
        if self._task is None:
            self._task = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue, []
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
            self._task = None
            for _, future in self._queue:  # only when cancelled: nobody will run these
                future.cancel()
            self._queue = []

    async def wait(self) -> None:
        """Until every request made so far has been run."""
        while self._task is not None:
            await asyncio.shield(self._task)
