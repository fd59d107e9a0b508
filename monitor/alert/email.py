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

import importlib
import re
import ssl
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Literal
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator

from monitor.alert import ChannelContext, ChannelKind, notice_line
from monitor.alert.render import digest_html, digest_text, digest_title, html_body, subject, text
from monitor.alert.view import thread_subject, view
from monitor.configbase import ChannelSettingsBase, Duration
from monitor.errors import network_failure
from monitor.models import Alert, Delivery, Notice


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


def build_message(
    alert: Alert, settings: EmailSettings, timezone: ZoneInfo | None = None
) -> EmailMessage:
    v = view(alert, timezone)
    msg = _headed(settings, f"alert{alert.id}", alert.created)
    threaded = alert.kind != "alert" and alert.thread_ref
    msg["Subject"] = thread_subject(v) if threaded else subject(v)
    if alert.kind != "alert" and alert.thread_ref:
        msg["In-Reply-To"] = alert.thread_ref
        msg["References"] = alert.thread_ref
    msg["X-Monitor-Alert"] = alert.idempotency_key
    msg.set_content(text(v) + "\n")
    msg.add_alternative(html_body(v), subtype="html")
    return msg


def _headed(settings: EmailSettings, idstring: str, date: datetime) -> EmailMessage:
    """A message with From, To, Date and a Message-ID in the sender's domain."""
    msg = EmailMessage()
    msg["From"] = settings.from_
    msg["To"] = ", ".join(settings.to)
    msg["Date"] = format_datetime(date)
    domain = settings.from_.rpartition("@")[2] or "monitor.invalid"
    msg["Message-ID"] = make_msgid(idstring=idstring, domain=domain)
    return msg


def build_digest(
    alerts: Sequence[Alert], settings: EmailSettings, timezone: ZoneInfo | None = None
) -> EmailMessage:
    msg = _headed(settings, f"digest{alerts[0].id}", alerts[-1].created)
    msg["Subject"] = digest_title(alerts)
    msg.set_content(digest_text(alerts, timezone) + "\n")
    msg.add_alternative(digest_html(alerts, timezone), subtype="html")
    return msg


def build_notice(notice: Notice, settings: EmailSettings) -> EmailMessage:
    msg = _headed(settings, f"notice{notice.id}", notice.created)
    msg["Subject"] = notice_line(notice)[:200]
    msg.set_content(f"{notice.message}\n")
    return msg


class EmailChannel:
    def __init__(
        self, name: str, settings: EmailSettings, timezone: ZoneInfo | None = None
    ) -> None:
        self.name = name
        self._settings = settings
        self._tz = timezone
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
        return await self._send(build_message(alert, self._settings, self._tz))

    async def send_digest(self, alerts: Sequence[Alert]) -> Delivery:
        return await self._send(build_digest(alerts, self._settings, self._tz))

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
        except (OSError, TimeoutError) as e:  # aiosmtplib's connect, disconnect, timeout too
            where = f"smtp://{self._host}:{self._port}"
            return Delivery(ok=False, retry=True, reason=f"smtp: {network_failure(e, where)}")
        except aiosmtplib.SMTPException as e:
            # the server lacks what the configuration asks of it ("The SMTP AUTH extension is
            # not supported by this server", SMTPUTF8): trying again will not help
            return Delivery(ok=False, reason=f"smtp: {e}")
        return Delivery(ok=True, reason="accepted", external_id=msg["Message-ID"])


def _build(name: str, settings: EmailSettings, context: ChannelContext) -> EmailChannel:
    return EmailChannel(name, settings, context.timezone)


KIND = ChannelKind("email", EmailSettings, _build)
