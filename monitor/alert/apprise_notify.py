"""The apprise channel: alerts to any service apprise supports (Telegram, Teams, Matrix, ...).

An optional extra (``pip install 'monitor[apprise]'``), imported only when it sends::

    team-chat:
      type: apprise
      urls: ["tgram://${TG_BOT_TOKEN}/${TG_CHAT_ID}"]

apprise reports only success or failure, so a failure is retried with backoff.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Sequence
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, model_validator

from monitor.alert import ChannelContext, ChannelKind, notice_title
from monitor.alert.render import digest_text, digest_title, subject, text
from monitor.alert.view import view
from monitor.configbase import ChannelSettingsBase, Duration
from monitor.models import Alert, Delivery, Notice


class AppriseSettings(ChannelSettingsBase):
    """Any of the services apprise knows (an optional extra: ``pip install monitor[apprise]``)."""

    type: Literal["apprise"]
    #: apprise URLs, e.g. ``tgram://${TG_TOKEN}/${TG_CHAT}`` (secrets: from the environment)
    urls: list[SecretStr] = Field(min_length=1)
    timeout: Duration = 30.0

    @model_validator(mode="after")
    def _installed(self) -> AppriseSettings:
        if importlib.util.find_spec("apprise") is None:
            raise ValueError(
                "the apprise channel needs the optional package: pip install 'monitor[apprise]'"
            )
        return self


class AppriseChannel:
    def __init__(
        self, name: str, settings: AppriseSettings, timezone: ZoneInfo | None = None
    ) -> None:
        self.name = name
        self._settings = settings
        self._tz = timezone

    def __repr__(self) -> str:  # the URLs hold secrets
        return f"AppriseChannel(name={self.name!r}, urls='***')"

    async def send(self, alert: Alert) -> Delivery:
        v = view(alert, self._tz)
        return await self._notify(subject(v), text(v))

    async def send_digest(self, alerts: Sequence[Alert]) -> Delivery:
        return await self._notify(digest_title(alerts), digest_text(alerts, self._tz))

    async def send_notice(self, notice: Notice) -> Delivery:
        return await self._notify(notice_title(notice), notice.message)

    async def _notify(self, title: str, body: str) -> Delivery:
        import apprise  # an optional extra: loaded only where a channel uses it

        notifier = apprise.Apprise()
        for url in self._settings.urls:
            notifier.add(url.get_secret_value())
        try:
            ok = await asyncio.wait_for(
                asyncio.to_thread(notifier.notify, body=body, title=title),
                timeout=self._settings.timeout,
            )
        except TimeoutError:
            return Delivery(ok=False, retry=True, reason="timeout")
        if ok:
            return Delivery(ok=True, reason="notified")
        return Delivery(ok=False, retry=True, reason="apprise: a service did not accept it")


def _build(name: str, settings: AppriseSettings, context: ChannelContext) -> AppriseChannel:
    return AppriseChannel(name, settings, context.timezone)


KIND = ChannelKind("apprise", AppriseSettings, _build)
