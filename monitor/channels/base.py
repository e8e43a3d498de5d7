"""What every delivery channel gets and promises.

A channel turns one AlertMessage into one delivery, or raises DeliveryError.
It does no queueing and no retrying: the outbox (monitor.outbox) does that,
guided by DeliveryError.permanent and DeliveryError.retry_after.

Delivery passes run at once (each crawl cycle and the daemon's delivery job)
and share one channel object, whose connection is a conversation with a single
sender at a time (SMTP answers out of step otherwise: "503 nested MAIL
command"). So Channel.send and Channel.close hold the channel's lock around the
subclass's deliver and release.
"""

from __future__ import annotations

import ssl
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


def printable_line(text: str, limit: int = 200) -> str:
    """Text from a server (an HTTP body, an SMTP reply), safe to store and to show in a terminal:
    one line, control and format characters (terminal escapes, bidi overrides) replaced, at most
    `limit` characters."""
    line = " ".join(text.split())
    return "".join(c if c.isprintable() else "\ufffd" for c in line[:limit])


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Certificate checks against the system's CAs, or only against `ca_file` (a channel's
    `ca_file`: servers with certificates from a private CA)."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


@dataclass(frozen=True)
class AlertMessage:
    alert_id: int  # the outbox row in this archive (X-Newsmon-Alert-Id, for filters and people)
    delivery_key: str  # the idempotency key receivers dedupe on: unique across archives
    rule: str
    title: str
    url: str
    source: str
    published_at: datetime | None
    snippet: str
    language: str | None = None
    also_in: tuple[str, ...] = ()  # other outlets carrying the same story
    spread: SpreadInfo | None = None  # an on_spread alert: the story reached this many outlets
    highlights: tuple[tuple[int, int], ...] = ()  # the rule's matched terms in the snippet (spans), for HTML

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
            "delivery_key": self.delivery_key,
            "rule": self.rule,
            "title": self.title,
            "url": self.url,
            "source": self.source,
            "published_at": published.isoformat() if published else None,
            "snippet": self.snippet,
            "language": self.language,
            "also_in": list(self.also_in),
            **({"kind": "spread", "spread": self.spread.as_payload()} if self.spread else {}),
        }


@dataclass(frozen=True)
class HealthMessage:
    """An operator alert about a source (monitor.health): it turned failing, silent or drifting,
    or it recovered. `facts`: the rest of the notice (consecutive_failures, last_success_at, …)."""

    alert_id: int
    delivery_key: str
    source: str
    state: str  # failing | silent | drifting | recovered
    since: datetime | None
    detail: str
    previous: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    def as_payload(self) -> dict[str, Any]:
        """The webhook's JSON object."""
        since = self.since.astimezone(timezone.utc).isoformat() if self.since else None
        return {"kind": "health", "alert_id": self.alert_id, "delivery_key": self.delivery_key,
                "source": self.source, "state": self.state, "previous": self.previous, "since": since,
                "detail": self.detail, **self.facts}


@dataclass(frozen=True)
class SpreadOutlet:
    """One outlet carrying a spreading story, and how long after the story's first article it did."""

    source: str
    url: str
    seen_at: datetime | None
    after_seconds: float | None  # None for the first outlet's own article

    def as_payload(self) -> dict[str, Any]:
        return {"source": self.source, "url": self.url, "seen_at": _iso(self.seen_at),
                "after_seconds": self.after_seconds}


@dataclass(frozen=True)
class SpreadInfo:
    """An on_spread alert: the story reached `threshold` outlets (these, first one first)."""

    story_id: int
    threshold: int
    outlets: tuple[SpreadOutlet, ...]

    def as_payload(self) -> dict[str, Any]:
        return {"story_id": self.story_id, "threshold": self.threshold, "outlet_count": len(self.outlets),
                "outlets": [o.as_payload() for o in self.outlets]}


@dataclass(frozen=True)
class DigestEntry:
    """One story in a digest: the alert row it came from, its article, and where else it runs.
    `outlets`: every outlet carrying it now, the entry's own first; `spread`: set for an on_spread alert;
    `highlights`: the rule's matched terms in the snippet (character spans), for the HTML part."""

    alert_id: int
    title: str
    url: str
    source: str
    published_at: datetime | None
    snippet: str
    outlets: tuple[str, ...] = ()
    language: str | None = None
    spread: SpreadInfo | None = None
    grown: bool = False  # the story is in more outlets now than when its entry was queued
    highlights: tuple[tuple[int, int], ...] = ()

    def as_payload(self) -> dict[str, Any]:
        return {"alert_id": self.alert_id, "title": self.title, "url": self.url, "source": self.source,
                "published_at": _iso(self.published_at), "snippet": self.snippet, "language": self.language,
                "outlets": list(self.outlets), "outlet_count": len(self.outlets),
                "spread": self.spread.as_payload() if self.spread else None}


@dataclass(frozen=True)
class DigestMessage:
    """One message for every alert a digest rule collected on one channel in one period.
    `delivery_key` is derived from (rule, channel, period, first row), stable across resends;
    `alert_id` is the first row's id (X-Newsmon-Alert-Id), `alert_ids` all of them."""

    alert_id: int
    delivery_key: str
    rule: str
    channel: str
    period_start: datetime
    period_end: datetime
    timezone: str
    entries: tuple[DigestEntry, ...]
    alert_ids: tuple[int, ...] = ()

    def as_payload(self) -> dict[str, Any]:
        """The webhook's JSON object."""
        return {"kind": "digest", "alert_id": self.alert_id, "delivery_key": self.delivery_key, "rule": self.rule,
                "period": {"start": _iso(self.period_start), "end": _iso(self.period_end),
                           "timezone": self.timezone},
                "count": len(self.entries), "alert_ids": list(self.alert_ids),
                "stories": [entry.as_payload() for entry in self.entries]}


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat()


Message = AlertMessage | HealthMessage | DigestMessage


class Channel(ABC):
    """Delivers one alert or raises monitor.errors.DeliveryError.

    DeliveryError.permanent=True means retrying cannot help (a 4xx answer, a
    refused login or recipient, a config mismatch): the outbox makes the alert
    a dead letter at once. Anything else (refused connection, timeout, 5xx,
    429, SMTP 4xx) is retried with backoff.

    A channel may keep a connection open between sends; close() releases it,
    and the channel stays usable afterwards (it reconnects on the next send).
    Subclasses implement deliver() and release(); send() and close() call them
    one thread at a time.
    """

    def __init__(self, name: str):
        self.name = name
        self._lock = threading.Lock()

    def send(self, message: Message) -> str | None:
        """Deliver one alert. Returns None, or a note on a partial delivery (e.g. recipients the
        server refused while accepting the others) that the outbox records on the sent alert."""
        with self._lock:
            return self.deliver(message)

    def close(self) -> None:
        """Release connections (after a send in progress); the channel may be used again afterwards."""
        with self._lock:
            self.release()

    @abstractmethod
    def deliver(self, message: Message) -> str | None:
        """send() without the lock."""

    def release(self) -> None:  # noqa: B027 (an optional hook: a channel without a connection has nothing to release)
        """close() without the lock."""

    def __enter__(self) -> Channel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
