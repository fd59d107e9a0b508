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

from pydantic import Field, SecretStr, model_validator

from monitor.alert import (
    ChannelContext,
    ChannelKind,
    digest_text,
    digest_title,
    notice_title,
    render_text,
    subject,
)
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
    def __init__(self, name: str, settings: AppriseSettings) -> None:
        self.name = name
        self._settings = settings

    def __repr__(self) -> str:  # the URLs hold secrets
        return f"AppriseChannel(name={self.name!r}, urls='***')"

    async def send(self, alert: Alert) -> Delivery:
        return await self._notify(subject(alert), render_text(alert))

    async def send_digest(self, alerts: Sequence[Alert]) -> Delivery:
        return await self._notify(digest_title(alerts), digest_text(alerts))

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


def _build(name: str, settings: AppriseSettings, _context: ChannelContext) -> AppriseChannel:
    return AppriseChannel(name, settings)


KIND = ChannelKind("apprise", AppriseSettings, _build)
