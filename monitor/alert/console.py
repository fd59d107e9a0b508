"""The console channel: prints a readable alert to standard output (source-health notices
to standard error).

Configuration: ``{type: console}``. Never fails.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Literal, TextIO
from zoneinfo import ZoneInfo

from monitor.alert import ChannelContext, ChannelKind, notice_line
from monitor.alert.render import digest_text, text
from monitor.alert.view import view
from monitor.configbase import ChannelSettingsBase
from monitor.models import Alert, Delivery, Notice


class ConsoleSettings(ChannelSettingsBase):
    type: Literal["console"]


class ConsoleChannel:
    def __init__(
        self, name: str, stream: TextIO | None = None, timezone: ZoneInfo | None = None
    ) -> None:
        self.name = name
        self.timezone = timezone
        #: standard output, or standard error when stdout carries a command's JSON
        self.stream = stream

    async def send(self, alert: Alert) -> Delivery:
        out = self.stream or sys.stdout
        print(text(view(alert, self.timezone)), file=out, flush=True)
        print(file=out, flush=True)
        return Delivery(ok=True, reason="printed")

    async def send_digest(self, alerts: Sequence[Alert]) -> Delivery:
        out = self.stream or sys.stdout
        print(digest_text(alerts, self.timezone), file=out, flush=True)
        print(file=out, flush=True)
        return Delivery(ok=True, reason="printed")

    async def send_notice(self, notice: Notice) -> Delivery:
        # operational, like a log line: standard error, so stdout stays the news (and JSON)
        print(notice_line(notice), file=sys.stderr, flush=True)
        return Delivery(ok=True, reason="printed")


def _build(name: str, _settings: ConsoleSettings, context: ChannelContext) -> ConsoleChannel:
    return ConsoleChannel(name, context.console, context.timezone)


KIND = ChannelKind("console", ConsoleSettings, _build)
