"""The Slack channel: Block Kit messages through an incoming webhook or the Web API.

Configuration::

    desk-slack:
      type: slack
      url: ${SLACK_WEBHOOK_URL}        # an incoming webhook, or:
      token: ${SLACK_BOT_TOKEN}        # a bot token and a channel ID: follow-ups become
      channel: C0123456789             #   replies in the story's thread

Text from the web is escaped (``&``, ``<``, ``>``) so a feed cannot inject mentions or links,
and Slack's limits are met by trimming, never by failing: header 150 characters, section text
3,000, 50 blocks. 429 is retried after its Retry-After.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import SecretStr, field_validator, model_validator

from monitor.alert import ChannelContext, ChannelKind, notice_line
from monitor.alert.render import digest_title, subject
from monitor.alert.view import view
from monitor.configbase import ChannelSettingsBase, Duration, http_url
from monitor.errors import network_failure
from monitor.models import Alert, Delivery, Notice
from monitor.parse.headers import parse_retry_after

if TYPE_CHECKING:
    import httpx  # the delivery client, loaded by whoever sends


class SlackSettings(ChannelSettingsBase):
    """Slack: an incoming webhook, or a bot token and channel (threads follow-ups)."""

    type: Literal["slack"]
    #: incoming-webhook URL (a secret: ``${SLACK_WEBHOOK_URL}``)
    url: SecretStr | None = None
    #: bot token (``xoxb-…``); with ``channel``, follow-ups become thread replies
    token: SecretStr | None = None
    channel: str | None = None
    #: Slack's Web API; changed only for tests
    api_url: str = "https://slack.com/api"
    timeout: Duration = 10.0

    _url = field_validator("url")(http_url)

    @model_validator(mode="after")
    def _one_way_in(self) -> SlackSettings:
        if self.token is None and self.url is None:
            raise ValueError("set 'url' (incoming webhook) or 'token' and 'channel' (bot)")
        if self.token is not None and not self.channel:
            raise ValueError("'token' needs 'channel' (the channel ID to post to)")
        return self


HEADER_LIMIT = 150
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
BLOCK_LIMIT = 50
TEXT_LIMIT = 3000  # the notification fallback text
_RETRY_ERRORS = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}


def escape(text: str) -> str:
    """Slack's three control characters; nothing else needs escaping in mrkdwn text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def trim(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _link(url: str, text: str) -> str:
    if not url.startswith(("http://", "https://")) or any(c in url for c in "<>| "):
        return f"*{escape(text)}*"
    return f"*<{url}|{escape(text).replace('|', '¦')}>*"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": trim(text, SECTION_LIMIT)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": trim(text, SECTION_LIMIT)}]}


def blocks(alert: Alert, tz: ZoneInfo | None = None) -> list[dict[str, Any]]:
    """Block Kit blocks for an alert, within Slack's limits: the parties as the header, the
    headline linked with outlet and time, the best evidence sentence once, then the facts."""
    v = view(alert, tz)
    head = f"{v.severity.upper()} · {v.parties}"
    out: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": trim(head, HEADER_LIMIT)}}
    ]
    if v.lead:
        out.append(_section(escape(v.lead)))
    out.append(_section(f"{_link(v.url, v.headline)}\n{escape(v.outlet)} · {v.time_line}"))
    if v.quote is not None:
        out.append(_section("> " + v.quote.marked(escape, "*", "*")))
    facts = [f"{label}: {value}" for label, value in v.listed()]
    facts.append(f"rule {v.rule} · score {v.score:g}")
    facts += list(v.notes)
    out.append(_context(escape(" · ".join(facts))))
    return out[:BLOCK_LIMIT]


def followup_text(alert: Alert, tz: ZoneInfo | None = None) -> str:
    """A follow-up or an edit notice as one line (in the story's thread when the bot posts)."""
    v = view(alert, tz)
    return trim(
        f"{escape(v.lead or 'Also reported.')} {escape(v.parties)} — {_link(v.url, v.headline)}"
        f" · {escape(v.outlet)} · {v.time_line}",
        TEXT_LIMIT,
    )


def digest_blocks(alerts: Sequence[Alert], tz: ZoneInfo | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": trim(digest_title(alerts), HEADER_LIMIT)},
        }
    ]
    shown = alerts[: BLOCK_LIMIT - 2]
    for a in shown:
        v = view(a, tz)
        out.append(
            _section(
                f"{_link(v.url, v.headline)}\n{escape(v.severity.upper())} · "
                f"{escape(v.parties)} · {escape(v.outlet)} · {v.time_line}"
            )
        )
    if len(alerts) > len(shown):
        out.append(_context(f"and {len(alerts) - len(shown)} more"))
    return out


class SlackChannel:
    def __init__(
        self,
        name: str,
        settings: SlackSettings,
        client: httpx.AsyncClient,
        timezone: ZoneInfo | None = None,
    ):
        self.name = name
        self._settings = settings
        self._client = client
        self._tz = timezone

    def __repr__(self) -> str:  # the URL and token are secrets
        return f"SlackChannel(name={self.name!r}, url='***', token='***')"

    def payload(self, alert: Alert) -> dict[str, Any]:
        if alert.kind in ("followup", "edit"):
            body: dict[str, Any] = {"text": followup_text(alert, self._tz)}
            if self._settings.token is not None and alert.thread_ref:
                body["thread_ts"] = alert.thread_ref
            return body
        text = trim(escape(subject(view(alert, self._tz))), TEXT_LIMIT)
        return {"text": text, "blocks": blocks(alert, self._tz)}

    async def send(self, alert: Alert) -> Delivery:
        return await self._post(self.payload(alert))

    async def send_digest(self, alerts: Sequence[Alert]) -> Delivery:
        text = trim(escape(digest_title(alerts)), TEXT_LIMIT)
        return await self._post({"text": text, "blocks": digest_blocks(alerts, self._tz)})

    async def send_notice(self, notice: Notice) -> Delivery:
        text = trim(escape(notice_line(notice)), TEXT_LIMIT)
        return await self._post({"text": text})

    async def _post(self, body: dict[str, Any]) -> Delivery:
        import httpx  # (loaded with the delivery client: only a sender pays for it)

        s = self._settings
        try:
            if s.token is not None:
                body["channel"] = s.channel
                resp = await self._client.post(
                    s.api_url.rstrip("/") + "/chat.postMessage",
                    json=body,
                    headers={"Authorization": f"Bearer {s.token.get_secret_value()}"},
                    timeout=s.timeout,
                )
            else:
                assert s.url is not None
                resp = await self._client.post(
                    s.url.get_secret_value(), json=body, timeout=s.timeout
                )
        except httpx.HTTPError as e:  # the reason names host and port, never the secret path
            url = s.api_url if s.token is not None else s.url.get_secret_value()  # type: ignore[union-attr]
            return Delivery(ok=False, retry=True, reason=network_failure(e, url))
        return _outcome(resp, api=s.token is not None)


def _outcome(resp: httpx.Response, api: bool) -> Delivery:
    retry_after = parse_retry_after(resp.headers.get("retry-after"))
    if resp.status_code == 429 or resp.status_code >= 500:
        return Delivery(
            ok=False, retry=True, reason=f"http {resp.status_code}", retry_after=retry_after
        )
    if resp.status_code >= 400:
        return Delivery(ok=False, reason=f"http {resp.status_code}: {resp.text[:100]}")
    if not api:
        return Delivery(ok=True, reason=f"http {resp.status_code}")
    try:
        data = resp.json()
    except ValueError:
        return Delivery(ok=False, retry=True, reason="slack answered with no JSON")
    if data.get("ok"):
        return Delivery(ok=True, reason="posted", external_id=data.get("ts"))
    error = str(data.get("error", "unknown error"))
    return Delivery(
        ok=False, retry=error in _RETRY_ERRORS, reason=f"slack: {error}", retry_after=retry_after
    )


def _build(name: str, settings: SlackSettings, context: ChannelContext) -> SlackChannel:
    return SlackChannel(name, settings, context.http(), context.timezone)


KIND = ChannelKind("slack", SlackSettings, _build, http=True)
