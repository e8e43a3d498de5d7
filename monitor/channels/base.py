"""What every delivery channel gets and promises.

A channel turns one AlertMessage into one delivery, or raises DeliveryError.
It does no queueing and no retrying: the outbox (monitor.alerts) does that,
guided by DeliveryError.permanent.
"""

from __future__ import annotations

import ssl
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Certificate checks against the system's CAs, or only against `ca_file` (a channel's
    `ca_file`: servers with certificates from a private CA)."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


@dataclass(frozen=True)
class AlertMessage:
    alert_id: int  # the outbox row: the idempotency key receivers dedupe on
    rule: str
    title: str
    url: str
    source: str
    published_at: datetime | None
    snippet: str
    language: str | None = None
    also_in: tuple[str, ...] = ()  # other outlets carrying the same story

    @property
    def published_utc(self) -> datetime | None:
        """published_at in UTC; a naive value is taken to be UTC already (the archive stores UTC)."""
        if self.published_at is None:
            return None
        if self.published_at.tzinfo is None:
            return self.published_at.replace(tzinfo=timezone.utc)
        return self.published_at.astimezone(timezone.utc)

    def as_payload(self) -> dict[str, Any]:
        """The webhook's JSON object; also what tests compare against."""
        published = self.published_utc
        return {
            "alert_id": self.alert_id,
            "rule": self.rule,
            "title": self.title,
            "url": self.url,
            "source": self.source,
            "published_at": published.isoformat() if published else None,
            "snippet": self.snippet,
            "language": self.language,
            "also_in": list(self.also_in),
        }


class Channel(ABC):
    """Delivers one alert or raises monitor.errors.DeliveryError.

    DeliveryError.permanent=True means retrying cannot help (a 4xx answer, a
    refused login or recipient, a config mismatch): the outbox makes the alert
    a dead letter at once. Anything else (refused connection, timeout, 5xx,
    429, SMTP 4xx) is retried with backoff.

    A channel may keep a connection open between sends; close() releases it,
    and the channel stays usable afterwards (it reconnects on the next send).
    """

    def __init__(self, name: str):
        self.name = name

    @abstractmethod
    def send(self, message: AlertMessage) -> None: ...

    def close(self) -> None:
        """Release connections; the channel may be used again afterwards."""

    def __enter__(self) -> Channel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
