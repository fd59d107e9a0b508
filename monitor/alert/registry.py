"""Every channel type, by the ``type:`` a configuration names it by.

A new channel is a module that declares its settings and ``KIND`` beside its code, and one line
in ``KINDS`` below (or ``KINDS["name"] = KIND`` from a plug-in); ``config`` validates each
configured channel with its kind's settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

from monitor.alert import Channel, ChannelContext, ChannelKind
from monitor.lazyregistry import LazyRegistry

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    import httpx

#: each channel type's module (its ``KIND`` beside its code), imported when a configuration
#: names the type: reading alerts with a console channel never loads the HTTP client
KINDS: LazyRegistry[ChannelKind] = LazyRegistry(
    {
        "console": "monitor.alert.console",
        "webhook": "monitor.alert.webhook",
        "slack": "monitor.alert.slack",
        "email": "monitor.alert.email",
        "apprise": "monitor.alert.apprise_notify",
    }
)


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
