"""``monitor console``: the desk's console served from the database alone (no polling, no
delivery), for a desk whose daemons run elsewhere or not at all."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import TYPE_CHECKING

from aiohttp import web

from monitor.cli.common import EXIT_CONFIG, EXIT_OK, EXIT_PROBLEMS
from monitor.console.app import mount
from monitor.console.context import Desk

if TYPE_CHECKING:
    from monitor.config import LoadedConfig
    from monitor.match.engine import Engine


async def show(args: argparse.Namespace, loaded: LoadedConfig, engine: Engine | None) -> int:
    """Serve until SIGINT or SIGTERM."""
    from monitor.store import open_store

    settings = loaded.settings
    listen = args.listen or settings.console.listen
    refusal = settings.console_refusal(listen, asked=True)
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return EXIT_CONFIG
    store = await open_store(settings.storage.url, settings.storage.pool_size)
    app = web.Application()
    mount(app, Desk(store, lambda: settings, lambda: engine), listen)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    host, _, port = listen.rpartition(":")
    try:
        await web.TCPSite(runner, host.strip("[]"), int(port)).start()
    except OSError as e:
        await runner.cleanup()
        await store.close()
        print(f"error: cannot listen on {listen}: {e.strerror or e}", file=sys.stderr)
        return EXIT_PROBLEMS
    writes = "verdicts and mutes with its token" if settings.console.token else "read-only"
    print(f"console on http://{listen}/ ({writes}); Ctrl-C stops it", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await store.close()
    return EXIT_OK
