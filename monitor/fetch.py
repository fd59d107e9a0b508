"""The fetcher: the only module that makes HTTP requests to sources.

One ``httpx.AsyncClient`` for the process. Every fetch sends the stored validators (ETag,
Last-Modified), follows at most ``max_redirects`` redirects itself (http and https only, noting
whether they were all permanent), streams the body and stops at ``max_bytes`` counted after
decompression, and gives up after ``deadline`` seconds whatever the server does. Failures are
``FetchError`` with a short, stable reason; nothing a server does escapes as another exception.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections import defaultdict
from urllib.parse import urljoin, urlsplit

import httpx
from httpx_aiohttp import AiohttpTransport

from monitor.config import FetchSettings
from monitor.errors import FetchError
from monitor.models import FetchResult
from monitor.parse.headers import parse_retry_after
from monitor.parse.urls import host_of

_REDIRECTS = {301, 302, 303, 307, 308}
_PERMANENT = {301, 308}


class Fetcher:
    """Polite, bounded HTTP GETs. Use as ``async with Fetcher(settings) as f``."""

    def __init__(self, settings: FetchSettings, transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        limits = httpx.Limits(
            max_connections=settings.concurrency,
            max_keepalive_connections=min(settings.concurrency, 32),
        )
        if transport is None:
            # httpx's API on aiohttp's transport: ~0.25 ms CPU a request against ~1.6 ms for
            # httpx's own (benchmarks/transports.py)
            transport = AiohttpTransport(limits=limits, trust_env=False)
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(
                connect=settings.connect_timeout,
                read=settings.read_timeout,
                write=settings.read_timeout,
                pool=settings.deadline,
            ),
            limits=limits,
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            follow_redirects=False,
            transport=transport,
        )
        self._hosts: dict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(settings.per_host)
        )
        self._overall = asyncio.Semaphore(settings.concurrency)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.client.aclose()

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET ``url``; a FetchResult, or FetchError with a short reason."""
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.settings.deadline):
                return await self._fetch(url, etag, last_modified, started)
        except TimeoutError as e:
            raise FetchError("timeout", f"no complete answer in {self.settings.deadline:g}s") from e

    async def _fetch(
        self, url: str, etag: str | None, last_modified: str | None, started: float
    ) -> FetchResult:
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        permanent = True
        seen = {url}
        for _hop in range(self.settings.max_redirects + 1):
            _check_scheme(url)
            status, resp_headers, body = await self._get_once(url, headers)
            if status in _REDIRECTS and "location" in resp_headers:
                target = urljoin(url, resp_headers["location"])
                permanent = permanent and status in _PERMANENT
                if target in seen:
                    raise FetchError("redirect loop", target)
                seen.add(target)
                url = target
                continue
            elapsed = time.monotonic() - started
            if status == 304:
                return FetchResult(
                    url, status, resp_headers, b"", True, permanent and len(seen) > 1, elapsed
                )
            if status in (429, 503):
                raise FetchError(
                    f"http {status}",
                    _reason(status),
                    retry_after=parse_retry_after(resp_headers.get("retry-after")),
                )
            if status >= 400:
                raise FetchError(f"http {status}", _reason(status))
            if status >= 300:
                raise FetchError(f"http {status}", "redirect without a Location header")
            return FetchResult(
                url, status, resp_headers, body, False, permanent and len(seen) > 1, elapsed
            )
        raise FetchError("too many redirects", f"more than {self.settings.max_redirects}")

    async def _get_once(
        self, url: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        limit = self.settings.max_bytes
        async with self._overall, self._hosts[host_of(url)]:
            try:
                async with self.client.stream("GET", url, headers=headers) as resp:
                    resp_headers = {k.lower(): v for k, v in resp.headers.items()}
                    if resp.status_code != 200:
                        return resp.status_code, resp_headers, b""
                    declared = resp_headers.get("content-length", "")
                    if (
                        declared.isdigit()
                        and int(declared) > limit
                        and "content-encoding" not in resp_headers
                    ):
                        raise FetchError("too large", f"Content-Length {declared} > {limit}")
                    chunks: list[bytes] = []
                    total = 0
                    async for chunk in resp.aiter_bytes():
                        total += len(chunk)
                        if total > limit:
                            raise FetchError("too large", f"body over {limit} bytes")
                        chunks.append(chunk)
                    return resp.status_code, resp_headers, b"".join(chunks)
            except FetchError:
                raise
            except (httpx.TimeoutException, httpx.ConnectError) as e:
                # httpx-aiohttp maps a refused connection to ConnectTimeout: trust the cause
                reason = _connect_reason(e)
                if reason == "connect error" and isinstance(e, httpx.TimeoutException):
                    reason = "timeout"
                raise FetchError(reason, str(e) or type(e).__name__) from e
            except httpx.DecodingError as e:
                raise FetchError("bad encoding", str(e)) from e
            except httpx.TooManyRedirects as e:
                raise FetchError("too many redirects", str(e)) from e
            except (httpx.RemoteProtocolError, httpx.LocalProtocolError) as e:
                raise FetchError("protocol error", str(e) or type(e).__name__) from e
            except httpx.HTTPError as e:
                raise FetchError("network error", f"{type(e).__name__}: {e}") from e
            except ssl.SSLError as e:
                raise FetchError("tls", str(e)) from e
            except OSError as e:
                raise FetchError("network error", f"{type(e).__name__}: {e}") from e


def _check_scheme(url: str) -> None:
    try:
        parts = urlsplit(url)
    except ValueError as e:
        raise FetchError("bad url", url) from e
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("bad url", f"only http and https URLs are fetched: {url}")


def _connect_reason(e: BaseException) -> str:
    """dns, tls, connection refused or connect error, from the whole cause chain."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [e]
    while todo:
        cur = todo.pop()
        if cur is None or cur in seen:
            continue
        seen.append(cur)
        todo += [cur.__cause__, cur.__context__, getattr(cur, "os_error", None)]
    for exc in seen:
        if isinstance(exc, ConnectionRefusedError):
            return "connection refused"
        if isinstance(exc, ssl.SSLError):
            return "tls"
        if isinstance(exc, socket.gaierror):
            return "dns"
    text = " ".join(str(x).lower() for x in seen)
    if "name or service" in text or "nodename" in text or "getaddrinfo" in text:
        return "dns"
    if "ssl" in text or "certificate" in text:
        return "tls"
    if "refused" in text:
        return "connection refused"
    return "connect error"


def _reason(status: int) -> str:
    try:
        from http import HTTPStatus

        return HTTPStatus(status).phrase
    except ValueError:
        return ""
