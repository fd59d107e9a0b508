"""The desk's console over HTTP, as `monitor console` serves it from a database a pass filled:
pages that read (alerts filtered and searched, a story, sources, the rule tester, evaluation),
exports, verdicts and mutes that only the token may write, forms from another site refused,
and hostile text from the web shown as text on every page."""

from __future__ import annotations

import csv
import http.client
import io
import json
import re
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.cli import main
from tests.conftest import Feed, LocalServer, Response, free_port, make_config, start_monitor

TOKEN = "console-token-for-the-tests-0123"
CLASH = ("Regime forces and Hizbollah clash", "Regime forces clashed with Hizbollah at dawn.")
QUIET = ("Aid convoy reaches Qusayr", "A convoy of the Red Crescent reached Qusayr on Monday.")
#: markup as text (escaped in the feed: the title *says* "<script>…")
HOSTILE_TITLE = "&lt;script&gt;window.__pwned=1&lt;/script&gt; Regime forces clash with Hizbollah"
HOSTILE_BODY = (
    'Regime forces clashed with Hizbollah. <img src=x onerror="window.__pwned=2"> '
    '<a href="javascript:window.__pwned=3">details</a> ' + "filler " * 150_000  # ~1 MB of text
)


class Client:
    """HTTP to the console as a browser would speak it: cookies kept, redirects not followed."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str | list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent.setdefault("Origin", f"http://127.0.0.1:{self.port}")
        conn.request(method, path, body=body, headers=sent)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        for value in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";")[0]
        conn.close()
        return resp.status, {k.lower(): v for k, v in resp.headers.items()}, text

    def get(self, path: str, **headers: str) -> tuple[int, str]:
        status, _, text = self.request("GET", path, headers=headers)
        return status, text

    def post(self, path: str, form: dict[str, str | list[str]], **headers: str) -> int:
        return self.request("POST", path, form, headers)[0]

    def csrf(self, path: str = "/alerts") -> str:
        found = re.search(r'name="csrf" value="([0-9a-f]+)"', self.get(path)[1])
        assert found, "no form on the page"
        return found.group(1)


@pytest.fixture
def desk(
    tmp_path: Path, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Client, str]]:
    feed = Feed()
    for title, text in (CLASH, QUIET, (HOSTILE_TITLE, HOSTILE_BODY)):
        feed.add(title, text)
    server.route("/feed.xml", feed)
    server.route("/broken.xml", lambda r: Response(500, b"no"))
    monkeypatch.setenv("MONITOR_CONSOLE_TOKEN", TOKEN)
    config = make_config(
        tmp_path,
        sources=[
            {"name": "wire", "url": server.url("/feed.xml")},
            {"name": "broken", "url": server.url("/broken.xml")},
        ],
        console={"token": "${MONITOR_CONSOLE_TOKEN}"},
    )
    assert main(["--config", str(config), "once"]) == 0
    port = free_port()
    listen = f"127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "console", "--listen", listen],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    client = Client(port)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.get("/static/console.css")
            break
        except OSError:
            assert proc.poll() is None, proc.communicate()[1].decode()
            assert time.monotonic() < deadline, "the console did not start"
            time.sleep(0.1)
    try:
        yield client, str(config)
    finally:
        proc.terminate()
        err = proc.communicate(timeout=10)[1]  # its pipes read and closed
        sys.stderr.write(err.decode())


def _sign_in(client: Client) -> None:
    assert client.post("/login", {"token": TOKEN}) == 303


def test_reading_pages_filters_search_and_exports(desk: tuple[Client, str]):
    client, _ = desk
    status, page = client.get("/alerts")
    assert status == 200 and CLASH[0] in page
    assert client.get("/alerts?actor=Hezbollah")[1].count('class="card') == 2
    assert 'class="card' not in client.get("/alerts?actor=Iran")[1]
    # full-text search over stored articles: one that did not alert is found too
    found = client.get("/alerts?q=Crescent")[1]
    assert QUIET[0] in found and 'class="card' not in found
    assert client.get("/alerts?since=someday")[0] == 400

    status, headers, text = client.request("GET", "/alerts.csv?actor=Hezbollah")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert status == 200 and "attachment" in headers["content-disposition"]
    assert {r["headline"] for r in rows} >= {CLASH[0]} and len(rows) == 2
    exported = json.loads(client.get("/alerts.json?actor=Hezbollah")[1])
    assert [r["rule"] for r in exported] == ["infighting", "infighting"]

    [clash] = [r for r in exported if r["headline"] == CLASH[0]]
    story = client.get(f"/story/{clash['story_id']}")[1]
    assert CLASH[0] in story and "Reported by wire" in story
    assert "as fetched when it alerted" in story and CLASH[1] in story  # the evidence kept
    assert client.get("/story/99999")[0] == 404
    sources = client.get("/sources")[1]
    assert "failing" in sources and "http 500" in sources  # the broken one, and why


def test_a_source_is_previewed_before_it_is_added_to_the_configuration(
    desk: tuple[Client, str], server: LocalServer
):
    client, _ = desk
    _, _, page = client.request("POST", "/sources", {"url": server.url("/feed.xml")})
    assert "A <strong>feed</strong> with 3 entries" in page and QUIET[0] in page
    assert f"- {{name: source, url: &#34;{server.url('/feed.xml')}&#34;}}" in page
    _, _, failed = client.request("POST", "/sources", {"url": server.url("/broken.xml")})
    assert "http 500" in failed
    _, _, local = client.request("POST", "/sources", {"url": "/etc/passwd"})
    assert "http:// or https://" in local


def test_the_rule_tester_explains_a_pasted_text(desk: tuple[Client, str]):
    client, _ = desk
    status, _, page = client.request(
        "POST",
        "/tester",
        {"text": "Clash in Qusayr\nHizbollah fighters clashed with regime forces."},
    )
    assert status == 200 and "1 alert" in page and "infighting" in page
    _, _, quiet = client.request("POST", "/tester", {"text": "Calm\nA convoy reached Qusayr."})
    assert "0 alerts" in quiet and "why not" in quiet
    _, _, local = client.request("POST", "/tester", {"url": "file:///etc/passwd"})
    assert "http:// or https://" in local and "root:" not in local


def test_writes_need_the_token_and_a_form_of_this_console(desk: tuple[Client, str]):
    client, config = desk
    exported = json.loads(client.get("/alerts.json?actor=Hezbollah")[1])
    alert = str(exported[-1]["id"])
    form = {"alert": alert, "kind": "wrong", "reason": "a drill", "csrf": "x"}
    assert client.post("/verdict", form) == 403  # not signed in
    assert 'action="/verdict"' not in client.get("/alerts")[1]  # no verdict forms offered
    assert client.post("/login", {"token": "not-the-token-at-all"}) == 403
    _sign_in(client)
    csrf = client.csrf()
    assert client.post("/verdict", {**form, "csrf": "forged"}) == 403
    evil = {"Origin": "http://evil.example"}
    assert client.post("/verdict", {**form, "csrf": csrf}, **evil) == 403
    assert main(["--config", config, "verdicts", "--json"]) == 0  # nothing was written

    assert client.post("/verdict", {**form, "csrf": csrf}) == 303
    page = client.get("/alerts")[1]
    assert "Verdict: wrong" in page and "a drill" in page
    # an article that sent nothing, marked as a miss with who fights
    found = client.get("/alerts?q=Crescent")[1]
    article = re.search(r'name="article" value="(\d+)"', found)
    assert article is not None
    missed = {"article": article.group(1), "kind": "missed", "csrf": csrf}
    assert client.post("/verdict", {**missed, "actors": ["Hezbollah"]}) == 400
    assert client.post("/verdict", {**missed, "actors": ["Hezbollah", "Assad regime"]}) == 303
    evaluation = client.get("/evaluation")[1]
    assert "2 verdicts" in evaluation and "rule infighting: 1" in evaluation
    labels = json.loads(client.get("/labels.json")[1])
    assert {e["category"] for e in labels} == {"desk_wrong", "desk_missed"}
    # a script: the token as a bearer, no cookie and no form needed
    script = Client(client.port)
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert (
        script.post("/mute", {"kind": "source", "target": "wire", "period": "1h"}, **bearer) == 303
    )
    assert "source wire muted until" in client.get("/alerts")[1]


def test_hostile_text_from_the_web_stays_text_on_every_page(desk: tuple[Client, str]):
    client, _ = desk
    exported = json.loads(client.get("/alerts.json")[1])
    hostile = [r for r in exported if "<script>" in r["headline"]]
    assert hostile, "the hostile item alerted"
    pages = [
        "/alerts",
        "/alerts?q=filler",
        f"/story/{hostile[0]['story_id']}",
        "/sources",
        "/evaluation",
    ]
    for path in pages:
        status, page = client.get(path)
        assert status == 200, path
        assert "<script>window" not in page and "onerror=" not in page
        assert 'href="javascript:' not in page
    assert "&lt;script&gt;" in client.get("/alerts")[1]
    _, _, text = client.request("GET", "/alerts.csv")
    assert all(
        not cell.startswith(("=", "+", "@"))
        for row in csv.reader(io.StringIO(text))
        for cell in row
    )


def test_a_console_off_loopback_needs_a_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    # by default a daemon listening on every address (a container's) serves no console there
    config = make_config(tmp_path, daemon={"listen": "0.0.0.0:9"})
    assert main(["--config", str(config), "check"]) == 0
    assert "console:" not in capsys.readouterr().out
    # asked for, it needs its token
    config = make_config(tmp_path, daemon={"listen": "0.0.0.0:9"}, console={"enabled": True})
    assert main(["--config", str(config), "check"]) == 1
    assert "the console would answer anyone" in capsys.readouterr().err
    port = free_port()
    code = main(["--config", str(config), "console", "--listen", f"0.0.0.0:{port}"])
    assert code == 2 and "set console.token" in capsys.readouterr().err


def test_the_daemon_serves_the_console_beside_its_health(tmp_path: Path, server: LocalServer):
    feed = Feed()
    feed.add(*CLASH)
    server.route("/feed.xml", feed)
    port = free_port()
    config = make_config(
        tmp_path,
        sources=[{"name": "wire", "url": server.url("/feed.xml"), "interval": "1s"}],
        daemon={"listen": f"127.0.0.1:{port}"},
    )
    proc = start_monitor(config, tmp_path / "daemon.log")
    client = Client(port)
    try:
        server.wait_for("/feed.xml", count=1, timeout=30)
        deadline = time.monotonic() + 30
        while CLASH[0] not in (page := _page(client, "/alerts")):
            assert time.monotonic() < deadline, page
            time.sleep(0.2)
        assert client.get("/healthz")[0] == 200
        assert "read-only" in page  # no token: no writes
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "Traceback" not in (tmp_path / "daemon.log").read_text()


def _page(client: Client, path: str) -> str:
    try:
        return client.get(path)[1]
    except OSError:
        return ""  # not listening yet


def test_a_proxied_request_needs_the_token_and_forms_return_only_here(desk: tuple[Client, str]):
    client, _ = desk
    # a reverse proxy in front of a loopback console may serve it to anyone: no open reading
    status, headers, _ = client.request(
        "GET", "/alerts", headers={"X-Forwarded-For": "203.0.113.9"}
    )
    assert status == 303 and headers["location"] == "/login"
    _sign_in(client)
    assert client.request("GET", "/alerts", headers={"X-Forwarded-For": "203.0.113.9"})[0] == 200
    csrf = client.csrf()
    mute = {"kind": "source", "target": "wire", "period": "1h", "csrf": csrf}
    for back in ("//evil.example/x", "/\\evil.example/x", "https://evil.example/"):
        status, headers, _ = client.request("POST", "/mute", {**mute, "back": back})
        assert status == 303 and headers["location"] == "/alerts", back
    status, headers, _ = client.request("POST", "/mute", {**mute, "back": "/sources"})
    assert headers["location"] == "/sources"
