"""Alert rows, the outbox's table: enqueue, claim, release, mark sent or failed, list, requeue, count.

The delivery logic around them (retries, leases, channels) is monitor.outbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from monitor.statuses import AlertStatus
from monitor.store._base import insert_ignoring_conflicts, utcnow
from monitor.store.models import Alert


def new_delivery_key() -> str:
    """A globally unique idempotency key (ids repeat across rebuilt archives; uuid4s do not)."""
    return uuid.uuid4().hex


SPREAD_KIND = "spread"
SPREAD_REVISION = -1  # a spread alert's revision: never the same row as the article's own alert


def enqueue_alert(session: Session, *, rule: str, article_id: int, channel: str,
                  snippet: str | None, when: datetime | None = None, revision: int = 0,
                  digest: tuple[datetime, datetime] | None = None, payload: dict | None = None) -> bool:
    """One outbox row per (rule, article, channel); False if it already exists.
    `digest`: the (start, end) of the digest period the row is collected in; it is due at the end.
    `payload`: facts kept with the row (a digest row's outlet count when queued)."""
    when = when or utcnow()
    start, end = digest if digest else (None, None)
    row = insert_ignoring_conflicts(session, Alert.__table__, dict(
        rule=rule, article_id=article_id, channel=channel, status=AlertStatus.PENDING, attempts=0,
        revision=revision, next_attempt_at=end or when, snippet=snippet, created_at=when,
        delivery_key=new_delivery_key(), digest_start=start, digest_end=end, payload=payload,
    ))
    return row is not None


def spread_event_key(rule: str, story_id: int, channel: str) -> str:
    return f"spread:{rule}:{story_id}:{channel}"


def enqueue_spread_alert(session: Session, *, rule: str, story_id: int, article_id: int, channel: str,
                         snippet: str | None, payload: dict, when: datetime | None = None,
                         digest: tuple[datetime, datetime] | None = None) -> bool:
    """The alert that a story of `rule` reached its on_spread outlets: once per (rule, story,
    channel) (the unique event_key); False if it was queued already."""
    when = when or utcnow()
    start, end = digest if digest else (None, None)
    row = insert_ignoring_conflicts(session, Alert.__table__, dict(
        kind=SPREAD_KIND, rule=rule, article_id=article_id, channel=channel, status=AlertStatus.PENDING,
        attempts=0, revision=SPREAD_REVISION, next_attempt_at=end or when, snippet=snippet, created_at=when,
        delivery_key=new_delivery_key(), digest_start=start, digest_end=end, payload=payload,
        event_key=spread_event_key(rule, story_id, channel),
    ))
    return row is not None


def spread_alerted(session: Session, rule: str, story_id: int) -> bool:
    return session.scalar(select(func.count()).select_from(Alert).where(
        Alert.kind == SPREAD_KIND, Alert.event_key.like(f"spread:{rule}:{story_id}:%"))) > 0


def claim_digest_group(session: Session, alert: Alert, now: datetime, *, owner: str,
                       lease: timedelta) -> list[Alert]:
    """With `alert` (a digest row just claimed), claim the other due pending rows of its (rule,
    channel, period) in the same transaction: the whole group goes out as one message. Returns
    the group, `alert` included, oldest first."""
    if alert.digest_end is None:
        return [alert]
    group = (Alert.rule == alert.rule, Alert.channel == alert.channel, Alert.digest_end == alert.digest_end)
    due = (*group, Alert.status == AlertStatus.PENDING, Alert.next_attempt_at <= now)
    if session.get_bind().dialect.name == "postgresql":
        # Rows another pass holds locked (it claimed one of this group at the same moment) are
        # skipped, not waited for: no deadlock; each row still goes in exactly one digest.
        due = (Alert.id.in_(select(Alert.id).where(*due).with_for_update(skip_locked=True).scalar_subquery()),
               Alert.status == AlertStatus.PENDING)
    session.execute(
        update(Alert).where(*due).values(**_claim(now, owner, lease)).execution_options(synchronize_session=False)
    )
    return list(session.scalars(
        select(Alert).where(*group, Alert.status == AlertStatus.SENDING, Alert.claimed_by == owner)
        .order_by(Alert.id).execution_options(populate_existing=True)
    ))


def due_alert_ids(session: Session, now: datetime, limit: int) -> list[int]:
    return list(session.scalars(
        select(Alert.id).where(Alert.status == AlertStatus.PENDING, Alert.next_attempt_at <= now)
        .order_by(Alert.next_attempt_at, Alert.id).limit(limit)
    ))


def _claim(now: datetime, owner: str, lease: timedelta) -> dict:
    """What claiming sets: sending, held by `owner` until now + lease, one more attempt."""
    return dict(status=AlertStatus.SENDING, attempts=Alert.attempts + 1, claimed_by=owner, claimed_until=now + lease)


def claim_alert(session: Session, alert_id: int, now: datetime, *, owner: str,
                lease: timedelta) -> Alert | None:
    """Move one alert from pending to sending, held by `owner` until now + lease; None if
    another pass took it first. The attempt is counted here, not after the send, so an
    alert whose send kills the process still reaches max_attempts."""
    claimed = session.execute(
        update(Alert).where(Alert.id == alert_id, Alert.status == AlertStatus.PENDING)
        .values(**_claim(now, owner, lease))
    ).rowcount
    if not claimed:
        return None
    return session.get(Alert, alert_id, populate_existing=True)


def claim_next_alert(session: Session, now: datetime, *, owner: str, lease: timedelta,
                     exclude: Collection[int] = ()) -> Alert | None:
    """The oldest due alert not in `exclude`, claimed as `claim_alert` does; None when none is due.

    On PostgreSQL one statement takes it with FOR UPDATE SKIP LOCKED: delivery passes on other
    processes or machines each get a different row, without waiting on each other's row locks or
    all racing for the same one. SQLite has one writer at a time: the oldest due row is claimed by
    compare-and-set, and when another pass got it first, the next one is tried."""
    due = select(Alert.id).where(Alert.status == AlertStatus.PENDING, Alert.next_attempt_at <= now)
    if exclude:
        due = due.where(Alert.id.not_in(list(exclude)))
    due = due.order_by(Alert.next_attempt_at, Alert.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        alert_id = session.execute(
            update(Alert).where(Alert.id == due.with_for_update(skip_locked=True).scalar_subquery())
            .values(**_claim(now, owner, lease))
            .returning(Alert.id)
        ).scalar()
        return session.get(Alert, alert_id, populate_existing=True) if alert_id is not None else None
    lost: list[int] = []
    while (alert_id := session.scalar(due.where(Alert.id.not_in(lost)) if lost else due)) is not None:
        alert = claim_alert(session, alert_id, now, owner=owner, lease=lease)
        if alert is not None:
            return alert
        lost.append(alert_id)  # another pass claimed it between our read and our update
    return None


def claim_owners(session: Session) -> list[str | None]:
    """The distinct owners of alerts in 'sending'."""
    return list(session.scalars(select(Alert.claimed_by).where(Alert.status == AlertStatus.SENDING).distinct()))


def release_claims(session: Session, now: datetime, *, gone_owners: Iterable[str], max_attempts: int) -> int:
    """Claims whose owner is gone, or whose lease has ended (or that have none), go back to
    pending, or become dead letters when they have used max_attempts. Each row is updated
    only if its claim is unchanged, so a claim taken again meanwhile is left alone."""
    gone = set(gone_owners)
    stale = or_(Alert.claimed_until.is_(None), Alert.claimed_until < now)
    if gone:
        stale = or_(stale, Alert.claimed_by.in_(gone))
    rows = session.execute(
        select(Alert.id, Alert.claimed_by, Alert.attempts).where(Alert.status == AlertStatus.SENDING, stale)
    ).all()
    released = 0
    for alert_id, owner, attempts in rows:
        why = "died mid-send" if owner in gone else "held its claim past the lease"
        who = f"the delivering process ({owner or 'unknown'})"
        if attempts >= max_attempts:
            values = dict(status=AlertStatus.DEAD, last_error=(
                f"{who} {why}; {attempts} attempts used (delivery.max_attempts {max_attempts}). If the "
                "process crashes on this alert, check its log, then `newsmon alerts retry ID`"))
        else:
            values = dict(status=AlertStatus.PENDING, next_attempt_at=now,
                          last_error=f"attempt {attempts}: {who} {why}")
        released += session.execute(
            update(Alert).where(Alert.id == alert_id, Alert.status == AlertStatus.SENDING,
                                Alert.claimed_by.is_(None) if owner is None else Alert.claimed_by == owner)
            .values(claimed_by=None, claimed_until=None, **values)
        ).rowcount
    return released


def mark_alert_sent(session: Session, alert: Alert, when: datetime, note: str | None = None) -> None:
    """`note`: what a partial delivery left out (kept in last_error of the sent alert)."""
    alert.status = AlertStatus.SENT
    alert.sent_at = when
    alert.last_error = note[:4000] if note else None
    alert.claimed_by = alert.claimed_until = None


def mark_alert_failed(session: Session, alert: Alert, *, error: str, when: datetime,
                      retry_in: timedelta | None) -> None:
    """retry_in None means give up: the alert becomes a dead letter. (The attempt was
    counted when the alert was claimed.)"""
    alert.last_error = error[:4000]
    alert.claimed_by = alert.claimed_until = None
    if retry_in is None:
        alert.status = AlertStatus.DEAD
    else:
        alert.status = AlertStatus.PENDING
        alert.next_attempt_at = when + retry_in


def list_alerts(session: Session, status: AlertStatus | str | None = None, limit: int = 100) -> Sequence[Alert]:
    stmt = select(Alert).order_by(Alert.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(Alert.status == AlertStatus(status))
    return session.scalars(stmt).all()


def requeue_alert(session: Session, alert_id: int, when: datetime) -> Alert | None:
    """A dead (or still pending) alert goes back to pending, due now; others are left as they are.
    A digest row takes the dead rows of its digest with it: they went dead together."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        return None
    if alert.status in (AlertStatus.DEAD, AlertStatus.PENDING):
        if alert.digest_end is not None and alert.status == AlertStatus.DEAD:
            session.execute(update(Alert).where(
                Alert.rule == alert.rule, Alert.channel == alert.channel, Alert.digest_end == alert.digest_end,
                Alert.status == AlertStatus.DEAD, Alert.id != alert.id,
            ).values(status=AlertStatus.PENDING, next_attempt_at=when).execution_options(synchronize_session=False))
        alert.status = AlertStatus.PENDING
        alert.next_attempt_at = when
    return alert


def alert_counts(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Alert.status, func.count()).group_by(Alert.status)).all())
