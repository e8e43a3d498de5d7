"""What every delivery channel gets and promises."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AlertMessage:
    alert_id: int
    rule: str
    title: str
    url: str
    source: str
    published_at: datetime | None
    snippet: str
    language: str | None = None
    also_in: tuple[str, ...] = ()  # other outlets carrying the same story

    def as_payload(self) -> dict:
        return {
            "alert_id": self.alert_id,
            "rule": self.rule,
            "title": self.title,
            "url": self.url,
            "source": self.source,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "snippet": self.snippet,
            "language": self.language,
            "also_in": list(self.also_in),
        }


class Channel(ABC):
    """Delivers one alert or raises monitor.errors.DeliveryError.

    permanent=True on the error means retrying cannot help (the outbox makes
    the alert a dead letter at once); otherwise it is retried with backoff.
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
