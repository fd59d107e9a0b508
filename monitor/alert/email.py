"""The email channel: one multipart message (plain text and HTML) per alert, via aiosmtplib.

Configuration::

    desk-mail:
      type: email
      url: smtp://monitor@mail.example.org:587   # STARTTLS when offered; smtps:// for TLS
      password: ${SMTP_PASSWORD}
      from: monitor@example.org
      to: [desk@example.org]

Every piece of web text is HTML-escaped in the HTML part. The subject names severity, actors
and title; Date and Message-ID are set; follow-ups on a story carry In-Reply-To and References
pointing at the story's first message, so mail clients thread them. A server that is down or
answers 4xx is retried later; 5xx and refused logins are permanent failures with the reason.
"""

from __future__ import annotations

import html
import importlib
import re
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, field_validator

from monitor.alert import (
    ChannelContext,
    ChannelKind,
    digest_text,
    digest_title,
    notice_title,
    published,
    render_text,
    subject,
)
from monitor.configbase import ChannelSettingsBase, Duration
from monitor.models import Alert, Delivery, Notice, mark_span


class EmailSettings(ChannelSettingsBase):
    """Email through SMTP: ``smtp://user@host:587`` (STARTTLS) or ``smtps://user@host:465``."""

    type: Literal["email"]
    url: SecretStr
    #: the SMTP password: ``${SMTP_PASSWORD}``
    password: SecretStr | None = None
    from_: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    #: smtp:// only: true requires STARTTLS, false never uses it, unset uses it when offered
    starttls: bool | None = None
    #: verify the server's certificate; ``ca_file`` adds a trusted authority
    tls_verify: bool = True
    ca_file: str | None = None
    timeout: Duration = 30.0

    @field_validator("url")
    @classmethod
    def _smtp_url(cls, v: SecretStr) -> SecretStr:
        if not re.match(r"^smtps?://([^@/\s]+@)?[^/\s:]+(:\d+)?/?$", v.get_secret_value()):
            raise ValueError("expected smtp://[user@]host[:port] or smtps://[user@]host[:port]")
        return v


def build_message(alert: Alert, settings: EmailSettings) -> EmailMessage:
    msg = EmailMessage()
    title = subject(alert)
    msg["Subject"] = f"Re: {title}" if alert.kind != "alert" and alert.thread_ref else title
    msg["From"] = settings.from_
    msg["To"] = ", ".join(settings.to)
    msg["Date"] = format_datetime(alert.created)
    domain = settings.from_.rpartition("@")[2] or "monitor.invalid"
    msg["Message-ID"] = make_msgid(idstring=f"alert{alert.id}", domain=domain)
    if alert.kind != "alert" and alert.thread_ref:
        msg["In-Reply-To"] = alert.thread_ref
        msg["References"] = alert.thread_ref
    msg["X-Monitor-Alert"] = alert.idempotency_key
    msg.set_content(render_text(alert))
    msg.add_alternative(render_html(alert), subtype="html")
    return msg


def render_html(alert: Alert) -> str:
    e = html.escape
    m = alert.match
    url = alert.article_url if alert.article_url.startswith(("http://", "https://")) else ""
    title = e(alert.article_title or "(untitled)")
    parts = [f"<p><strong>[{e(alert.severity.upper())}] {e(m.rule)}</strong>"]
    if alert.note:
        parts.append(f" — {e(alert.note)}")
    parts.append("</p>")
    parts.append(f'<h2><a href="{e(url)}">{title}</a></h2>' if url else f"<h2>{title}</h2>")
    parts.append(f"<p>{e(alert.source)} · {e(published(alert))}</p><ul>")
    for a in m.actors:
        parts.append(f"<li><strong>{e(a.actor)}</strong> as {e(', '.join(a.forms))}</li>")
    parts.append(f"</ul><p>Keywords: {e(', '.join(m.keywords))}</p>")
    if m.clashes:
        parts.append("<p>Who fights whom:</p><ul>")
        parts.extend(f"<li>{e(c.describe())}</li>" for c in m.clashes)
        parts.append("</ul>")
    for span in m.spans:
        quoted = e(mark_span(span, ("\x01", "\x02"), limit=1000))
        quoted = quoted.replace("\x01", "<strong>").replace("\x02", "</strong>")
        parts.append(f"<blockquote>{quoted}</blockquote>")
    parts.append(f"<p><small>score {m.score}</small></p>")
    return "<!doctype html><html><body>" + "".join(parts) + "</body></html>"


def build_digest(alerts: Sequence[Alert], settings: EmailSettings) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = digest_title(alerts)
    msg["From"] = settings.from_
    msg["To"] = ", ".join(settings.to)
    msg["Date"] = format_datetime(alerts[-1].created)
    domain = settings.from_.rpartition("@")[2] or "monitor.invalid"
    msg["Message-ID"] = make_msgid(idstring=f"digest{alerts[0].id}", domain=domain)
    msg.set_content(digest_text(alerts))
    items = "".join(
        f"<li><strong>{html.escape(a.severity.upper())}</strong> "
        f"{html.escape(', '.join(a.match.actor_names))}: "
        + (
            f'<a href="{html.escape(a.article_url)}">{html.escape(a.article_title)}</a>'
            if a.article_url.startswith(("http://", "https://"))
            else html.escape(a.article_title)
        )
        + f" ({html.escape(a.source)})</li>"
        for a in alerts
    )
    msg.add_alternative(
        f"<!doctype html><html><body><h2>{html.escape(digest_title(alerts))}</h2>"
        f"<ul>{items}</ul></body></html>",
        subtype="html",
    )
    return msg


def build_notice(notice: Notice, settings: EmailSettings) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = f"{notice_title(notice)}: {notice.message}"[:200]
    msg["From"] = settings.from_
    msg["To"] = ", ".join(settings.to)
    msg["Date"] = format_datetime(notice.created)
    domain = settings.from_.rpartition("@")[2] or "monitor.invalid"
    msg["Message-ID"] = make_msgid(idstring=f"notice{notice.id}", domain=domain)
    msg.set_content(f"{notice_title(notice)}\n\n{notice.message}\n")
    return msg


class EmailChannel:
    def __init__(self, name: str, settings: EmailSettings) -> None:
        self.name = name
        self._settings = settings
        url = urlsplit(settings.url.get_secret_value())
        self._implicit_tls = url.scheme == "smtps"
        self._host = url.hostname or "localhost"
        self._port = url.port or (465 if self._implicit_tls else 587)
        self._user = unquote(url.username) if url.username else None
        # the SMTP client is loaded with the channel, not with the configuration that names it
        # (~50 ms), and not on the event loop at the first send
        importlib.import_module("aiosmtplib")

    def __repr__(self) -> str:
        return f"EmailChannel(name={self.name!r}, url='***', password='***')"

    def _tls_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self._settings.ca_file)
        if not self._settings.tls_verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    async def send(self, alert: Alert) -> Delivery:
        return await self._send(build_message(alert, self._settings))

    async def send_digest(self, alerts: Sequence[Alert]) -> Delivery:
        return await self._send(build_digest(alerts, self._settings))

    async def send_notice(self, notice: Notice) -> Delivery:
        return await self._send(build_notice(notice, self._settings))

    async def _send(self, msg: EmailMessage) -> Delivery:
        import aiosmtplib  # loaded when the channel was built (see ``__init__``)

        s = self._settings
        tls = self._implicit_tls or s.starttls is not False
        try:
            await aiosmtplib.send(
                msg,
                hostname=self._host,
                port=self._port,
                username=self._user,
                password=s.password.get_secret_value() if s.password else None,
                use_tls=self._implicit_tls,
                start_tls=None if self._implicit_tls else s.starttls,
                tls_context=self._tls_context() if tls else None,
                validate_certs=s.tls_verify,
                timeout=s.timeout,
            )
        except aiosmtplib.SMTPAuthenticationError as e:
            return Delivery(ok=False, reason=f"smtp login refused: {e.code}")
        except aiosmtplib.SMTPRecipientsRefused as e:
            return Delivery(ok=False, reason=f"recipients refused: {len(e.recipients)}")
        except aiosmtplib.SMTPResponseException as e:
            return Delivery(ok=False, retry=400 <= e.code < 500, reason=f"smtp {e.code}")
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
            return Delivery(ok=False, retry=True, reason=f"smtp unreachable: {type(e).__name__}")
        return Delivery(ok=True, reason="accepted", external_id=msg["Message-ID"])


def _build(name: str, settings: EmailSettings, _context: ChannelContext) -> EmailChannel:
    return EmailChannel(name, settings)


KIND = ChannelKind("email", EmailSettings, _build)
