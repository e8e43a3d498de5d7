"""Source health rows (source_health) and the history health reads: checks that found new
articles, recent extractions, a failing streak's start; health alerts in the outbox.

The decisions are monitor.health's; this module only reads and writes rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from monitor.statuses import AlertStatus, RunStatus
from monitor.store._base import insert_ignoring_conflicts
from monitor.store.models import Alert, Article, CrawlRun, FetchError, SourceHealth, SourceState
from monitor.store.outbox import new_delivery_key

HEALTH_KIND = "health"


def health_rows(session: Session) -> dict[str, SourceHealth]:
    return {row.source: row for row in session.scalars(select(SourceHealth))}


def source_states(session: Session) -> dict[str, SourceState]:
    return {row.source: row for row in session.scalars(select(SourceState))}


def ensure_health_rows(session: Session, sources: Iterable[str], when: datetime) -> int:
    """A row (ok, version 0) for each source that has none yet; how many were added."""
    added = 0
    for source in sources:
        row = insert_ignoring_conflicts(session, SourceHealth.__table__, dict(
            source=source, state="ok", since=when, version=0))
        added += row is not None
    return added


def save_health_learned(session: Session, source: str, **values) -> None:
    """What evaluation learned (usual gap, drift check, evaluated_at): not a transition, no version change."""
    session.execute(update(SourceHealth).where(SourceHealth.source == source).values(**values))


def transition_health(session: Session, source: str, *, from_version: int, **values) -> bool:
    """Write a transition if the row still has `from_version` (compare-and-set); False when another
    evaluation made one first. The caller queues the transition's alerts in the same transaction."""
    return session.execute(
        update(SourceHealth).where(SourceHealth.source == source, SourceHealth.version == from_version)
        .values(version=from_version + 1, **values)
    ).rowcount == 1


def enqueue_health_alert(session: Session, *, rule: str, channel: str, payload: dict, event_key: str,
                         when: datetime) -> bool:
    """One outbox row per event and channel; False if it already exists."""
    row = insert_ignoring_conflicts(session, Alert.__table__, dict(
        kind=HEALTH_KIND, rule=rule, article_id=None, channel=channel, status=AlertStatus.PENDING, attempts=0,
        revision=0, next_attempt_at=when, created_at=when, delivery_key=new_delivery_key(), payload=payload,
        event_key=event_key,
    ))
    return row is not None


# --- history ----------------------------------------------------------------------------


def checks_with_new_articles(session: Session, source: str, limit: int) -> list[datetime]:
    """When the latest `limit` checks that found new articles ended, newest first."""
    return list(session.scalars(
        select(CrawlRun.finished_at)
        .where(CrawlRun.source == source, CrawlRun.new_articles > 0, CrawlRun.finished_at.is_not(None))
        .order_by(CrawlRun.finished_at.desc()).limit(limit)))


def failing_since(session: Session, source: str, after: datetime | None) -> datetime | None:
    """When the first failed check after `after` (the last success) ended."""
    stmt = select(func.min(CrawlRun.finished_at)).where(CrawlRun.source == source,
                                                        CrawlRun.status == RunStatus.FAILED)
    if after is not None:
        stmt = stmt.where(CrawlRun.finished_at > after)
    return session.scalar(stmt)


def recent_extractions(session: Session, source: str, limit: int, *, before: datetime | None = None,
                not_before: datetime | None = None) -> list[tuple[datetime, int]]:
    """The source's latest `limit` extractions before `before`, newest first, as (when, characters):
    stored articles with their text's length, and pages that gave no text (0; each URL once, as
    such a page is fetched again at every check). `not_before`: older articles' text may have been
    emptied by retention, so they are left out."""
    stmt = select(Article.fetched_at, func.length(Article.text)).where(Article.source == source)
    if before is not None:
        stmt = stmt.where(Article.fetched_at < before)
    if not_before is not None:
        stmt = stmt.where(Article.fetched_at >= not_before)
    stored = [(when, length or 0) for when, length in
              session.execute(stmt.order_by(Article.fetched_at.desc()).limit(limit))]
    # Empty pages older than the oldest article in the window cannot be in it, unless it is short.
    oldest = stored[-1][0] if len(stored) == limit else not_before
    first_seen = func.min(FetchError.occurred_at)
    empty = select(first_seen).where(FetchError.source == source, FetchError.stage == "extract")
    if oldest is not None:
        empty = empty.where(FetchError.occurred_at >= oldest)
    empty = empty.group_by(FetchError.url)
    if before is not None:
        empty = empty.having(first_seen < before)
    failed = [(when, 0) for when in session.scalars(empty.order_by(first_seen.desc()).limit(limit))]
    return sorted(stored + failed, key=lambda item: item[0], reverse=True)[:limit]
