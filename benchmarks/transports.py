"""HTTP transports on loopback: 1,000 GETs of a ~25 KB feed from nginx, 20 at a time.

Compares httpx's default transport, httpx on the aiohttp transport (httpx-aiohttp), httpx
requests sent to that transport without AsyncClient (what the fetcher does) and raw aiohttp,
printing wall and CPU seconds for each, so the fetcher's choice is made by figures.
Usage: python benchmarks/transports.py   (needs nginx, as `make bench` installs)
"""

from __future__ import annotations

import asyncio
import signal
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from benchmarks.feed_farm import start_nginx, write_feed

REQUESTS = 1000
CONCURRENCY = 20


async def run(get: Callable[[], Awaitable[int]]) -> tuple[float, float]:
    sem = asyncio.Semaphore(CONCURRENCY)

    async def one() -> int:
        async with sem:
            return await get()

    cpu, wall = time.process_time(), time.perf_counter()
    sizes = await asyncio.gather(*(one() for _ in range(REQUESTS)))
    assert all(sizes)
    return time.perf_counter() - wall, time.process_time() - cpu


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "www").mkdir()
        write_feed(work / "www" / "f.xml", 0, 0, 20, 1)
        nginx, port = start_nginx(work, work / "www")
        url = f"http://127.0.0.1:{port}/f.xml"
        try:
            limits = httpx.Limits(max_connections=CONCURRENCY)
            async with httpx.AsyncClient(limits=limits) as client:

                async def httpx_get() -> int:
                    return len((await client.get(url)).content)

                default = await run(httpx_get)
            async with httpx.AsyncClient(transport=AiohttpTransport(limits=limits)) as client:

                async def bridged_get() -> int:
                    return len((await client.get(url)).content)

                bridged = await run(bridged_get)
            # what the fetcher does: httpx.Request straight to the transport, no AsyncClient
            transport = AiohttpTransport(limits=limits)
            timeouts = {"connect": 10.0, "read": 20.0, "write": 20.0, "pool": 60.0}

            async def transport_get() -> int:
                request = httpx.Request("GET", url, extensions={"timeout": timeouts})
                resp = await transport.handle_async_request(request)
                try:
                    return len(b"".join([chunk async for chunk in resp.aiter_bytes()]))
                finally:
                    await resp.aclose()

            direct = await run(transport_get)
            await transport.aclose()
            async with aiohttp.ClientSession() as session:

                async def aiohttp_get() -> int:
                    async with session.get(url) as resp:
                        return len(await resp.read())

                raw = await run(aiohttp_get)
        finally:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(timeout=10)
    print(f"transports: {REQUESTS} GETs of a 25 KB feed, {CONCURRENCY} at a time, nginx loopback")
    for name, (wall, cpu) in [
        ("httpx default", default),
        ("httpx + aiohttp transport", bridged),
        ("httpx.Request → transport", direct),
        ("aiohttp", raw),
    ]:
        print(
            f"  {name:<27} wall {wall:5.2f} s  cpu {cpu:5.2f} s  "
            f"({cpu / REQUESTS * 1000:.2f} ms CPU a request)"
        )


if __name__ == "__main__":
    asyncio.run(main())
