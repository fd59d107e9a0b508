"""A misbehaving HTTP server on 127.0.0.1, written at the socket level so it can do what a
well-behaved framework would not: never answer, drip bytes, reset, lie about lengths."""

from __future__ import annotations

import asyncio
import gzip
import threading
from collections.abc import Awaitable, Callable

Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>ok</title>'
    b"<item><title>fine</title><guid>urn:fine</guid><description>calm</description></item>"
    b"</channel></rss>"
)


def response(status: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def read_request(reader: asyncio.StreamReader) -> dict[str, str]:
    raw = await reader.readuntil(b"\r\n\r\n")
    lines = raw.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
    return {"method": method, "path": path, **headers}


def send(data: bytes) -> Behaviour:
    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(data)
        await writer.drain()

    return run


async def never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    await asyncio.sleep(3600)


async def drips(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n<rss>")
    for _ in range(3600):
        await asyncio.sleep(1.0)  # one byte a second: each read succeeds, the whole never does
        writer.write(b" ")
        await writer.drain()


async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"x" * 65536
    for _ in range(100000):  # bounded: ~6.5 GB, far past any limit
        writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        await writer.drain()


async def resets(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    sock = writer.get_extra_info("socket")
    import socket
    import struct

    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def gzip_bomb(size: int = 200 * 1024 * 1024) -> Behaviour:
    body = gzip.compress(b"\0" * size, compresslevel=9)
    return send(
        response(
            "200 OK", body, {"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"}
        )
    )


def wants_user_agent(word: str) -> Behaviour:
    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        req = await read_request(reader)
        if word in req.get("user-agent", ""):
            writer.write(response("200 OK", RSS, {"Content-Type": "application/rss+xml"}))
        else:
            writer.write(response("403 Forbidden", b"no bots without a name"))
        await writer.drain()

    return run


class HostileServer:
    """Each path gets a behaviour; runs its own event loop in a thread."""

    def __init__(self, routes: dict[str, Behaviour]) -> None:
        self.routes = routes
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0)
        )
        self.port = self.server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            path = head.split(b" ", 2)[1].decode().split("?")[0]
            replay = asyncio.StreamReader()
            replay.feed_data(head)
            behaviour = self.routes.get(path, send(response("404 Not Found", b"")))
            await behaviour(replay, writer)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            writer.close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        async def shutdown() -> None:
            self.server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
