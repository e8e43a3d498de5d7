"""What `newsmon status` reads: a summary per source, and the archive's size."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.statuses import AlertStatus
from monitor.store.models import Alert, Article, ArticleCount, SourceState, Story


@dataclass(frozen=True)
class SourceStatus:
    source: str
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_new_article_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    throttled_until: datetime | None
    next_check_at: datetime | None  # when the daemon has it due next (None: never scheduled)
    articles: int
    pending_alerts: int  # pending or being sent
    dead_alerts: int


def source_statuses(session: Session, sources: Iterable[str]) -> list[SourceStatus]:
    """One summary per configured source and per source the archive knows (a handful of
    queries, whatever the number of sources or articles: article counts are kept by triggers
    in article_counts, and only alerts still waiting or dead are read)."""
    states = {state.source: state for state in session.scalars(select(SourceState))}
    names = sorted(set(sources) | set(states))
    article_counts = dict(session.execute(
        select(ArticleCount.source, func.sum(ArticleCount.articles)).group_by(ArticleCount.source)).all())
    waiting = (AlertStatus.PENDING, AlertStatus.SENDING, AlertStatus.DEAD)
    alert_rows = session.execute(
        select(Article.source, Alert.status, func.count())
        .join(Article, Alert.article_id == Article.id)
        .where(Alert.status.in_([str(status) for status in waiting]))
        .group_by(Article.source, Alert.status)
    ).all()
    alerts: dict[tuple[str, str], int] = {(src, status): n for src, status, n in alert_rows}
    result = []
    for name in names:
        state = states.get(name)
        result.append(SourceStatus(
            source=name,
            last_run_at=state.last_run_at if state else None,
            last_success_at=state.last_success_at if state else None,
            last_new_article_at=state.last_new_article_at if state else None,
            last_error=state.last_error if state else None,
            last_error_at=state.last_error_at if state else None,
            consecutive_failures=state.consecutive_failures if state else 0,
            throttled_until=state.throttled_until if state else None,
            next_check_at=state.next_check_at if state else None,
            articles=int(article_counts.get(name) or 0),
            pending_alerts=alerts.get((name, AlertStatus.PENDING), 0) + alerts.get((name, AlertStatus.SENDING), 0),
            dead_alerts=alerts.get((name, AlertStatus.DEAD), 0),
        ))
    return result


@dataclass(frozen=True)
class ArchiveSize:
    bytes: int | None
    articles: int
    stories: int
    articles_with_text: int


def archive_size(session: Session) -> ArchiveSize:
    bind = session.get_bind()
    size: int | None = None
    if bind.dialect.name == "sqlite" and bind.url.database:
        size = sum(os.path.getsize(bind.url.database + suffix) for suffix in ("", "-wal")
                   if os.path.exists(bind.url.database + suffix))
    elif bind.dialect.name == "postgresql":
        size = session.scalar(select(func.pg_database_size(func.current_database())))
    return ArchiveSize(
        bytes=size,
        articles=session.scalar(select(func.count()).select_from(Article)),
        stories=session.scalar(select(func.count()).select_from(Story)),
        articles_with_text=session.scalar(select(func.count()).select_from(Article).where(Article.text != "")),
    )
