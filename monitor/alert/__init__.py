"""Alert channels: a small Protocol, what a channel type declares, and shared rendering.

A channel turns one ``Alert`` into one message and reports a ``Delivery`` (ok, retry later, or
a permanent failure, with a reason). Each channel type is a module that declares its settings
and a ``ChannelKind`` beside its code, listed in ``alert.registry``. Channel modules hold the
only code that talks to the outside world for alerts; objects that hold a secret have a
redacted ``repr``.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TextIO
from zoneinfo import ZoneInfo

from monitor.alert.view import parties_line
from monitor.models import Alert, Delivery, Notice, match_to_dict

if TYPE_CHECKING:
    import httpx

    from monitor.configbase import ChannelSettingsBase


class Channel(Protocol):
    #: the configured name
    name: str

    async def send(self, alert: Alert) -> Delivery: ...

    async def send_digest(self, alerts: Sequence[Alert]) -> Delivery:
        """Several alerts as one message (digest rules, flood control)."""

    async def send_notice(self, notice: Notice) -> Delivery:
        """An operational message about a source's health."""


@dataclass(frozen=True, slots=True)
class ChannelContext:
    """What building a channel may need besides its settings."""

    #: the shared HTTP delivery client (present when a kind with ``http`` is configured)
    client: httpx.AsyncClient | None = None
    #: where the console channel prints (default: standard output)
    console: TextIO | None = None
    #: the desk's timezone (``delivery.timezone``): alerts show their time in it beside UTC
    timezone: ZoneInfo | None = None

    def http(self) -> httpx.AsyncClient:
        assert self.client is not None, "an HTTP channel needs the delivery client"
        return self.client


@dataclass(frozen=True, slots=True)
class ChannelKind:
    """What a channel type declares beside its code, and ``alert.registry`` lists."""

    #: the ``type:`` a configuration names it by
    type: str
    #: its settings: a model whose ``type`` field is ``Literal["<type>"]``; secrets are
    #: ``SecretStr`` fields, never shown in logs, reprs or configuration errors
    settings: builtins.type[ChannelSettingsBase]  # (``type`` is the field above)
    #: makes one configured channel: (name, settings, context) → channel
    build: Callable[[str, Any, ChannelContext], Channel]
    #: it posts over HTTP with the shared delivery client
    http: bool = False


def alert_payload(alert: Alert) -> dict[str, Any]:
    """The documented JSON form of an alert as sent (the webhook body). ``monitor alerts
    --json`` adds how its delivery went (status, attempts, last error): a body on its way has no
    status worth telling (it was always "pending")."""
    m = alert.match
    return {
        "id": alert.id,
        "kind": alert.kind,
        "story": alert.story_id,
        "note": alert.note,
        "channel": alert.channel,
        "rule": m.rule,
        "severity": alert.severity,
        "score": m.score,
        "title": alert.article_title,
        "url": alert.article_url,
        "source": alert.source,
        "published": alert.published.isoformat() if alert.published else None,
        "created": alert.created.isoformat(),
        "actors": list(m.actor_names),
        "parties": parties_line(m),
        "keywords": list(m.keywords),
        "snippet": m.snippet(),
        "explanation": match_to_dict(m, described=True),
    }


def _tag(notice: Notice) -> str:
    if notice.event == "test":
        return "[TEST]"
    if notice.event == "channel-failing":
        return "[CHANNEL FAILING]"
    return f"[SOURCE {notice.event.upper()}]"


def notice_title(notice: Notice) -> str:
    """``[SOURCE FAILING] desk``: a notification's title (``[TEST] monitor check``)."""
    return f"{_tag(notice)} {notice.source}"


def notice_line(notice: Notice) -> str:
    """``[SOURCE FAILING] desk failed 5 polls in a row (…)``: the notice in one line (its
    message names the source)."""
    return f"{_tag(notice)} {notice.message}"


def notice_payload(notice: Notice) -> dict[str, Any]:
    """The documented JSON form of a source-health notice (webhook body)."""
    return {
        "kind": "source-health",
        "id": notice.id,
        "event": notice.event,
        "source": notice.source,
        "message": notice.message,
        "created": notice.created.isoformat(),
    }
