"""The operator's endpoint, bound to 127.0.0.1 by default: ``GET /healthz`` (200, or 503 with
the reason), ``GET /metrics`` (Prometheus text format) and ``POST /-/reload`` (re-read the
configuration, as SIGHUP does; 200, or 400 with what is wrong).

The endpoint never lies and never fails loudly: a check that cannot be made is itself the
reason for a 503 (never a 500, never a traceback per request: an unexpected error is logged
once)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from monitor.daemon.metrics import CONTENT_TYPE
from monitor.logs import event

log = logging.getLogger("monitor.server")

#: None when healthy, else the reason
HealthCheck = Callable[[], Awaitable[str | None]]
#: None when reloaded, else what is wrong with the new configuration
Reload = Callable[[], Awaitable[str | None]]


class StatusServer:
    def __init__(
        self,
        listen: str,
        health: HealthCheck,
        metrics: Callable[[], Awaitable[bytes]],
        reload: Reload,
        extend: Callable[[web.Application], None] | None = None,
    ) -> None:
        """``extend``: more routes on the same server (the desk's console)."""
        host, _, port = listen.rpartition(":")
        self.host, self.port = host.strip("[]"), int(port)
        self._health, self._metrics, self._reload = health, metrics, reload
        self._extend = extend
        self._runner: web.AppRunner | None = None
        #: unexpected errors already logged (each once)
        self._said: set[str] = set()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._on_health)
        app.router.add_get("/metrics", self._on_metrics)
        app.router.add_post("/-/reload", self._on_reload)
        if self._extend is not None:
            self._extend(app)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        event(log, logging.INFO, "endpoint listening", url=f"http://{self.host}:{self.port}")

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _on_health(self, _request: web.Request) -> web.Response:
        try:
            problem = await self._health()
        except Exception as e:
            problem = self._unexpected("health check", e)
        if problem:
            return web.Response(status=503, text=f"unhealthy: {problem}\n")
        return web.Response(text="ok\n")

    async def _on_metrics(self, _request: web.Request) -> web.Response:
        try:
            body = await self._metrics()
        except Exception as e:
            return web.Response(status=503, text=f"{self._unexpected('metrics', e)}\n")
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    def _unexpected(self, what: str, e: Exception) -> str:
        """A check that failed unexpectedly: the reason, in one line; logged once."""
        reason = f"{what} failed: {type(e).__name__}: {e}"
        if reason not in self._said:
            self._said.add(reason)
            log.error(reason, exc_info=e)
        return reason

    async def _on_reload(self, _request: web.Request) -> web.Response:
        problem = await self._reload()
        if problem:
            return web.Response(status=400, text=f"configuration rejected:\n{problem}\n")
        return web.Response(text="reloaded\n")
