"""Alert channels: a small Protocol, a registry by type name, and shared rendering.

A channel turns one ``Alert`` into one message and reports a ``Delivery`` (ok, retry later, or
a permanent failure, with a reason). Channel modules hold the only code that talks to the
outside world for alerts; objects that hold a secret have a redacted ``repr``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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


ChannelFactory = Callable[[str, Any, httpx.AsyncClient], Channel]


def build_channels(
    settings: Mapping[str, Any], client: httpx.AsyncClient, console: TextIO | None = None
) -> dict[str, Channel]:
    """One channel object per configured channel, by name; ``console``: where the console
    channel prints (default standard output)."""
    from monitor.alert.console import ConsoleChannel
    from monitor.alert.email import EmailChannel
    from monitor.alert.slack import SlackChannel
    from monitor.alert.webhook import WebhookChannel

    registry: dict[str, ChannelFactory] = {
        "console": lambda name, cfg, _client: ConsoleChannel(name, console),
        "webhook": lambda name, cfg, c: WebhookChannel(name, cfg, c),
        "slack": lambda name, cfg, c: SlackChannel(name, cfg, c),
        "email": lambda name, cfg, _client: EmailChannel(name, cfg),
        "apprise": lambda name, cfg, _client: _apprise(name, cfg),
    }
    return {name: registry[cfg.type](name, cfg, client) for name, cfg in settings.items()}


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
        "explanation": match_to_dict(m),
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
    for span in m.spans:
        lines.append(f"  {span.field} [{span.start}:{span.end}]: {mark_span(span, ('**', '**'))}")
    lines.extend(f"  note:   {n}" for n in m.notes)
    lines.append(f"  score:  {m.score}")
    return "\n".join(lines)
