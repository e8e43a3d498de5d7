"""The outbox: sends queued alerts through their channels, with retries and dead letters.

Each alert is claimed (pending -> sending) in its own committed transaction
before it is sent, so two delivery passes never send the same row. A claim
names its owner (host, pid and start token: monitor.claim_owner) and holds a
lease; the attempt is counted when claiming, so an alert whose send crashes the
process every time still goes dead after max_attempts.

A process that dies mid-send leaves the row in 'sending'. The next delivery
pass on the same host releases it at once (that pid is gone, or is another
process now); a claim from another host waits for its lease to end. Delivery is
at-least-once: receivers dedupe on the alert's delivery key (the webhook's
X-Newsmon-Delivery header, the email's Message-ID), a uuid4 unique across archives.

Operator alerts about sources (monitor.health) are rows of the same table (kind 'health',
no article), claimed, retried and sent the same way; only their message differs.

Passes run at once (each crawl cycle and the daemon's delivery job call
deliver_due on one Outbox), so the lazily built channels are guarded by a lock
and each channel serializes its own sends (monitor.channels.base).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from monitor.channels import AlertMessage, Channel, HealthMessage, Message, build_channel
from monitor.channels.base import DigestEntry, DigestMessage, SpreadInfo, SpreadOutlet
from monitor.claim_owner import owner_is_gone, this_process
from monitor.config import NewsmonConfig
from monitor.digest import digest_delivery_key
from monitor.errors import DeliveryError
from monitor.statuses import AlertStatus
from monitor.store import outbox as outbox_rows
from monitor.store import repo
from monitor.store.models import Alert, Article
from monitor.store.session import session_scope

log = logging.getLogger(__name__)


@dataclass
class DeliverySummary:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


# The keys of a health alert's payload that HealthMessage has fields for; the rest are its facts.
_HEALTH_FIELDS = ("source", "state", "previous", "since", "detail")


def message_for(session: Session, alert: Alert, config: NewsmonConfig | None = None) -> Message:
    """The message of one outbox row; with the config, the rule's matched terms in the snippet are
    marked (the HTML part highlights them)."""
    if alert.kind == repo.HEALTH_KIND:
        return health_message(alert)
    article = alert.article
    rule = config.rules.get(alert.rule) if config is not None else None
    highlights = _highlights(_compiled(rule.query), alert.snippet or "", article) if rule is not None else ()
    also_in = repo.story_outlets(session, article.story_id, except_source=article.source) if article.story_id else []
    return AlertMessage(
        alert_id=alert.id, delivery_key=alert.delivery_key, rule=alert.rule, title=article.title or "(untitled)",
        url=article.url, source=article.source, published_at=article.published_at, snippet=alert.snippet or "",
        language=article.language, also_in=tuple(also_in), spread=spread_info(alert), highlights=highlights,
    )


def spread_info(alert: Alert) -> SpreadInfo | None:
    """What a spread alert's payload recorded when the story reached its outlets."""
    if alert.kind != outbox_rows.SPREAD_KIND or not alert.payload:
        return None
    payload = alert.payload
    outlets = tuple(SpreadOutlet(source=o["source"], url=o.get("url") or "",
                                 seen_at=datetime.fromisoformat(o["seen_at"]) if o.get("seen_at") else None,
                                 after_seconds=o.get("after_seconds")) for o in payload.get("outlets", []))
    return SpreadInfo(story_id=payload.get("story_id") or 0, threshold=payload.get("threshold") or len(outlets),
                      outlets=outlets)


def digest_message(session: Session, group: list[Alert], config: NewsmonConfig) -> DigestMessage:
    """One message for a digest's rows (one rule, channel and period): one entry a story, oldest
    first; a story queued twice in the period (its first-seen and its spread alert) is one entry."""
    first = group[0]
    rule = config.rules.get(first.rule)
    compiled = _compiled(rule.query) if rule is not None else None
    entries: dict[object, DigestEntry] = {}
    for alert in group:
        article: Article = alert.article
        outlets = (repo.story_outlets(session, article.story_id) if article.story_id else []) or [article.source]
        spread = spread_info(alert)
        queued_outlets = len(spread.outlets) if spread else (alert.payload or {}).get("outlet_count", 1)
        entry = DigestEntry(
            alert_id=alert.id, title=article.title or "(untitled)", url=article.url, source=article.source,
            published_at=article.published_at or article.fetched_at, snippet=alert.snippet or "",
            outlets=tuple(outlets), language=article.language, spread=spread,
            grown=len(outlets) > queued_outlets, highlights=_highlights(compiled, alert.snippet or "", article),
        )
        key = article.story_id or ("article", article.id)
        if key not in entries or spread is not None:
            entries[key] = entry if key not in entries else _with_spread(entries[key], spread)
    zone = rule.digest.zone if rule is not None and rule.digest is not None and rule.digest.at else "UTC"
    return DigestMessage(
        alert_id=first.id, delivery_key=digest_delivery_key(first.rule, first.channel, first.digest_end, first.id),
        rule=first.rule, channel=first.channel, period_start=first.digest_start or first.digest_end,
        period_end=first.digest_end, timezone=zone, entries=tuple(entries.values()),
        alert_ids=tuple(a.id for a in group),
    )


def _with_spread(entry: DigestEntry, spread: SpreadInfo | None) -> DigestEntry:
    from dataclasses import replace

    return replace(entry, spread=spread)


@lru_cache(maxsize=256)
def _compiled(query: str):
    """A rule's compiled query, once per query text (every alert and digest of the rule needs it)."""
    from monitor.rules import RuleSet

    try:
        return RuleSet({"rule": query}).compiled["rule"]
    except Exception:  # the rule changed into something invalid: no highlights, the digest still goes
        return None


def _highlights(compiled, snippet: str, article: Article) -> tuple[tuple[int, int], ...]:
    if compiled is None or not snippet:
        return ()
    from monitor.rules import Document

    try:
        return tuple(compiled.highlights(Document(title="", text=snippet, source=article.source,
                                                  language=article.language)))
    except Exception:
        return ()


def health_message(alert: Alert) -> HealthMessage:
    payload = dict(alert.payload or {})
    since = payload.get("since")
    return HealthMessage(
        alert_id=alert.id, delivery_key=alert.delivery_key, source=payload.get("source") or "(unknown source)",
        state=payload.get("state") or alert.rule.removeprefix("health:"),
        since=datetime.fromisoformat(since) if since else None, detail=payload.get("detail") or "",
        previous=payload.get("previous"), facts={k: v for k, v in payload.items() if k not in _HEALTH_FIELDS},
    )


def retry_delay(config: NewsmonConfig, attempts: int) -> timedelta:
    """Exponential backoff: backoff, 2×backoff, 4×backoff … capped at backoff_max."""
    seconds = config.delivery.backoff * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, config.delivery.backoff_max))


def retry_in(config: NewsmonConfig, error: DeliveryError, attempts: int) -> timedelta:
    """The backoff, or longer when the receiver asked for it (Retry-After, already capped by the channel)."""
    backoff = retry_delay(config, attempts)
    if error.retry_after is None:
        return backoff
    return max(backoff, timedelta(seconds=error.retry_after))


class Outbox:
    """`lease`: how long a claim holds when its owner cannot be checked (another host's).
    It must outlast one send (a channel's timeouts): a longer send may be repeated."""

    def __init__(self, config: NewsmonConfig, sessions: sessionmaker[Session],
                 channels: Mapping[str, Channel] | None = None, lease: timedelta = timedelta(minutes=15)):
        self.config = config
        self.sessions = sessions
        self._channels = dict(channels or {})
        self._channels_lock = threading.Lock()
        self.lease = lease

    def channel(self, name: str) -> Channel:
        with self._channels_lock:
            if name not in self._channels:
                if name not in self.config.channels:
                    raise DeliveryError(name, "not defined in newsmon.yaml any more; add it back or the alert "
                                        "stays dead", permanent=True)
                self._channels[name] = build_channel(name, self.config.channels[name])
            return self._channels[name]

    def close(self) -> None:
        with self._channels_lock:
            channels = list(self._channels.values())
            self._channels.clear()
        for channel in channels:
            channel.close()  # waits for a send in progress on it

    def release_abandoned_claims(self) -> int:
        """Claims of processes that are gone (at once) or whose lease ended go back to pending,
        or dead once they have used max_attempts."""
        me = this_process()
        with session_scope(self.sessions) as session:
            gone = [owner for owner in repo.claim_owners(session) if owner and owner_is_gone(owner, me)]
            released = repo.release_claims(session, repo.utcnow(), gone_owners=gone,
                                           max_attempts=self.config.delivery.max_attempts)
        if released:
            log.warning("released %d alert claims left by delivering processes that died or overran their lease",
                        released)
        return released

    def deliver_due(self) -> DeliverySummary:
        """Up to delivery.batch_size due alerts, each claimed just before it is sent (concurrent
        passes, here or on other machines, take different ones), each attempted once a pass."""
        summary = DeliverySummary()
        self.release_abandoned_claims()
        owner = str(this_process())
        attempted: list[int] = []
        while len(attempted) < self.config.delivery.batch_size:
            with session_scope(self.sessions) as session:
                now = repo.utcnow()
                alert = repo.claim_next_alert(session, now, owner=owner, lease=self.lease,
                                              exclude=attempted)
                if alert is None:
                    break  # nothing due, or the other passes have the rest
                if alert.digest_end is not None:
                    # A digest: its period's other rows are claimed with it, in this transaction.
                    group = outbox_rows.claim_digest_group(session, alert, now, owner=owner, lease=self.lease)
                    ids = [a.id for a in group]
                    claimed = (ids, alert.channel, digest_message(session, group, self.config))
                else:
                    claimed = ([alert.id], alert.channel, message_for(session, alert, self.config))
            attempted.extend(claimed[0])
            if len(claimed[0]) == 1:
                self._send_claimed(claimed[0][0], *claimed[1:], owner, summary)
            else:
                self._send_group(*claimed, owner, summary)
        return summary

    def _attempt(self, channel_name: str, message: Message, what: str) -> tuple[str | None, DeliveryError | None]:
        """One send: the channel's note, or the error to record (a bug in a channel must not lose alerts)."""
        try:
            return self.channel(channel_name).send(message), None
        except DeliveryError as exc:
            return None, exc
        except Exception as exc:
            log.exception("channel %s crashed on %s", channel_name, what)
            return None, DeliveryError(channel_name, f"unexpected {exc.__class__.__name__}: {exc}")

    def _send_group(self, alert_ids: list[int], channel_name: str, message: Message, owner: str,
                    summary: DeliverySummary) -> None:
        """A digest: one send for all its rows; they are marked sent, retried or dead together."""
        note, error = self._attempt(channel_name, message, f"digest {alert_ids}")
        with session_scope(self.sessions) as session:
            alerts = [session.get(Alert, alert_id) for alert_id in alert_ids]
            now = repo.utcnow()
            if error is None:
                for alert in alerts:
                    repo.mark_alert_sent(session, alert, now, note=note)
                summary.sent += len(alerts)
                return
            ours = [a for a in alerts if a.status == AlertStatus.SENDING and a.claimed_by == owner]
            if not ours:
                log.warning("digest %s: %s (not recorded: the claim passed to another pass)", alert_ids, error)
                return
            attempts = max(a.attempts for a in ours)
            give_up = error.permanent or attempts >= self.config.delivery.max_attempts
            delay = None if give_up else retry_in(self.config, error, attempts)
            for alert in ours:
                repo.mark_alert_failed(session, alert, error=f"digest of {len(alert_ids)}: {error}", when=now,
                                       retry_in=delay)
            summary.errors.append(f"digest {alert_ids[0]} ({len(alert_ids)} alerts): {error}")
            if give_up:
                summary.dead += len(ours)
            else:
                summary.failed += len(ours)

    def _send_claimed(self, alert_id: int, channel_name: str, message: Message, owner: str,
                      summary: DeliverySummary) -> None:
        note, error = self._attempt(channel_name, message, f"alert {alert_id}")
        with session_scope(self.sessions) as session:
            alert = session.get(Alert, alert_id)
            now = repo.utcnow()
            if error is None:
                # Recorded even if our claim was released meanwhile: it did go out.
                repo.mark_alert_sent(session, alert, now, note=note)
                summary.sent += 1
                return
            if alert.status != AlertStatus.SENDING or alert.claimed_by != owner:
                # Our lease ran out and another pass took the alert: its outcome counts, not ours.
                log.warning("alert %s: %s (not recorded: the claim passed to %s)", alert_id, error,
                            alert.claimed_by or "another pass")
                return
            give_up = error.permanent or alert.attempts >= self.config.delivery.max_attempts
            repo.mark_alert_failed(session, alert, error=str(error), when=now,
                                   retry_in=None if give_up else retry_in(self.config, error, alert.attempts))
            summary.errors.append(f"alert {alert_id}: {error}")
            if give_up:
                summary.dead += 1
            else:
                summary.failed += 1
