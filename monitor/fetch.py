"""The fetcher: the only module that makes HTTP requests to sources.

One fetcher for the process, on one httpx transport (aiohttp's: its connection pool); requests
go to it as ``httpx.Request`` → ``httpx.Response`` (httpx's API without AsyncClient's
per-request machinery, which the fetcher does not need). Every fetch sends the stored
validators (ETag, Last-Modified), follows at most ``max_redirects`` redirects itself (http
and https only, noting whether they were all permanent), streams the body and stops at
``max_bytes`` counted after decompression (gzip, deflate, brotli), and gives up after
``deadline`` seconds whatever the server does. It is polite: at most ``per_host`` requests to
one host at a time and ``concurrency`` overall, ``host_delay`` (or robots.txt's Crawl-delay)
between requests to a host, robots.txt obeyed; with ``turns`` (nodes sharing a database), the
per-host limit and delay hold across the nodes, not only in this process. And careful: a URL
that comes from content (a redirect target, an article link) is never fetched when its host
resolves to a private, loopback, link-local, multicast or reserved address, unless
``allow_private`` says so.
Failures are ``FetchError`` with a short, stable reason; nothing a server does escapes as
another exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import random
import socket
import ssl
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextvars import ContextVar
from urllib.parse import urljoin, urlsplit

import aiohttp
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from httpx_aiohttp import AiohttpTransport
from protego import Protego

from monitor.errors import FetchError, causes, classify, where_of
from monitor.fetchsettings import FetchSettings
from monitor.logs import event
from monitor.models import FetchResult
from monitor.parse.headers import parse_retry_after
from monitor.turns import HostTurns

_REDIRECTS = {301, 302, 303, 307, 308}
_PERMANENT = {301, 308}
ROBOTS_TTL = 24 * 3600.0
MAX_CRAWL_DELAY = 60.0
ROBOTS_MAX_BYTES = 512 * 1024
#: seconds between two asks for a turn at a host that other nodes keep busy
TURN_RETRY = (0.05, 0.25)

log = logging.getLogger("monitor.fetch")


async def _give_back(turns: HostTurns, token: str) -> None:
    with contextlib.suppress(Exception):  # not given back: it ends by itself at its hold
        await turns.give_back(token)


class Fetcher:
    """Polite, bounded HTTP GETs. Use as ``async with Fetcher(settings) as f``."""

    def __init__(
        self,
        settings: FetchSettings,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: AbstractResolver | None = None,
    ) -> None:
        """``resolver``: how host names are resolved (default: the system's getaddrinfo, in
        a thread); the tests give one that asks their own DNS server."""
        self.settings = settings
        self._allowed = _allowed_networks(settings.allow_private)
        self._names = resolver
        limits = httpx.Limits(
            max_connections=settings.concurrency,
            max_keepalive_connections=min(settings.concurrency, 32),
        )
        if transport is None:
            # httpx's API on aiohttp's transport: ~0.2 ms CPU a request against ~1.5 ms for
            # httpx's own (benchmarks/transports.py)
            aiohttp_transport = AiohttpTransport(
                limits=limits, trust_env=False, verify=_trust(settings.ca_certificates)
            )
            if self._allowed is not True or resolver is not None:
                # our own aiohttp session: its resolver checks the addresses connected to
                ssl_context, keepalive = aiohttp_transport.ssl_context, limits.keepalive_expiry
                aiohttp_transport.client = lambda: self._session(ssl_context, keepalive)
            transport = aiohttp_transport
        # requests go to the transport itself, as httpx.Request → httpx.Response: the
        # fetcher follows redirects and applies every limit itself, and keeps cookies only
        # within one fetch (a cookie set by one hop goes with the next; sources share none), so
        # AsyncClient's per-request machinery (URL merging, cookie jar, auth and redirect
        # flows, hooks) would only cost time: ~0.1 ms of CPU a request, a third
        self.transport = transport
        self._headers = {
            "User-Agent": settings.user_agent,
            "Accept": "*/*",
            "Accept-Encoding": "gzip, deflate, br",
        }
        self._timeouts = {
            "connect": settings.connect_timeout,
            "read": settings.read_timeout,
            "write": settings.read_timeout,
            "pool": settings.deadline,
        }
        self._hosts: dict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(settings.per_host)
        )
        self._overall = asyncio.Semaphore(settings.concurrency)
        self._last_request: dict[str, float] = {}
        self._robots: dict[str, tuple[float, Protego | None]] = {}
        self._robots_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        #: politeness shared with other nodes (set by the daemon when its store is shared)
        self.turns: HostTurns | None = None
        self._turns_failed = -1e9

    def _session(
        self, ssl_context: ssl.SSLContext, keepalive: float | None
    ) -> aiohttp.ClientSession:
        """The aiohttp session under httpx, made at the first request (in the event loop).
        Every name it connects to goes through ``_GuardedResolver``, and is resolved for
        each connection (no DNS cache): what was checked is what is connected to."""
        connector = aiohttp.TCPConnector(
            limit=self.settings.concurrency,
            keepalive_timeout=keepalive if keepalive is not None else 15.0,
            ssl=ssl_context,
            resolver=_GuardedResolver(self._resolver(), self._allowed),
            use_dns_cache=False,
        )
        return aiohttp.ClientSession(connector=connector)

    def _resolver(self) -> AbstractResolver:
        if self._names is None:
            self._names = ThreadedResolver()
        return self._names

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.transport.aclose()
        if self._names is not None:  # the session does not close a resolver it was given
            await self._names.close()

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        user_agent: str | None = None,
        trusted: bool = True,
    ) -> FetchResult:
        """GET ``url``; a FetchResult, or FetchError with a short reason. ``trusted``: the URL
        was configured by the user (content-derived URLs and redirects are checked)."""
        started = time.monotonic()
        guard = _GUARDED.set(False)
        try:
            async with asyncio.timeout(self.settings.deadline):
                return await self._fetch(url, etag, last_modified, user_agent, trusted, started)
        except TimeoutError as e:
            raise FetchError("timeout", f"no complete answer in {self.settings.deadline:g}s") from e
        finally:
            _GUARDED.reset(guard)

    async def _fetch(
        self,
        url: str,
        etag: str | None,
        last_modified: str | None,
        user_agent: str | None,
        trusted: bool,
        started: float,
    ) -> FetchResult:
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if user_agent:
            headers["User-Agent"] = user_agent
        agent = user_agent or self.settings.user_agent
        permanent = True
        seen = {url}
        cookies = httpx.Cookies()
        for hop in range(self.settings.max_redirects + 1):
            _check_scheme(url)
            guarded = hop > 0 or not trusted
            if guarded:
                await self._check_address(url)
            # the resolver checks again each address connected to: a name cannot answer the
            # check above with one address and the connection with another (DNS rebinding)
            _GUARDED.set(guarded)  # this task's context: its own requests only
            delay = await self._robots_delay(url, agent)
            status, resp_headers, body = await self._get_once(url, headers, delay, cookies=cookies)
            if status in _REDIRECTS and "location" in resp_headers:
                target = urljoin(url, resp_headers["location"])
                permanent = permanent and status in _PERMANENT
                if target in seen:
                    raise FetchError("redirect loop", target)
                seen.add(target)
                url = target
                continue
            elapsed = time.monotonic() - started
            moved = permanent and len(seen) > 1
            if status == 304:
                return FetchResult(url, status, resp_headers, b"", True, moved, elapsed)
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
            return FetchResult(url, status, resp_headers, body, False, moved, elapsed)
        raise FetchError("too many redirects", f"more than {self.settings.max_redirects}")

    # -- politeness ------------------------------------------------------------------------

    async def _robots_delay(self, url: str, agent: str) -> float:
        """Obey robots.txt (FetchError if it refuses); the delay to keep for this host."""
        delay = self.settings.host_delay or 0.0
        if not self.settings.robots:
            return delay
        parts = urlsplit(url)
        if parts.path == "/robots.txt":
            return delay
        origin = f"{parts.scheme}://{parts.netloc}"
        rules = await self._robots_for(origin)
        if rules is None:
            return delay
        if not rules.can_fetch(url, agent):
            raise FetchError("refused by robots", f"{origin}/robots.txt disallows {parts.path}")
        crawl = rules.crawl_delay(agent)
        return max(delay, min(float(crawl), MAX_CRAWL_DELAY)) if crawl else delay

    async def _robots_for(self, origin: str) -> Protego | None:
        cached = self._robots.get(origin)
        if cached and time.monotonic() - cached[0] < ROBOTS_TTL:
            return cached[1]
        async with self._robots_locks[origin]:
            cached = self._robots.get(origin)
            if cached and time.monotonic() - cached[0] < ROBOTS_TTL:
                return cached[1]
            rules: Protego | None = None
            try:
                status, _h, body = await self._get_once(
                    origin + "/robots.txt", {}, 0.0, limit=ROBOTS_MAX_BYTES
                )
                if status == 200 and body:
                    rules = Protego.parse(body.decode("utf-8", errors="replace"))
            except FetchError:
                rules = None  # no robots.txt to be had: nothing is forbidden
            self._robots[origin] = (time.monotonic(), rules)
            return rules

    # -- safety ----------------------------------------------------------------------------

    async def _check_address(self, url: str) -> None:
        """Refuse a URL from content whose host is, or resolves to, an address not allowed:
        before anything is sent (a connection kept alive would not be resolved again)."""
        host = urlsplit(url).hostname or ""
        if self._allowed is True:
            return
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            try:
                infos = await self._resolver().resolve(host, 0, family=socket.AF_UNSPEC)
            except OSError as e:
                raise FetchError("dns", f"name not found ({host})") from e
            addresses = [info["host"] for info in infos]
        else:
            addresses = [str(literal)]
        for address in addresses:
            refusal = _refusal(host, address, self._allowed)
            if refusal:
                raise FetchError("private address", refusal)

    # -- one request -----------------------------------------------------------------------

    async def _get_once(
        self,
        url: str,
        headers: dict[str, str],
        delay: float,
        limit: int | None = None,
        cookies: httpx.Cookies | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """One GET; ``cookies``: those set earlier in this fetch's redirects, which this
        response may add to."""
        limit = limit or self.settings.max_bytes
        host = urlsplit(url).hostname or ""
        async with self._polite(host, delay):
            try:
                request = httpx.Request(
                    "GET",
                    url,
                    headers={**self._headers, **headers},
                    extensions={"timeout": self._timeouts},
                )
                if cookies:
                    cookies.set_cookie_header(request)
                resp = await self.transport.handle_async_request(request)
                async with contextlib.aclosing(resp):
                    resp_headers = {k.lower(): v for k, v in resp.headers.items()}
                    if cookies is not None and "set-cookie" in resp_headers:
                        cookies.extract_cookies(resp)
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
            except httpx.DecodingError as e:
                raise FetchError("bad encoding", str(e)) from e
            except httpx.InvalidURL as e:
                raise FetchError("bad url", f"{url}: {e}") from e
            except (httpx.HTTPError, aiohttp.ClientError, OSError) as e:
                # aiohttp errors the transport does not map (a garbage status line) arrive raw
                refused = [x for x in causes(e) if isinstance(x, PrivateAddressError)]
                if refused:
                    raise FetchError("private address", str(refused[0])) from e
                reason = classify(e)
                raise FetchError(reason, self._detail(reason, e, url)) from e

    @contextlib.asynccontextmanager
    async def _polite(self, host: str, delay: float) -> AsyncIterator[None]:
        """A request's turn at ``host``: this process's limits (overall, per host, the delay)
        and, with other nodes, the turn they share (``turns``)."""
        async with self._overall, self._hosts[host]:
            if delay:
                wait = self._last_request.get(host, -1e9) + delay - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            self._last_request[host] = time.monotonic()
            turns = self.turns  # (the daemon may change it meanwhile: give back where taken)
            token = await self._turn(turns, host, delay) if turns is not None else None
            try:
                yield
            finally:
                if turns is not None and token is not None:
                    await _give_back(turns, token)

    async def _turn(self, turns: HostTurns, host: str, delay: float) -> str | None:
        """Wait for a turn at ``host`` shared with the other nodes: its token. None when they
        cannot be asked (the database is away): this process's own limits then hold alone,
        as they do for a single node."""
        hold = self.settings.deadline + 5.0  # no fetch lasts longer
        while True:
            try:
                turn = await turns.take(host, self.settings.per_host, delay, hold)
            except Exception as e:  # the store's failure, whatever its driver raises
                if time.monotonic() - self._turns_failed > 60:
                    event(
                        log,
                        logging.WARNING,
                        "politeness across nodes unavailable; this node's limits hold alone",
                        host=host,
                        error=str(e) or type(e).__name__,
                    )
                self._turns_failed = time.monotonic()
                return None
            if turn is not None:
                token, wait = turn
                if wait > 0:
                    try:
                        await asyncio.sleep(wait)
                    except BaseException:  # the fetch's deadline: the turn goes back now
                        await _give_back(turns, token)
                        raise
                return token
            await asyncio.sleep(random.uniform(*TURN_RETRY))  # other nodes' requests in flight

    def _detail(self, reason: str, e: BaseException, url: str) -> str:
        """What a failure means, in the words of ``classify``'s reason: ``dns: name not found
        (news.example)``, ``timeout: connect after 10 s (host:443)``, ``connection refused
        (127.0.0.1:9)``; the library's own words only where there are none better."""
        host = urlsplit(url).hostname or ""
        where = where_of(url)
        if reason == "dns":
            return f"name not found ({host})"
        if reason in ("connection refused", "connection reset"):
            return where
        if reason == "timeout":
            names = {type(x).__name__ for x in causes(e)}
            if names & {"ConnectTimeout", "ServerTimeoutError"} and "ReadTimeout" not in names:
                return f"connect after {self.settings.connect_timeout:g} s ({where})"
            return f"no answer after {self.settings.read_timeout:g} s ({where})"
        if reason == "tls":
            ssl_errors = [x for x in causes(e) if isinstance(x, ssl.SSLError)]
            why = getattr(ssl_errors[0], "reason", None) if ssl_errors else None
            return f"{(why or str(e)).lower().replace('_', ' ')} ({where})"[:300]
        return f"{type(e).__name__}: {e}"[:300]


def _trust(ca_files: list[str]) -> ssl.SSLContext | bool:
    """Whom TLS trusts: certifi's authorities, and those of ``ca_files`` besides."""
    if not ca_files:
        return True
    context = httpx.create_ssl_context(trust_env=False)
    for file in ca_files:
        context.load_verify_locations(cafile=file)
    return context


#: set while a URL that came from content (or a redirect) is fetched, in that fetch's task
_GUARDED: ContextVar[bool] = ContextVar("monitor_fetch_guarded", default=False)


class PrivateAddressError(OSError):
    """A name resolved, when connecting, to an address that URLs from content may not reach."""


class _GuardedResolver(AbstractResolver):
    """Resolves names with ``inner``; while a guarded fetch connects, refuses every answer
    holding an address not allowed (private, loopback, link-local, multicast, reserved)."""

    def __init__(self, inner: AbstractResolver, allowed: bool | list[_Network]) -> None:
        self._inner = inner
        self._allowed = allowed

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        infos = await self._inner.resolve(host, port, family)
        if _GUARDED.get():
            for info in infos:
                refusal = _refusal(host, info["host"], self._allowed)
                if refusal:
                    raise PrivateAddressError(refusal)
        return infos

    async def close(self) -> None:
        await self._inner.close()


def _refusal(host: str, address: str, allowed: bool | list[_Network]) -> str | None:
    """Why a URL from content may not be fetched from ``address``; None: it may."""
    ip = ipaddress.ip_address(address)
    if allowed is True or (ip.is_global and not ip.is_multicast):
        return None
    if allowed and any(ip in net for net in allowed):
        return None
    return f"{host} resolves to {ip}; not fetched from content"


_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _allowed_networks(setting: bool | list[str]) -> bool | list[_Network]:
    if isinstance(setting, bool):
        return setting
    return [ipaddress.ip_network(n, strict=False) for n in setting]


def _check_scheme(url: str) -> None:
    try:
        parts = urlsplit(url)
    except ValueError as e:
        raise FetchError("bad url", url) from e
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("bad url", f"only http and https URLs are fetched: {url}")


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
