"""Webhook alerts: a signed JSON POST with httpx.

Signature scheme (when the channel has a secret):
    X-Newsmon-Timestamp: <unix seconds>
    X-Newsmon-Signature: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{raw body}")>
Receivers should recompute it, compare in constant time, and reject old
timestamps. X-Newsmon-Delivery carries the alert id: the same id may arrive
twice only if newsmon crashed between sending and recording, so receivers
can dedupe on it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx

from monitor import __version__
from monitor.channels.base import AlertMessage, Channel
from monitor.config import WebhookChannelConfig
from monitor.errors import DeliveryError

RETRYABLE_STATUS = {408, 425, 429}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


class WebhookChannel(Channel):
    def __init__(self, name: str, config: WebhookChannelConfig, transport: httpx.BaseTransport | None = None):
        super().__init__(name)
        self.config = config
        self._transport = transport
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=self.config.timeout, follow_redirects=False,
                                        transport=self._transport,
                                        headers={"User-Agent": f"newsmon/{__version__} webhook"})
        return self._client

    def request_for(self, message: AlertMessage) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(message.as_payload(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        timestamp = str(int(time.time()))
        headers = {**self.config.headers, "Content-Type": "application/json; charset=utf-8",
                   "X-Newsmon-Delivery": str(message.alert_id), "X-Newsmon-Timestamp": timestamp}
        if self.config.secret is not None:
            headers["X-Newsmon-Signature"] = sign(self.config.secret.get_secret_value(), timestamp, body)
        return body, headers

    def send(self, message: AlertMessage) -> None:
        body, headers = self.request_for(message)
        try:
            response = self.client.post(self.config.url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise DeliveryError(self.name, f"timed out after {self.config.timeout:g}s posting to {self.config.url}") from None
        except httpx.HTTPError as exc:
            raise DeliveryError(self.name, f"cannot reach {self.config.url}: {exc.__class__.__name__}: {exc}") from None
        status = response.status_code
        if 200 <= status < 300:
            return
        detail = response.text[:200].strip()
        if 300 <= status < 400:
            raise DeliveryError(self.name, f"{self.config.url} redirected ({status}) to "
                                f"{response.headers.get('location')!r}; configure the final URL", permanent=True)
        permanent = 400 <= status < 500 and status not in RETRYABLE_STATUS
        raise DeliveryError(self.name, f"{self.config.url} answered HTTP {status}" + (f": {detail}" if detail else ""),
                            permanent=permanent)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
