"""The fetcher against a real local server: validators, limits, redirects, errors."""

from __future__ import annotations

import gzip
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import trustme
from aiohttp import AsyncResolver

from monitor.config import FetchSettings
from monitor.errors import FetchError
from monitor.fetch import Fetcher
from tests.conftest import LocalServer, Request, Response
from tests.dns import DNSServer


@pytest.fixture
async def fetcher():
    f = Fetcher(
        FetchSettings(
            allow_private=True, max_bytes=10_000, deadline=3, read_timeout=2, max_redirects=3
        )
    )
    yield f
    await f.aclose()


async def test_sends_validators_and_understands_304(fetcher: Fetcher, server: LocalServer):
    server.route("/f", Response(304, b"", {"ETag": '"x"'}))
    result = await fetcher.fetch(server.url("/f"), etag='"x"', last_modified="Sun, 22 Nov 2026")
    assert result.not_modified and result.body == b""
    [req] = server.seen("/f")
    assert req.headers["if-none-match"] == '"x"'
    assert req.headers["if-modified-since"] == "Sun, 22 Nov 2026"
    assert req.headers["user-agent"].startswith("monitor/")


async def test_body_over_the_limit_is_refused(fetcher: Fetcher, server: LocalServer):
    server.route("/big", Response(200, b"x" * 20_000))
    with pytest.raises(FetchError) as e:
        await fetcher.fetch(server.url("/big"))
    assert e.value.reason == "too large"


async def test_gzip_bomb_stops_at_the_limit(fetcher: Fetcher, server: LocalServer):
    bomb = gzip.compress(b"\0" * 5_000_000)
    server.route("/bomb", Response(200, bomb, {"Content-Encoding": "gzip"}))
    with pytest.raises(FetchError) as e:
        await fetcher.fetch(server.url("/bomb"))
    assert e.value.reason == "too large"


async def test_permanent_redirect_is_reported(fetcher: Fetcher, server: LocalServer):
    server.route("/old", Response(301, b"", {"Location": "/new"}))
    server.route("/new", Response(200, b"<rss/>"))
    result = await fetcher.fetch(server.url("/old"))
    assert result.url == server.url("/new") and result.permanent_redirect


async def test_redirect_loop_and_bad_scheme(fetcher: Fetcher, server: LocalServer):
    server.route("/a", Response(302, b"", {"Location": "/b"}))
    server.route("/b", Response(302, b"", {"Location": "/a"}))
    with pytest.raises(FetchError) as e:
        await fetcher.fetch(server.url("/a"))
    assert e.value.reason == "redirect loop"
    server.route("/file", Response(302, b"", {"Location": "file:///etc/passwd"}))
    with pytest.raises(FetchError) as e:
        await fetcher.fetch(server.url("/file"))
    assert e.value.reason == "bad url"


async def test_retry_after_is_passed_on(fetcher: Fetcher, server: LocalServer):
    server.route("/busy", Response(429, b"", {"Retry-After": "120"}))
    with pytest.raises(FetchError) as e:
        await fetcher.fetch(server.url("/busy"))
    assert e.value.reason == "http 429" and e.value.retry_after == 120


async def test_connection_refused(fetcher: Fetcher):
    with pytest.raises(FetchError) as e:
        await fetcher.fetch("http://127.0.0.1:9/")
    assert e.value.reason == "connection refused"


async def test_brotli_bodies_are_decoded(fetcher: Fetcher, server: LocalServer):
    import brotli

    body = b"<rss>" + b"clash " * 500 + b"</rss>"
    server.route("/br", Response(200, brotli.compress(body), {"Content-Encoding": "br"}))
    result = await fetcher.fetch(server.url("/br"))
    assert result.body == body
    assert "br" in server.seen("/br")[0].headers["accept-encoding"]


async def test_per_source_user_agent_is_sent(fetcher: Fetcher, server: LocalServer):
    server.route("/ua", Response(200, b"<rss/>"))
    await fetcher.fetch(server.url("/ua"), user_agent="DeskBot/2.0")
    assert server.seen("/ua")[0].headers["user-agent"] == "DeskBot/2.0"


async def test_robots_crawl_delay_spaces_requests(server: LocalServer):
    server.route("/robots.txt", Response(200, b"User-agent: *\nCrawl-delay: 0.5\n"))
    server.route("/a", Response(200, b"<rss/>"))
    async with Fetcher(FetchSettings(allow_private=True)) as f:
        start = time.monotonic()
        for _ in range(3):
            await f.fetch(server.url("/a"))
        assert time.monotonic() - start >= 1.0  # two gaps of at least 0.5 s
    assert len(server.seen("/robots.txt")) == 1  # fetched once, cached


async def test_cookies_last_one_fetch(fetcher: Fetcher, server: LocalServer):
    """A cookie set on the way through a redirect goes with the next request (consent and
    bot checks do this); the next fetch starts without it: sources share no cookies."""
    server.route("/in", Response(302, b"", {"Location": "/feed", "Set-Cookie": "seen=1; Path=/"}))

    def feed(req: Request) -> Response:
        if "seen=1" not in req.headers.get("cookie", ""):
            return Response(403, b"no cookie")
        return Response(200, b"<rss/>")

    server.route("/feed", feed)
    assert (await fetcher.fetch(server.url("/in"))).body == b"<rss/>"
    with pytest.raises(FetchError) as e:
        await fetcher.fetch(server.url("/feed"))
    assert e.value.reason == "http 403"


@pytest.fixture
def dns() -> Iterator[DNSServer]:
    server = DNSServer({})
    yield server
    server.close()


async def test_a_name_that_rebinds_to_a_private_address_is_refused_when_connecting(
    server: LocalServer, dns: DNSServer
):
    """A link from content names a host whose DNS answers the check with a public address
    and the connection with 127.0.0.1 (DNS rebinding): the request never leaves."""
    server.route("/secret", Response(200, b"internal"))
    server.route(
        "/feed", Response(302, b"", {"Location": f"http://rebind.test:{server.port}/secret"})
    )
    dns.answers["rebind.test"] = ["93.184.216.34", "127.0.0.1"]
    names = AsyncResolver(nameservers=[dns.nameserver])
    async with Fetcher(FetchSettings(allow_private=False), resolver=names) as f:
        with pytest.raises(FetchError) as e:
            await f.fetch(f"http://rebind.test:{server.port}/secret", trusted=False)
        assert e.value.reason == "private address"
        assert "rebind.test resolves to 127.0.0.1" in str(e.value)
        # a redirect from a configured feed is a URL from content too
        dns.answers["rebind.test"] = ["93.184.216.34", "127.0.0.1"]
        with pytest.raises(FetchError) as e:
            await f.fetch(f"http://127.0.0.1:{server.port}/feed")
        assert e.value.reason == "private address"
    assert [r.path for r in server.requests] == ["/robots.txt", "/feed"]  # the configured host
    assert dns.queries.count(("rebind.test", 1)) >= 4  # checked, and resolved to connect


async def test_names_resolved_by_the_guarded_resolver_still_reach_allowed_hosts(
    server: LocalServer, dns: DNSServer
):
    server.route("/page", Response(200, b"<html><body>ok</body></html>"))
    dns.answers["desk.test"] = ["127.0.0.1"]
    names = AsyncResolver(nameservers=[dns.nameserver])
    async with Fetcher(FetchSettings(allow_private=["127.0.0.0/8"]), resolver=names) as f:
        result = await f.fetch(f"http://desk.test:{server.port}/page", trusted=False)
    assert result.body.endswith(b"ok</body></html>")
    assert server.seen("/page")


async def test_a_certificate_nobody_vouches_for_is_a_tls_failure(
    server: LocalServer, tmp_path: Path
):
    """An https source whose certificate no trusted authority signed fails with `tls`; the
    fetcher goes on (the next fetch, over http, works). Given its authority
    (``fetch.ca_certificates``: an internal CA, an intercepting proxy's), it is read."""

    class Feed(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "6")
            self.end_headers()
            self.wfile.write(b"<rss/>")

        def log_message(self, *args: object) -> None:
            pass

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca = trustme.CA()
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca.cert_pem.write_to_path(str(tmp_path / "desk-ca.pem"))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    server.route("/plain", Response(200, b"<rss/>"))
    try:
        async with Fetcher(FetchSettings(allow_private=True, robots=False)) as f:
            with pytest.raises(FetchError) as e:
                await f.fetch(f"https://127.0.0.1:{httpd.server_address[1]}/feed")
            assert e.value.reason == "tls"
            assert (await f.fetch(server.url("/plain"))).body == b"<rss/>"
        trusting = FetchSettings(
            allow_private=True, robots=False, ca_certificates=[str(tmp_path / "desk-ca.pem")]
        )
        async with Fetcher(trusting) as f:
            url = f"https://127.0.0.1:{httpd.server_address[1]}/feed"
            assert (await f.fetch(url)).body == b"<rss/>"
    finally:
        httpd.shutdown()
        httpd.server_close()


async def test_failures_are_named_in_words_that_say_what_happened(dns: DNSServer):
    """The source's error says what went wrong, not the library's exception: a name that
    does not resolve is not a timeout, a refused connection names where it was refused."""
    names = AsyncResolver(nameservers=[dns.nameserver])
    async with Fetcher(FetchSettings(allow_private=["127.0.0.0/8"]), resolver=names) as f:
        for trusted in (True, False):  # a configured source, and a link from content
            with pytest.raises(FetchError) as e:
                await f.fetch("http://nowhere.test/feed", trusted=trusted)
            assert str(e.value) == "dns: name not found (nowhere.test)"
    async with Fetcher(FetchSettings(allow_private=True)) as f:
        with pytest.raises(FetchError) as e:
            await f.fetch("http://127.0.0.1:9/feed")
        assert str(e.value) == "connection refused: 127.0.0.1:9"


async def test_a_server_that_never_answers_is_a_timeout_that_says_how_long():
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    port = listener.getsockname()[1]
    try:
        settings = FetchSettings(allow_private=True, read_timeout=0.5, deadline=5)
        async with Fetcher(settings) as f:
            with pytest.raises(FetchError) as e:
                await f.fetch(f"http://127.0.0.1:{port}/feed")
        assert str(e.value) == f"timeout: no answer after 0.5 s (127.0.0.1:{port})"
    finally:
        listener.close()
