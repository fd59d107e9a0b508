"""Turns at a host shared by several processes (nodes on one database): the fetcher asks for
them, a store that several nodes share hands them out. Alone, so that neither needs the other."""

from __future__ import annotations

from typing import Protocol


class HostTurns(Protocol):
    """Politeness shared by several processes (nodes on one database): turns at a host."""

    async def take(
        self, host: str, limit: int, delay: float, hold: float
    ) -> tuple[str, float] | None:
        """A turn at ``host``: (its token, seconds to wait before the request starts), at
        least ``delay`` after the previous turn's start, held at most ``hold`` seconds;
        None: ``limit`` requests to the host are in flight already."""
        ...

    async def give_back(self, token: str) -> None:
        """The request is done: the turn no longer counts against the host's limit."""
        ...
