"""Every channel type, by the ``type:`` a configuration names it by.

A new channel is a module that declares its settings and ``KIND`` beside its code, and one line
in ``_MODULES`` below; ``config`` validates each configured channel with its kind's settings.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, TextIO

from monitor.alert import Channel, ChannelContext, ChannelKind

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    import httpx

#: each channel type's module (its ``KIND`` beside its code), imported when a configuration
#: names the type: reading alerts with a console channel never loads the HTTP client
_MODULES = {
    "console": "monitor.alert.console",
    "webhook": "monitor.alert.webhook",
    "slack": "monitor.alert.slack",
    "email": "monitor.alert.email",
    "apprise": "monitor.alert.apprise_notify",
}


class _Kinds(Mapping[str, ChannelKind]):
    """The channel kinds by type, each module imported on first use."""

    def __getitem__(self, name: str) -> ChannelKind:
        kind: ChannelKind = importlib.import_module(_MODULES[name]).KIND
        return kind

    def __iter__(self) -> Iterator[str]:
        return iter(_MODULES)

    def __len__(self) -> int:
        return len(_MODULES)


KINDS: Mapping[str, ChannelKind] = _Kinds()


def uses_http(settings: Mapping[str, Any]) -> bool:
    """Whether any of these channels needs the HTTP delivery client."""
    return any(KINDS[cfg.type].http for cfg in settings.values())


def build_channels(
    settings: Mapping[str, Any],
    client: httpx.AsyncClient | None,
    console: TextIO | None = None,
    timezone: ZoneInfo | None = None,
) -> dict[str, Channel]:
    """One channel object per configured channel, by name; ``client``: the HTTP delivery
    client (needed when ``uses_http``); ``console``: where the console channel prints
    (default standard output); ``timezone``: the desk's, shown beside UTC."""
    context = ChannelContext(client, console, timezone)
    return {name: KINDS[cfg.type].build(name, cfg, context) for name, cfg in settings.items()}
