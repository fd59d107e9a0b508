"""The webhook channel: POSTs the alert as JSON (``alert.alert_payload``) to a URL.

Configuration::

    team-hook:
      type: webhook
      url: ${MONITOR_WEBHOOK_URL}     # a secret: from the environment, never logged
      timeout: 10s
      headers: {Authorization: "Bearer ${HOOK_TOKEN}"}

2xx is delivered. 429 and 5xx (and network errors) are retried later, honouring Retry-After;
other 4xx are permanent failures. Each request carries an ``Idempotency-Key`` that stays the
same across retries of one alert, and with ``secret: ${HOOK_SECRET}`` an
``X-Monitor-Signature: sha256=<hex>`` header, the HMAC-SHA256 of the exact body bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, SecretStr, field_validator

from monitor.alert import ChannelContext, ChannelKind, alert_payload, notice_payload
from monitor.configbase import ChannelSettingsBase, Duration, http_url
from monitor.errors import network_failure
from monitor.models import Alert, Delivery, Notice
from monitor.parse.headers import parse_retry_after

if TYPE_CHECKING:
    import httpx  # the delivery client, loaded by whoever sends


class WebhookSettings(ChannelSettingsBase):
    type: Literal["webhook"]
    #: where to POST; usually ``${VAR}`` because it is a secret
    url: SecretStr
    timeout: Duration = 10.0
    #: extra headers (for example an Authorization token from ``${VAR}``)
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    #: signs each body: ``X-Monitor-Signature: sha256=<hex HMAC-SHA256 of the body>``
    secret: SecretStr | None = None

    _url = field_validator("url")(http_url)


def sign(secret: SecretStr, body: bytes) -> str:
    """Hex HMAC-SHA256 of the body; receivers compare with ``hmac.compare_digest``."""
    return hmac.new(secret.get_secret_value().encode(), body, hashlib.sha256).hexdigest()


class WebhookChannel:
    def __init__(self, name: str, settings: WebhookSettings, client: httpx.AsyncClient):
        self.name = name
        self._settings = settings
        self._client = client

    def __repr__(self) -> str:  # the URL is a secret
        return f"WebhookChannel(name={self.name!r}, url='***')"

    async def send(self, alert: Alert) -> Delivery:
        return await self._post(alert_payload(alert), alert.idempotency_key)

    async def send_digest(self, alerts: Sequence[Alert]) -> Delivery:
        body = {
            "kind": "digest",
            "count": len(alerts),
            "alerts": [alert_payload(a) for a in alerts],
        }
        return await self._post(
            body, "digest-" + "-".join(a.idempotency_key for a in alerts[:1]) + f"-{len(alerts)}"
        )

    async def send_notice(self, notice: Notice) -> Delivery:
        return await self._post(notice_payload(notice), notice.idempotency_key)

    async def _post(self, payload: dict[str, Any], key: str) -> Delivery:
        import httpx  # (loaded with the delivery client: only a sender pays for it)

        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        if self._settings.secret is not None:
            headers["X-Monitor-Signature"] = "sha256=" + sign(self._settings.secret, body)
        headers.update({k: v.get_secret_value() for k, v in self._settings.headers.items()})
        try:
            resp = await self._client.post(
                self._settings.url.get_secret_value(),
                content=body,
                headers=headers,
                timeout=self._settings.timeout,
                follow_redirects=False,
            )
        except httpx.HTTPError as e:  # the reason names host and port, never the secret path
            reason = network_failure(e, self._settings.url.get_secret_value())
            return Delivery(ok=False, retry=True, reason=reason)
        if 200 <= resp.status_code < 300:
            return Delivery(ok=True, reason=f"http {resp.status_code}")
        retry = resp.status_code in (408, 425, 429) or resp.status_code >= 500
        return Delivery(
            ok=False,
            retry=retry,
            reason=f"http {resp.status_code}",
            retry_after=parse_retry_after(resp.headers.get("retry-after")),
        )


def _build(name: str, settings: WebhookSettings, context: ChannelContext) -> WebhookChannel:
    return WebhookChannel(name, settings, context.http())


KIND = ChannelKind("webhook", WebhookSettings, _build, http=True)
