"""Shared fixtures: a real HTTP server on 127.0.0.1, feed builders, configuration writers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
import yaml

#: the shared data (real articles, the development set, feeds and pages from the wild) lives
#: beside the repository, never copied into it: ``../shared`` (or ``$MONITOR_SHARED``)
SHARED = Path(os.environ.get("MONITOR_SHARED") or Path(__file__).resolve().parents[2] / "shared")

#: what a command keeps in the user's cache folder (compiled rules of a PostgreSQL desk) stays
#: in the test session's own, for every process the tests start
_CACHE = tempfile.TemporaryDirectory(prefix="monitor-test-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE.name


def need_shared(part: str) -> Path:
    """``SHARED / part``, for a test that reads it. Where it is missing (a fresh clone
    elsewhere) the test is skipped, saying what it needs; where it is expected
    (``MONITOR_REQUIRE_SHARED=1``, as CI sets it) the test fails instead, so that CI can never
    skip these tests silently."""
    path = SHARED / part
    if path.exists():
        return path
    why = (
        f"needs {path} (the team's shared articles and feeds, kept beside the repository as "
        f"../shared or named by $MONITOR_SHARED)"
    )
    if os.environ.get("MONITOR_REQUIRE_SHARED") == "1":
        pytest.fail(f"missing, and CI expects it: {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared data's folder, with its seeds (see ``need_shared``)."""
    need_shared("seeds/labels.json")
    return SHARED


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Response]


class LocalServer:
    """Serves registered routes on 127.0.0.1 and records every request it sees."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                req = Request(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                with server._lock:
                    server.requests.append(req)
                    handler = server.routes.get(path)
                resp = handler(req) if handler else Response(404, b"not found")
                self.send_response(resp.status)
                for k, v in resp.headers.items():
                    self.send_header(k, v)
                if "content-length" not in {k.lower() for k in resp.headers}:
                    self.send_header("Content-Length", str(len(resp.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(resp.body)

            do_GET = do_POST = do_HEAD = _handle

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path: str, handler: Handler | Response) -> None:
        with self._lock:
            self.routes[path] = handler if callable(handler) else (lambda _r, h=handler: h)

    def seen(self, path: str, method: str | None = None) -> list[Request]:
        with self._lock:
            return [
                r
                for r in self.requests
                if r.path.split("?", 1)[0] == path and (method is None or r.method == method)
            ]

    def wait_for(
        self, path: str, count: int = 1, timeout: float = 10.0, method: str | None = None
    ) -> list[Request]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.seen(path, method)
            if len(got) >= count:
                return got
            time.sleep(0.02)
        raise AssertionError(f"{path}: expected {count} requests, saw {len(self.seen(path))}")

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def server() -> Iterator[LocalServer]:
    s = LocalServer()
    yield s
    s.close()


@pytest.fixture
def hook(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """A webhook receiver on the local server: the JSON bodies it got, in order; its URL is
    in $TEST_HOOK_URL (channels: ``{type: webhook, url: "${TEST_HOOK_URL}"}``)."""
    received: list[dict[str, Any]] = []

    def receive(req: Request) -> Response:
        received.append(req.json())
        return Response(200, b"ok")

    server.route("/hook", receive)
    monkeypatch.setenv("TEST_HOOK_URL", server.url("/hook"))
    return received


def run_once(config: str | Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """`monitor once --json`: its report."""
    from monitor.cli import main

    assert main(["--config", str(config), "once", "--json"]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def _just_now() -> datetime:
    """When a test's feed item was published, unless it says: now (news, not old news)."""
    return datetime.now(UTC).replace(microsecond=0)


class Feed:
    """An RSS 2.0 feed served with an ETag that honours If-None-Match, items changeable."""

    def __init__(self, title: str = "Test desk") -> None:
        self.title = title
        self.items: list[dict[str, str]] = []
        self.version = 0
        self.bodies_served = 0

    def add(
        self,
        title: str,
        description: str,
        guid: str | None = None,
        link: str | None = None,
        published: datetime | None = None,
    ) -> None:
        self.items.insert(
            0,
            {
                "title": title,
                "description": description,
                "guid": guid or f"urn:test:{len(self.items) + 1}",
                "link": link or f"https://news.example/{len(self.items) + 1}",
                "pubDate": format_datetime(published or _just_now()),
            },
        )
        self.version += 1

    def xml(self) -> bytes:
        items = "".join(
            f"<item><title>{escape(i['title'])}</title><link>{escape(i['link'])}</link>"
            f"<guid>{escape(i['guid'])}</guid><pubDate>{i['pubDate']}</pubDate>"
            f"<description>{escape(i['description'])}</description></item>"
            for i in self.items
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{escape(self.title)}</title><link>https://news.example/</link>"
            f"<description>test</description>{items}</channel></rss>"
        ).encode()

    def __call__(self, req: Request) -> Response:
        etag = f'"v{self.version}"'
        if req.headers.get("if-none-match") == etag:
            return Response(304, b"", {"ETag": etag})
        self.bodies_served += 1
        return Response(200, self.xml(), {"Content-Type": "application/rss+xml", "ETag": etag})


ACTORS = {
    "Hezbollah": {
        "aliases": ["Hizbollah", "Hizballah"],
        "camp": "pro-Assad",
        "exclude": ["Turkish Hezbollah"],
    },
    "Assad regime": {
        "aliases": ["Syrian regime", "regime forces", "forces loyal to Assad"],
        "camp": "pro-Assad",
    },
    "Iran": {
        "aliases": ["IRGC"],
        "forms": ["Iranian", "Iran-backed"],
        "metonyms": ["Tehran"],
        "camp": "pro-Assad",
    },
    "Russia": {
        "aliases": ["Russian forces"],
        "forms": ["Russian", "Russian-backed"],
        "camp": "pro-Assad",
    },
    "HTS": {
        "aliases": ["Hayat Tahrir al-Sham", "Hay'at Tahrir al-Sham"],
        "camp": "armed-opposition",
    },
    "Islamic State": {"aliases": ["IS", "ISIS", "Daesh"]},
}
KEYWORDS = {
    "conflict": ["clash", "infighting", "rift", "fighting ... between", "turned * guns on"],
    "denial": ["denied", "no sign of"],
}


def make_config(
    tmp_path: Path,
    sources: list[dict[str, Any]] | None = None,
    channels: dict[str, Any] | None = None,
    rules: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> Path:
    """Write a configuration file in tmp_path and return its path."""
    storage = f"sqlite:///{tmp_path}/monitor.db"
    if os.environ.get("MONITOR_TEST_STORAGE") == "postgresql":  # the suite on PostgreSQL
        storage = postgres_cluster().database(f"t{abs(hash(str(tmp_path))) % 10**12}")
    data: dict[str, Any] = {
        "storage": {"url": storage},
        "fetch": {
            "allow_private": True,
            "connect_timeout": "2s",
            "read_timeout": "2s",
            "deadline": "5s",
            "min_interval": "1s",  # tests poll every second
        },
        "sources": sources or [],
        "actors": ACTORS,
        "keywords": KEYWORDS,
        "rules": rules
        or [
            {
                "name": "infighting",
                "any": ["conflict"],
                "min_actors": 2,
                "unless": ["denial"],
                "severity": "high",
            }
        ],
        "channels": channels or {"console": {"type": "console"}},
        # no endpoint unless a test asks for one: tests run side by side
        "daemon": {"listen": None},
    }
    data.update(extra)
    # a pass delivers what it found: follow-ups go out at once, each on its own (unless a
    # test asks otherwise)
    data["delivery"] = {"followup_wait": "0s", **(data.get("delivery") or {})}
    path = tmp_path / "monitor.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


_CLUSTER: list[Any] = []


def postgres_cluster() -> Any:
    """The session's throwaway PostgreSQL cluster (``tests.pg``), started on first use and
    stopped when the tests end."""
    if not _CLUSTER:
        from tests.pg import Cluster

        _CLUSTER.append(Cluster())
    return _CLUSTER[0]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    while _CLUSTER:
        _CLUSTER.pop().stop()


def start_monitor(
    config: Path, log: Path, command: str = "run", **env: str
) -> subprocess.Popen[bytes]:
    """`monitor run` (or another ``command``) on this configuration as a real process, its
    log (standard error) in ``log``; ``env``: more environment (``MONITOR_NODE=…``)."""
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), command],
            stdout=subprocess.DEVNULL,
            stderr=out,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(url: str) -> tuple[int, str]:
    """GET ``url``: the status and the body, an error status included."""
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
