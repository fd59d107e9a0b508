"""Alert channels: a small Protocol, a registry by type name, and shared rendering.

A channel turns one ``Alert`` into one message and reports a ``Delivery`` (ok, retry later, or
a permanent failure, with a reason). Channel modules hold the only code that talks to the
outside world for alerts; objects that hold a secret have a redacted ``repr``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TextIO

import httpx

from monitor.models import Alert, Delivery, Notice, mark_span, match_to_dict


class Channel(Protocol):
    #: the configured name
    name: str

    async def send(self, alert: Alert) -> Delivery: ...

    async def send_digest(self, alerts: Sequence[Alert]) -> Delivery:
        """Several alerts as one message (digest rules, flood control)."""

    async def send_notice(self, notice: Notice) -> Delivery:
        """An operational message about a source's health."""


#: channel types that post over HTTP with the shared delivery client
HTTP_CHANNELS = frozenset({"webhook", "slack"})


def uses_http(settings: Mapping[str, Any]) -> bool:
    """Whether any of these channels needs the HTTP delivery client."""
    return any(cfg.type in HTTP_CHANNELS for cfg in settings.values())


def build_channels(
    settings: Mapping[str, Any], client: httpx.AsyncClient | None, console: TextIO | None = None
) -> dict[str, Channel]:
    """One channel object per configured channel, by name; ``client``: the HTTP delivery
    client (needed when ``uses_http``); ``console``: where the console channel prints
    (default standard output). Each kind's code is loaded when a channel of that kind is
    configured."""
    return {name: _channel(name, cfg, client, console) for name, cfg in settings.items()}


def _channel(
    name: str, cfg: Any, client: httpx.AsyncClient | None, console: TextIO | None
) -> Channel:
    if cfg.type == "console":
        from monitor.alert.console import ConsoleChannel

        return ConsoleChannel(name, console)
    if cfg.type == "email":
        from monitor.alert.email import EmailChannel

        return EmailChannel(name, cfg)
    if cfg.type == "apprise":
        return _apprise(name, cfg)
    assert client is not None, "an HTTP channel needs the delivery client"
    if cfg.type == "webhook":
        from monitor.alert.webhook import WebhookChannel

        return WebhookChannel(name, cfg, client)
    from monitor.alert.slack import SlackChannel

    return SlackChannel(name, cfg, client)


def _apprise(name: str, cfg: Any) -> Channel:
    from monitor.alert.apprise_notify import AppriseChannel  # an optional extra

    return AppriseChannel(name, cfg)


def alert_payload(alert: Alert) -> dict[str, Any]:
    """The documented JSON form of an alert (webhook body, ``monitor alerts --json``)."""
    m = alert.match
    return {
        "id": alert.id,
        "kind": alert.kind,
        "story": alert.story_id,
        "note": alert.note,
        "channel": alert.channel,
        "status": alert.status.value,
        "rule": m.rule,
        "severity": alert.severity,
        "score": m.score,
        "title": alert.article_title,
        "url": alert.article_url,
        "source": alert.source,
        "published": alert.published.isoformat() if alert.published else None,
        "created": alert.created.isoformat(),
        "actors": list(m.actor_names),
        "keywords": list(m.keywords),
        "snippet": m.snippet(),
        "explanation": match_to_dict(m, described=True),
    }


def published(alert: Alert) -> str:
    return alert.published.strftime("%Y-%m-%d %H:%M UTC") if alert.published else "date unknown"


def subject(alert: Alert, limit: int = 200) -> str:
    """One line naming severity, actors and title: an email subject, a notification text."""
    actors = ", ".join(alert.match.actor_names)
    title = (
        alert.story_title
        if alert.kind != "alert" and alert.story_title
        else (alert.article_title or "(untitled)")
    )
    line = f"[{alert.severity.upper()}] {actors}: {title}"
    if alert.kind == "escalation" and alert.note:
        line = f"[{alert.severity.upper()}] {alert.note}: {actors}: {title}"
    line = " ".join(line.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def notice_title(notice: Notice) -> str:
    """``[SOURCE FAILING] desk``: one line for a subject or a notification title."""
    return f"[source {notice.event}] {notice.source}"


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


def digest_title(alerts: Sequence[Alert]) -> str:
    rules = sorted({a.match.rule for a in alerts})
    return f"Digest: {len(alerts)} alerts ({', '.join(rules)})"


def digest_text(alerts: Sequence[Alert]) -> str:
    lines = [digest_title(alerts)]
    for a in alerts:
        lines.append(f"- {subject(a)}" + (f"\n  {a.article_url}" if a.article_url else ""))
    return "\n".join(lines)


def render_text(alert: Alert) -> str:
    """A readable plain-text alert (console, email's text part)."""
    m = alert.match
    lines = [
        f"[{alert.severity.upper()}] {m.rule}: {alert.article_title or '(untitled)'}",
        f"  source: {alert.source} · {published(alert)}",
    ]
    if alert.note:
        lines.insert(1, f"  {alert.note}" + (f": {alert.story_title}" if alert.story_title else ""))
    if alert.article_url:
        lines.append(f"  link:   {alert.article_url}")
    for a in m.actors:
        lines.append(f"  actor:  {a.actor} (as {', '.join(repr(f) for f in a.forms)})")
    lines.append(f"  words:  {', '.join(m.keywords)}")
    lines.extend(f"  who:    {c.describe()}" for c in m.clashes)
    for span in m.spans:
        lines.append(f"  {span.field} [{span.start}:{span.end}]: {mark_span(span, ('**', '**'))}")
    lines.extend(f"  note:   {n}" for n in m.notes)
    lines.append(f"  score:  {m.score}")
    return "\n".join(lines)
