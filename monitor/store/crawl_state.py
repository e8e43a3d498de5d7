"""What the crawler records and remembers between cycles: runs and their fetch errors,
source state (folded by monitor.source_state), HTTP validators, seen non-article URLs,
and throttling by the site."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from monitor.redaction import mask
from monitor.source_state import FinishedRun, SourceHealth, fold_run
from monitor.statuses import RunStatus
from monitor.store._base import utcnow
from monitor.store.models import Article, CrawlRun, FetchError, HttpValidator, SeenUrl, SourceState

_HEALTH_FIELDS = [f.name for f in fields(SourceHealth)]

# --- runs and source state ----------------------------------------------------------


def start_run(session: Session, source: str, when: datetime | None = None) -> CrawlRun:
    run = CrawlRun(source=source, started_at=when or utcnow(), status=RunStatus.RUNNING,
                   pages_fetched=0, new_articles=0, duplicates=0, errors=0)
    session.add(run)
    session.flush()
    return run


def record_fetch_error(session: Session, *, source: str, run_id: int | None, url: str | None,
                       stage: str, message: str, when: datetime | None = None) -> None:
    session.add(FetchError(source=source, run_id=run_id, url=mask(url), stage=stage,
                           message=mask(message)[:4000], occurred_at=when or utcnow()))


def _state(session: Session, source: str) -> SourceState:
    state = session.get(SourceState, source)
    if state is None:
        state = SourceState(source=source, consecutive_failures=0, total_failures=0)
        session.add(state)
    return state


def _health_of(state: SourceState) -> SourceHealth:
    values = {name: getattr(state, name) for name in _HEALTH_FIELDS}
    for counter in ("consecutive_failures", "total_failures"):
        values[counter] = values[counter] or 0  # None until the row is flushed without them
    return SourceHealth(**values)


def finish_run(session: Session, run: CrawlRun, *, status: RunStatus | str, pages_fetched: int, new_articles: int,
               duplicates: int, errors: int, error_summary: str | None, when: datetime | None = None,
               next_check_at: datetime | None = None) -> None:
    """Close a run and fold it into the source's state shown by `newsmon status`; with
    `next_check_at`, the daemon's schedule advances in the same transaction."""
    when = when or utcnow()
    status = RunStatus(status)
    error_summary = mask(error_summary)
    run.finished_at = when
    run.status = status
    run.pages_fetched = pages_fetched
    run.new_articles = new_articles
    run.duplicates = duplicates
    run.errors = errors
    run.error_summary = error_summary
    state = _state(session, run.source)
    after = fold_run(_health_of(state), FinishedRun(status=status, finished_at=when, new_articles=new_articles,
                                         error_summary=error_summary))
    for name in _HEALTH_FIELDS:
        setattr(state, name, getattr(after, name))
    if next_check_at is not None:
        state.next_check_at = next_check_at


def record_source_failure(session: Session, source: str, message: str, when: datetime | None = None) -> None:
    """A crawl that never got to report (crashed, timed out): still visible in status."""
    run = start_run(session, source, when)
    record_fetch_error(session, source=source, run_id=run.id, url=None, stage="crawl", message=message, when=when)
    finish_run(session, run, status=RunStatus.FAILED, pages_fetched=0, new_articles=0, duplicates=0,
               errors=1, error_summary=message, when=when)


def end_unreported_check(session: Session, source: str, message: str, *, since: datetime,
                         status: RunStatus = RunStatus.FAILED, next_check_at: datetime | None = None) -> None:
    """A check that never reported (its worker died or hung, or newsmon stopped first): the run
    row it had started, if any, is closed with `message`; otherwise one is recorded. One row per
    check, as for any other."""
    run = session.scalars(
        select(CrawlRun).where(CrawlRun.source == source, CrawlRun.status == RunStatus.RUNNING,
                               CrawlRun.started_at >= since).order_by(CrawlRun.id.desc()).limit(1)).first()
    if run is None:
        run = start_run(session, source, since)
    record_fetch_error(session, source=source, run_id=run.id, url=None, stage="crawl", message=message)
    finish_run(session, run, status=status, pages_fetched=run.pages_fetched or 0, new_articles=run.new_articles or 0,
               duplicates=run.duplicates or 0, errors=(run.errors or 0) + 1, error_summary=message,
               next_check_at=next_check_at)


def close_abandoned_runs(session: Session, before: datetime, message: str) -> int:
    """Runs left 'running' by a newsmon that is gone (SIGKILLed, a crash): interrupted."""
    runs = session.scalars(select(CrawlRun).where(CrawlRun.status == RunStatus.RUNNING,
                                                  CrawlRun.started_at < before)).all()
    for run in runs:
        run.status, run.finished_at, run.error_summary = RunStatus.INTERRUPTED, utcnow(), message
    return len(runs)


@dataclass(frozen=True)
class ScheduleRow:
    next_check_at: datetime | None
    last_run_at: datetime | None
    throttled_until: datetime | None


def schedule_rows(session: Session) -> dict[str, ScheduleRow]:
    """Every source's schedule as the archive keeps it (one query, for the daemon's start)."""
    rows = session.execute(select(SourceState.source, SourceState.next_check_at, SourceState.last_run_at,
                                  SourceState.throttled_until))
    return {source: ScheduleRow(next_at, last, throttled) for source, next_at, last, throttled in rows}


def recent_errors(session: Session, source: str, limit: int = 5) -> Sequence[FetchError]:
    return session.scalars(
        select(FetchError).where(FetchError.source == source)
        .order_by(FetchError.occurred_at.desc(), FetchError.id.desc()).limit(limit)
    ).all()


# --- throttling ---------------------------------------------------------------------


def mark_throttled(session: Session, source: str, until: datetime) -> None:
    state = _state(session, source)
    if state.throttled_until is None or state.throttled_until < until:
        state.throttled_until = until


# --- HTTP validators and seen URLs ----------------------------------------------------


def validators_for(session: Session, source: str, url: str) -> HttpValidator | None:
    return session.get(HttpValidator, (source, mask(url)))


def save_validators(session: Session, source: str, url: str, etag: str | None, last_modified: str | None,
                    when: datetime) -> None:
    url = mask(url)  # a feed URL may carry a ${TOKEN}: the key is stored masked, and looked up masked
    row = session.get(HttpValidator, (source, url))
    if row is None:
        session.add(HttpValidator(source=source, url=url, etag=etag, last_modified=last_modified, checked_at=when))
    else:
        row.etag, row.last_modified, row.checked_at = etag, last_modified, when


def remember_url(session: Session, source: str, canonical_url: str, outcome: str, when: datetime) -> None:
    row = session.get(SeenUrl, canonical_url)
    if row is None:
        session.add(SeenUrl(canonical_url=canonical_url, source=source, outcome=outcome[:200], last_seen=when))
    else:
        row.outcome, row.last_seen = outcome[:200], when


def known_canonical_urls(session: Session, canonical_urls: set[str], chunk: int = 500,
                         revisit_before: datetime | None = None) -> set[str]:
    """Which of these are archived articles or remembered non-articles; with
    `revisit_before`, articles last checked before then are not counted as known."""
    found: set[str] = set()
    urls = list(canonical_urls)
    for i in range(0, len(urls), chunk):
        part = urls[i:i + chunk]
        stmt = select(Article.canonical_url).where(Article.canonical_url.in_(part))
        if revisit_before is not None:
            stmt = stmt.where(func.coalesce(Article.checked_at, Article.fetched_at) >= revisit_before)
        found.update(session.scalars(stmt))
        found.update(session.scalars(select(SeenUrl.canonical_url).where(SeenUrl.canonical_url.in_(part))))
    return found


def forget_seen_urls(session: Session, older_than: datetime) -> int:
    return session.execute(delete(SeenUrl).where(SeenUrl.last_seen < older_than)).rowcount
