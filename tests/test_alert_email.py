"""Email through a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import contextlib
import email
import json
import ssl
import time
from collections.abc import Iterator
from email.message import Message
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from monitor.cli import main
from tests.conftest import Feed, LocalServer, Request, Response, free_port, make_config

HOSTILE = "<!channel> Hezbollah & regime <script>alert(1)</script> clash"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[dict[str, Any]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield {"inbox": inbox, "port": port}
    controller.stop()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def desk_sources(
    server: LocalServer, outlets: int = 1, feeds: list[Feed] | None = None
) -> list[dict[str, str]]:
    """Outlets carrying one hostile-titled clash (``feeds``: their feeds, to add to)."""
    sources = []
    for i in range(outlets):
        feed = Feed()
        if feeds is not None:
            feeds.append(feed)
        # entity-escaped in the feed, as publishers do: the title's text holds "<script>"
        feed.add(
            HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
            "Hezbollah fighters clashed with regime forces near Qusayr on Sunday, "
            "killing four, residents said. The road to Homs was closed for hours.",
        )
        server.route(f"/o{i}.xml", feed)
        sources.append({"name": f"outlet-{i}", "url": server.url(f"/o{i}.xml")})
    return sources


def mail_channel(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "mail": {
            "type": "email",
            "url": url,
            "from": "monitor@desk.example",
            "to": ["analyst@desk.example"],
            **extra,
        }
    }


def parts(msg: Message) -> dict[str, str]:
    return {
        p.get_content_type(): p.get_payload(decode=True).decode()  # type: ignore[union-attr]
        for p in msg.walk()
        if not p.is_multipart()
    }


def test_alert_mail_has_text_and_escaped_html(
    tmp_path: Path, server: LocalServer, smtp: dict[str, Any]
):
    config = make_config(
        tmp_path,
        sources=desk_sources(server),
        channels=mail_channel(f"smtp://127.0.0.1:{smtp['port']}", starttls=False),
    )
    assert main(["--config", str(config), "once"]) == 0
    [msg] = smtp["inbox"].messages
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["Subject"] == f"[HIGH] Hezbollah ⟷ Assad regime: clashed — {HOSTILE}"
    assert msg["From"] == "monitor@desk.example" and msg["To"] == "analyst@desk.example"
    assert msg["Date"] and msg["Message-ID"].endswith("@desk.example>")
    body = parts(msg)
    assert set(body) == {"text/plain", "text/html"}
    assert HOSTILE in body["text/plain"]
    assert "<script>" not in body["text/html"]
    assert (
        "&lt;!channel&gt; Hezbollah &amp; regime &lt;script&gt;alert(1)&lt;/script&gt; clash"
        in (body["text/html"])
    )
    assert "<strong>Hezbollah</strong> fighters <strong>clashed</strong>" in body["text/html"]
    assert smtp["inbox"].envelopes[0].rcpt_tos == ["analyst@desk.example"]


def test_follow_ups_thread_under_the_first_mail(
    tmp_path: Path, server: LocalServer, smtp: dict[str, Any]
):
    feeds: list[Feed] = []
    config = make_config(
        tmp_path,
        sources=desk_sources(server, outlets=3, feeds=feeds),
        channels=mail_channel(f"smtp://127.0.0.1:{smtp['port']}", starttls=False),
        delivery={"escalate_at": 3},
    )
    saved = [list(f.items) for f in feeds]
    for f in feeds:  # the outlets read once before the news (a first poll is a backlog)
        f.items.clear()
        f.version += 1
    assert main(["--config", str(config), "once"]) == 0
    for f, items in zip(feeds, saved, strict=True):
        f.items[:] = items
        f.version += 1
    assert main(["--config", str(config), "once"]) == 0
    first, *rest = smtp["inbox"].messages
    assert len(rest) == 2  # a follow-up, and the escalation that says who came third
    for msg in rest:
        assert msg["In-Reply-To"] == first["Message-ID"]
        assert msg["References"] == first["Message-ID"]
        # the first one's subject, so that clients threading by subject keep them together
        assert msg["Subject"] == f"Re: {first['Subject']}"
    bodies = [parts(m)["text/plain"] for m in rest]
    [escalation] = [b for b in bodies if b.startswith("[CRITICAL]")]
    assert "Now reported by 3 outlets" in escalation


@contextlib.contextmanager
def tls_server(ca: trustme.CA, tmp_path: Path, **options: Any) -> Iterator[dict[str, Any]]:
    """An SMTP server with a certificate from ``ca``; ``options`` go to aiosmtpd (pass
    ``tls_context`` for STARTTLS or ``ssl_context`` for implicit TLS: the value is ignored)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    options = {
        k: (context if k in ("tls_context", "ssl_context") else v) for k, v in options.items()
    }
    inbox, port = Inbox(), free_port()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield {"inbox": inbox, "port": port, "ca_file": str(ca_file)}
    finally:
        controller.stop()


def test_starttls_with_login(
    tmp_path: Path, server: LocalServer, ca: trustme.CA, monkeypatch: pytest.MonkeyPatch
):
    logins: list[tuple[str, str]] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=data.password == b"s3cret")

    monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
    with tls_server(
        ca,
        tmp_path,
        tls_context=True,
        require_starttls=True,
        auth_required=True,
        authenticator=authenticator,
    ) as smtp:
        url = f"smtp://desk%40example@127.0.0.1:{smtp['port']}"
        channel = mail_channel(
            url, password="${TEST_SMTP_PASSWORD}", starttls=True, ca_file=smtp["ca_file"]
        )
        config = make_config(tmp_path, sources=desk_sources(server), channels=channel)
        assert main(["--config", str(config), "once"]) == 0
    assert logins == [("desk@example", "s3cret")]
    assert len(smtp["inbox"].messages) == 1


def test_implicit_tls(tmp_path: Path, server: LocalServer, ca: trustme.CA):
    with tls_server(ca, tmp_path, ssl_context=True) as smtp:
        channel = mail_channel(f"smtps://127.0.0.1:{smtp['port']}", ca_file=smtp["ca_file"])
        config = make_config(tmp_path, sources=desk_sources(server), channels=channel)
        assert main(["--config", str(config), "once"]) == 0
    assert len(smtp["inbox"].messages) == 1


def test_mail_server_down_keeps_alert_pending_then_delivers_once(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    port = free_port()  # nothing listens here yet
    config = make_config(
        tmp_path,
        sources=desk_sources(server),
        channels=mail_channel(f"smtp://127.0.0.1:{port}", starttls=False),
        delivery={"retry_base": "50ms"},
    )
    assert main(["--config", str(config), "once", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["delivery"] == {
        "sent": 0,
        "retrying": 1,
        "failed": 0,
    }
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        time.sleep(0.2)  # past the first backoff (50 ms with jitter)
        assert main(["--config", str(config), "once"]) == 0
        assert main(["--config", str(config), "once"]) == 0
    finally:
        controller.stop()
    assert len(inbox.messages) == 1


def test_a_login_the_server_cannot_take_fails_at_once_with_its_words(
    tmp_path: Path, server: LocalServer, smtp: dict[str, Any], capsys: pytest.CaptureFixture[str]
):
    """A user and no TLS, on a server that offers no AUTH (README's example shape against a
    local relay): not a network error retried for a day, but a permanent failure saying why."""
    config = make_config(
        tmp_path,
        sources=desk_sources(server),
        channels=mail_channel(f"smtp://monitor@127.0.0.1:{smtp['port']}", starttls=False),
    )
    assert main(["--config", str(config), "once", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["delivery"] == {
        "sent": 0,
        "retrying": 0,
        "failed": 1,
    }
    assert main(["--config", str(config), "alerts", "--json"]) == 0
    [row] = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert row["status"] == "failed"
    assert "The SMTP AUTH extension is not supported by this server" in row["last_error"]
    assert smtp["inbox"].messages == []


def test_check_channels_sends_a_test_message_through_each_and_says_how_each_went(
    tmp_path: Path, server: LocalServer, smtp: dict[str, Any], capsys: pytest.CaptureFixture[str]
):
    got: list[Request] = []
    server.route("/hook", lambda r: (got.append(r), Response(204))[1])
    config = make_config(
        tmp_path,
        channels={
            "hook": {"type": "webhook", "url": server.url("/hook")},
            **mail_channel(f"smtp://127.0.0.1:{smtp['port']}", starttls=False),
            "needs-login": mail_channel(f"smtp://monitor@127.0.0.1:{smtp['port']}", starttls=False)[
                "mail"
            ],
        },
    )
    assert main(["--config", str(config), "check", "--channels"]) == 1
    out = capsys.readouterr().out
    assert "channel hook: sent" in out
    assert "channel mail: sent" in out
    assert "channel needs-login: FAILED (smtp: The SMTP AUTH extension is not supported" in out
    assert got[0].json()["kind"] == "source-health" and got[0].json()["event"] == "test"
    [mail] = smtp["inbox"].messages
    assert mail["Subject"].startswith("[TEST] monitor check: a test message to channel 'mail'")


def test_a_channel_that_fails_for_good_is_told_on_the_others_once_a_day(
    tmp_path: Path, server: LocalServer, smtp: dict[str, Any], capsys: pytest.CaptureFixture[str]
):
    got: list[dict[str, Any]] = []
    server.route("/hook", lambda r: (got.append(r.json()), Response(204))[1])
    feed = Feed()
    feed.add("Hizbollah and regime forces clash", "Regime forces clashed with Hizbollah.")
    server.route("/desk.xml", feed)
    config = make_config(
        tmp_path,
        sources=[{"name": "desk", "url": server.url("/desk.xml")}],
        channels={
            "hook": {"type": "webhook", "url": server.url("/hook")},
            "needs-login": mail_channel(f"smtp://monitor@127.0.0.1:{smtp['port']}", starttls=False)[
                "mail"
            ],
        },
    )
    assert main(["--config", str(config), "once"]) == 0
    notices = [b for b in got if b.get("kind") == "source-health"]
    assert [n["event"] for n in notices] == ["channel-failing"]
    assert notices[0]["message"].startswith(
        "channel needs-login cannot deliver (smtp: The SMTP AUTH extension is not supported"
    )
    # another alert fails on it the same way: the desk is not told again today
    feed.add("IRGC and Russian forces clash", "IRGC fighters clashed with Russian forces.")
    assert main(["--config", str(config), "once"]) == 0
    assert len([b for b in got if b.get("kind") == "source-health"]) == 1
    assert len([b for b in got if b.get("kind") != "source-health"]) == 2
