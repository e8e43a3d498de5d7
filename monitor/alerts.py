"""The outbox: sends queued alerts through their channels, with retries and dead letters.

Each alert is claimed (pending -> sending) in its own committed transaction
before it is sent, so two delivery passes never send the same row. A process
that dies mid-send leaves the row in 'sending'; after `stale_after` it goes
back to pending (at-least-once; receivers dedupe on the alert id, which is the
webhook's X-Newsmon-Delivery header and the email's Message-ID).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from monitor.channels import AlertMessage, Channel, build_channel
from monitor.config import NewsmonConfig
from monitor.errors import DeliveryError
from monitor.store import repo
from monitor.store.models import Alert
from monitor.store.session import session_scope

log = logging.getLogger(__name__)


@dataclass
class DeliverySummary:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


def message_for(session: Session, alert: Alert) -> AlertMessage:
    article = alert.article
    also_in = repo.story_outlets(session, article.story_id, except_source=article.source) if article.story_id else []
    return AlertMessage(
        alert_id=alert.id, rule=alert.rule, title=article.title or "(untitled)", url=article.url,
        source=article.source, published_at=article.published_at, snippet=alert.snippet or "",
        language=article.language, also_in=tuple(also_in),
    )


def retry_delay(config: NewsmonConfig, attempts: int) -> timedelta:
    """Exponential backoff: backoff, 2×backoff, 4×backoff … capped at backoff_max."""
    seconds = config.delivery.backoff * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, config.delivery.backoff_max))


class Outbox:
    def __init__(self, config: NewsmonConfig, sessions: sessionmaker[Session],
                 channels: Mapping[str, Channel] | None = None, stale_after: timedelta = timedelta(minutes=15)):
        self.config = config
        self.sessions = sessions
        self._channels = dict(channels or {})
        self.stale_after = stale_after

    def channel(self, name: str) -> Channel:
        if name not in self._channels:
            if name not in self.config.channels:
                raise DeliveryError(name, "not defined in newsmon.yaml any more; add it back or the alert stays dead",
                                    permanent=True)
            self._channels[name] = build_channel(name, self.config.channels[name])
        return self._channels[name]

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()

    def deliver_due(self) -> DeliverySummary:
        summary = DeliverySummary()
        now = repo.utcnow()
        with session_scope(self.sessions) as session:
            repo.release_stale_claims(session, now - self.stale_after)
            due = repo.due_alert_ids(session, now, self.config.delivery.batch_size)
        for alert_id in due:
            self._deliver_one(alert_id, summary)
        return summary

    def _deliver_one(self, alert_id: int, summary: DeliverySummary) -> None:
        with session_scope(self.sessions) as session:
            alert = repo.claim_alert(session, alert_id, repo.utcnow())
            if alert is None:
                return  # another pass has it
            message = message_for(session, alert)
            channel_name = alert.channel
        error: DeliveryError | None = None
        try:
            self.channel(channel_name).send(message)
        except DeliveryError as exc:
            error = exc
        except Exception as exc:  # a bug in a channel must not lose the alert
            log.exception("channel %s crashed on alert %s", channel_name, alert_id)
            error = DeliveryError(channel_name, f"unexpected {exc.__class__.__name__}: {exc}")
        with session_scope(self.sessions) as session:
            alert = session.get(Alert, alert_id)
            now = repo.utcnow()
            if error is None:
                repo.mark_alert_sent(session, alert, now)
                summary.sent += 1
                return
            give_up = error.permanent or alert.attempts + 1 >= self.config.delivery.max_attempts
            retry_in = None if give_up else retry_delay(self.config, alert.attempts + 1)
            repo.mark_alert_failed(session, alert, error=str(error), when=now, retry_in=retry_in)
            summary.errors.append(f"alert {alert_id}: {error}")
            if give_up:
                summary.dead += 1
            else:
                summary.failed += 1
