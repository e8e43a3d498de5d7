"""Queries on the archive. Everything that reads or writes rows goes through here."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import Select, and_, bindparam, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.redaction import mask
from monitor.store.models import (
    Alert,
    Article,
    ArticleBand,
    ArticleRevision,
    BoilerplateLine,
    CrawlRun,
    FetchError,
    HttpValidator,
    SeenUrl,
    SourceState,
    Story,
    StoryLock,
)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# The dialects whose INSERT has ON CONFLICT DO NOTHING; others use a savepoint per row.
_CONFLICT_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def _conflict_insert(session: Session):  # noqa: ANN202
    return _CONFLICT_INSERTS.get(session.get_bind().dialect.name)


def _insert_ignoring_conflicts(session: Session, table, values: dict):  # noqa: ANN001, ANN202
    """INSERT … ON CONFLICT DO NOTHING; the new row's primary key, or None when nothing was inserted."""
    insert = _conflict_insert(session)
    if insert is not None:
        # Values as parameters, not in the statement: the compiled statement is cached and reused.
        return session.connection().execute(_insert_or_ignore(table, insert), values).first()
    else:  # portable fallback: a savepoint absorbs the unique violation
        try:
            with session.begin_nested():
                return session.execute(table.insert().values(**values).returning(*table.primary_key.columns)).first()
        except IntegrityError:
            return None


@functools.cache
def _insert_or_ignore(table, insert):  # noqa: ANN001, ANN202
    return insert(table).on_conflict_do_nothing().returning(*table.primary_key.columns)


# Statements on the crawl's write path are built once and run on the session's connection:
# building them and the ORM's bookkeeping per article cost more than the database's own work.
_articles = Article.__table__
_stories = Story.__table__
_FIND_DUPLICATE = select(_articles.c.id, _articles.c.canonical_url).where(or_(
    _articles.c.canonical_url == bindparam("canonical_url"),
    and_(_articles.c.content_hash == bindparam("content_hash"), _articles.c.source == bindparam("source")),
)).limit(1)
_SET_STORY = update(_articles).where(_articles.c.id == bindparam("article_id")).values(story_id=bindparam("story_id"))
_NEW_STORY = _stories.insert().returning(_stories.c.id)
_LOCK_STORIES = update(StoryLock.__table__).where(StoryLock.__table__.c.id == 1).values(
    version=StoryLock.__table__.c.version + 1)
_SOURCE_IN_STORY = select(_articles.c.id).where(
    _articles.c.story_id == bindparam("story_id"), _articles.c.source == bindparam("source")).limit(1)
_JOIN_STORY = update(_stories).where(_stories.c.id == bindparam("story_id")).values(
    article_count=_stories.c.article_count + 1, last_seen_at=bindparam("when"),
    outlet_count=_stories.c.outlet_count + bindparam("new_outlet"))


# --- articles ----------------------------------------------------------------


def article_by_canonical_url(session: Session, canonical_url: str) -> Article | None:
    return session.scalar(select(Article).where(Article.canonical_url == canonical_url))


def find_duplicate(session: Session, canonical_url: str, content_hash: str, source: str):  # noqa: ANN201
    """(id, canonical_url) of an archived article with the same canonical URL, or the same
    text from the same source; None if there is none."""
    return session.connection().execute(
        _FIND_DUPLICATE, dict(canonical_url=canonical_url, content_hash=content_hash, source=source)).first()


def add_article(session: Session, **fields: object) -> int | None:
    """Store a new article and return its id; None when another writer stored the same URL first."""
    fields["url"] = mask(fields.get("url"))
    row = _insert_ignoring_conflicts(session, Article.__table__, fields)
    return row[0] if row is not None else None


def unmatched_articles(session: Session, limit: int = 500) -> Sequence[Article]:
    return session.scalars(
        select(Article).where(Article.matched_at.is_(None)).order_by(Article.id).limit(limit)
    ).all()


def mark_matched(session: Session, article_ids: Iterable[int], when: datetime) -> None:
    ids = list(article_ids)
    if ids:
        session.execute(update(Article).where(Article.id.in_(ids)).values(matched_at=when))


def articles_since(session: Session, since: datetime | None) -> Select[tuple[Article]]:
    stmt = select(Article).order_by(Article.fetched_at, Article.id)
    if since is not None:
        stmt = stmt.where(Article.fetched_at >= since)
    return stmt


# --- crawl runs and source state ---------------------------------------------


def start_run(session: Session, source: str, when: datetime | None = None) -> CrawlRun:
    run = CrawlRun(source=source, started_at=when or utcnow(), status="running",
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


def finish_run(session: Session, run: CrawlRun, *, status: str, pages_fetched: int, new_articles: int,
               duplicates: int, errors: int, error_summary: str | None, when: datetime | None = None) -> None:
    """Close a run and fold it into the source's state shown by `newsmon status`."""
    when = when or utcnow()
    error_summary = mask(error_summary)
    run.finished_at = when
    run.status = status
    run.pages_fetched = pages_fetched
    run.new_articles = new_articles
    run.duplicates = duplicates
    run.errors = errors
    run.error_summary = error_summary
    state = _state(session, run.source)
    state.last_run_at = when
    if status == "failed":
        state.consecutive_failures = (state.consecutive_failures or 0) + 1
        state.total_failures = (state.total_failures or 0) + 1
    else:
        state.last_success_at = when
        state.consecutive_failures = 0
    if error_summary:
        state.last_error = error_summary[:4000]
        state.last_error_at = when
    if new_articles:
        state.last_new_article_at = when


def record_source_failure(session: Session, source: str, message: str, when: datetime | None = None) -> None:
    """A crawl that never got to report (crashed, timed out): still visible in status."""
    run = start_run(session, source, when)
    record_fetch_error(session, source=source, run_id=run.id, url=None, stage="crawl", message=message, when=when)
    finish_run(session, run, status="failed", pages_fetched=0, new_articles=0, duplicates=0,
               errors=1, error_summary=message, when=when)


def last_run_at(session: Session, source: str) -> datetime | None:
    state = session.get(SourceState, source)
    return state.last_run_at if state else None


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
    articles: int
    pending_alerts: int
    dead_alerts: int


def source_statuses(session: Session, sources: Iterable[str]) -> list[SourceStatus]:
    names = sorted(set(sources) | set(session.scalars(select(SourceState.source))))
    article_counts = dict(session.execute(select(Article.source, func.count()).group_by(Article.source)).all())
    alert_rows = session.execute(
        select(Article.source, Alert.status, func.count())
        .join(Article, Alert.article_id == Article.id)
        .group_by(Article.source, Alert.status)
    ).all()
    alerts: dict[tuple[str, str], int] = {(src, status): n for src, status, n in alert_rows}
    result = []
    for name in names:
        state = session.get(SourceState, name)
        result.append(SourceStatus(
            source=name,
            last_run_at=state.last_run_at if state else None,
            last_success_at=state.last_success_at if state else None,
            last_new_article_at=state.last_new_article_at if state else None,
            last_error=state.last_error if state else None,
            last_error_at=state.last_error_at if state else None,
            consecutive_failures=state.consecutive_failures if state else 0,
            throttled_until=state.throttled_until if state else None,
            articles=article_counts.get(name, 0),
            pending_alerts=alerts.get((name, "pending"), 0) + alerts.get((name, "sending"), 0),
            dead_alerts=alerts.get((name, "dead"), 0),
        ))
    return result


def recent_errors(session: Session, source: str, limit: int = 5) -> Sequence[FetchError]:
    return session.scalars(
        select(FetchError).where(FetchError.source == source)
        .order_by(FetchError.occurred_at.desc(), FetchError.id.desc()).limit(limit)
    ).all()


# --- the alerts outbox -------------------------------------------------------


def new_delivery_key() -> str:
    """A globally unique idempotency key (ids repeat across rebuilt archives; uuid4s do not)."""
    return uuid.uuid4().hex


def enqueue_alert(session: Session, *, rule: str, article_id: int, channel: str,
                  snippet: str | None, when: datetime | None = None, revision: int = 0) -> bool:
    """One outbox row per (rule, article, channel); False if it already exists."""
    when = when or utcnow()
    row = _insert_ignoring_conflicts(session, Alert.__table__, dict(
        rule=rule, article_id=article_id, channel=channel, status="pending", attempts=0, revision=revision,
        next_attempt_at=when, snippet=snippet, created_at=when, delivery_key=new_delivery_key(),
    ))
    return row is not None


def due_alert_ids(session: Session, now: datetime, limit: int) -> list[int]:
    return list(session.scalars(
        select(Alert.id).where(Alert.status == "pending", Alert.next_attempt_at <= now)
        .order_by(Alert.next_attempt_at, Alert.id).limit(limit)
    ))


def claim_alert(session: Session, alert_id: int, now: datetime, *, owner: str,
                lease: timedelta) -> Alert | None:
    """Move one alert from pending to sending, held by `owner` until now + lease; None if
    another pass took it first. The attempt is counted here, not after the send, so an
    alert whose send kills the process still reaches max_attempts."""
    claimed = session.execute(
        update(Alert).where(Alert.id == alert_id, Alert.status == "pending")
        .values(status="sending", attempts=Alert.attempts + 1, claimed_by=owner, claimed_until=now + lease)
    ).rowcount
    if not claimed:
        return None
    return session.get(Alert, alert_id, populate_existing=True)


def claim_owners(session: Session) -> list[str | None]:
    """The distinct owners of alerts in 'sending'."""
    return list(session.scalars(select(Alert.claimed_by).where(Alert.status == "sending").distinct()))


def release_claims(session: Session, now: datetime, *, gone_owners: Iterable[str], max_attempts: int) -> int:
    """Claims whose owner is gone, or whose lease has ended (or that have none), go back to
    pending, or become dead letters when they have used max_attempts. Each row is updated
    only if its claim is unchanged, so a claim taken again meanwhile is left alone."""
    gone = set(gone_owners)
    stale = or_(Alert.claimed_until.is_(None), Alert.claimed_until < now)
    if gone:
        stale = or_(stale, Alert.claimed_by.in_(gone))
    rows = session.execute(
        select(Alert.id, Alert.claimed_by, Alert.attempts).where(Alert.status == "sending", stale)
    ).all()
    released = 0
    for alert_id, owner, attempts in rows:
        why = "died mid-send" if owner in gone else "held its claim past the lease"
        who = f"the delivering process ({owner or 'unknown'})"
        if attempts >= max_attempts:
            values = dict(status="dead", last_error=(
                f"{who} {why}; {attempts} attempts used (delivery.max_attempts {max_attempts}). If the "
                "process crashes on this alert, check its log, then `newsmon alerts retry ID`"))
        else:
            values = dict(status="pending", next_attempt_at=now, last_error=f"attempt {attempts}: {who} {why}")
        released += session.execute(
            update(Alert).where(Alert.id == alert_id, Alert.status == "sending",
                                Alert.claimed_by.is_(None) if owner is None else Alert.claimed_by == owner)
            .values(claimed_by=None, claimed_until=None, **values)
        ).rowcount
    return released


def mark_alert_sent(session: Session, alert: Alert, when: datetime, note: str | None = None) -> None:
    """`note`: what a partial delivery left out (kept in last_error of the sent alert)."""
    alert.status = "sent"
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
        alert.status = "dead"
    else:
        alert.status = "pending"
        alert.next_attempt_at = when + retry_in


def list_alerts(session: Session, status: str | None = None, limit: int = 100) -> Sequence[Alert]:
    stmt = select(Alert).order_by(Alert.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(Alert.status == status)
    return session.scalars(stmt).all()


def requeue_alert(session: Session, alert_id: int, when: datetime) -> Alert | None:
    alert = session.get(Alert, alert_id)
    if alert is None:
        return None
    if alert.status in ("dead", "pending"):
        alert.status = "pending"
        alert.next_attempt_at = when
    return alert


def alert_counts(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Alert.status, func.count()).group_by(Alert.status)).all())


# --- learned site boilerplate ------------------------------------------------


def count_template_lines(session: Session, source: str, lines: Mapping[tuple[str, str], int],
                         when: datetime) -> None:
    """Add article counts per (line hash, normalized line) for one source."""
    if not lines:
        return
    hashes = [line_hash for line_hash, _text in lines]
    existing = {row.line_hash: row for row in session.scalars(select(BoilerplateLine).where(
        BoilerplateLine.source == source, BoilerplateLine.line_hash.in_(hashes)))}
    new_rows = []
    for (line_hash, line_text), count in lines.items():
        row = existing.get(line_hash)
        if row is not None:
            row.article_count += count
            row.last_seen = when
        else:
            new_rows.append(dict(source=source, line_hash=line_hash, line_text=line_text, article_count=count,
                                 first_seen=when, last_seen=when))
    if new_rows:  # one multi-row INSERT; a concurrent crawl's rows win a tie (counts stay approximate)
        insert = _conflict_insert(session)
        table = BoilerplateLine.__table__
        if insert is None:
            for row in new_rows:
                _insert_ignoring_conflicts(session, table, row)
        else:
            for i in range(0, len(new_rows), 500):
                session.execute(insert(table).values(new_rows[i:i + 500]).on_conflict_do_nothing())


def learned_boilerplate(session: Session, source: str, min_articles: int) -> frozenset[str]:
    return frozenset(session.scalars(select(BoilerplateLine.line_text).where(
        BoilerplateLine.source == source, BoilerplateLine.article_count >= min_articles)))


# --- what the crawler remembers between cycles -------------------------------------


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


def touch_checked(session: Session, article_id: int, when: datetime) -> None:
    session.execute(update(Article).where(Article.id == article_id).values(checked_at=when))


def record_revision(session: Session, article_id: int, *, title: str | None, text: str, content_hash: str,
                    minhash: bytes | None, when: datetime) -> int:
    """Keep the article's current text as a revision and replace it with the new one; its
    rules run again (matched_at cleared). Returns the new revision number."""
    article = session.get(Article, article_id)
    number = (article.revision_count or 0) + 1
    session.add(ArticleRevision(article_id=article_id, revision=number, title=article.title, text=article.text,
                                content_hash=article.content_hash, fetched_at=article.checked_at or article.fetched_at))
    article.title, article.text, article.content_hash = title or article.title, text, content_hash
    article.minhash = minhash or article.minhash
    article.revision_count = number
    article.checked_at = when
    article.matched_at = None
    return number


def forget_seen_urls(session: Session, older_than: datetime) -> int:
    from sqlalchemy import delete

    return session.execute(delete(SeenUrl).where(SeenUrl.last_seen < older_than)).rowcount


def mark_throttled(session: Session, source: str, until: datetime) -> None:
    state = _state(session, source)
    if state.throttled_until is None or state.throttled_until < until:
        state.throttled_until = until


def throttled_until(session: Session, source: str) -> datetime | None:
    state = session.get(SourceState, source)
    return state.throttled_until if state else None


# --- stories -----------------------------------------------------------------------


def lock_story_assignment(session: Session) -> None:
    """Serialize story assignment (see StoryLock): call first in the transaction."""
    session.connection().execute(_LOCK_STORIES)


def story_candidates(session: Session, keys: list[tuple[int, int]], exclude: int | None = None,
                     limit: int = 200) -> list[tuple[int, int | None, bytes | None]]:
    """Articles sharing at least one LSH band key: one indexed lookup per band."""
    if not keys:
        return []
    params: dict[str, int] = {"exclude": -1 if exclude is None else exclude, "limit": limit}
    for n, (band, key) in enumerate(keys):
        params[f"b{n}"], params[f"k{n}"] = band, key
    rows = session.connection().execute(_candidates_sql(len(keys)), params)
    return [tuple(row) for row in rows]


@functools.lru_cache(maxsize=8)
def _candidates_sql(bands: int):  # noqa: ANN202
    """Plain SQL, built once per band count: constructing 32 OR'ed expressions per article
    cost more than running the query."""
    pairs = " OR ".join(f"(band = :b{n} AND key = :k{n})" for n in range(bands))
    return text(
        "SELECT id, story_id, minhash FROM articles WHERE id IN "
        f"(SELECT DISTINCT article_id FROM article_bands WHERE {pairs} LIMIT :limit) AND id <> :exclude"
    )


def add_bands(session: Session, article_id: int, keys: list[tuple[int, int]]) -> None:
    if keys:
        session.connection().execute(ArticleBand.__table__.insert(), [
            {"band": band, "key": key, "article_id": article_id} for band, key in set(keys)])


def join_story(session: Session, article_id: int, story_id: int, source: str, when: datetime) -> None:
    conn = session.connection()
    already_there = conn.execute(_SOURCE_IN_STORY, dict(story_id=story_id, source=source)).first() is not None
    conn.execute(_SET_STORY, dict(article_id=article_id, story_id=story_id))
    conn.execute(_JOIN_STORY, dict(story_id=story_id, when=when, new_outlet=0 if already_there else 1))


def new_story(session: Session, article_id: int, title: str | None, when: datetime) -> int:
    conn = session.connection()
    story_id = conn.execute(_NEW_STORY, dict(
        first_article_id=article_id, first_seen_at=when, last_seen_at=when, article_count=1, outlet_count=1,
        title=title)).scalar_one()
    conn.execute(_SET_STORY, dict(article_id=article_id, story_id=story_id))
    return story_id


def story_outlets(session: Session, story_id: int, except_source: str | None = None) -> list[str]:
    stmt = select(Article.source).where(Article.story_id == story_id).group_by(Article.source) \
        .order_by(func.min(Article.fetched_at))
    return [s for s in session.scalars(stmt) if s != except_source]


def story_alerted(session: Session, story_id: int | None, rule: str, article_id: int) -> bool:
    """Whether another article of this story already queued an alert for this rule."""
    if story_id is None:
        return False
    return session.scalar(select(func.count()).select_from(Alert).join(Article, Alert.article_id == Article.id)
                          .where(Article.story_id == story_id, Alert.rule == rule,
                                 Alert.article_id != article_id)) > 0


def store_article(session: Session, signature: bytes | None, **fields: object) -> tuple[int | None, int | None]:
    """Insert an article and put it in a story, atomically: (article id, story id),
    or (None, None) when the URL was stored by someone else first."""
    lock_story_assignment(session)
    article_id = add_article(session, minhash=signature, **fields)
    if article_id is None:
        return None, None
    story_id = assign_story(session, article_id, signature, title=fields.get("title"),  # type: ignore[arg-type]
                            source=fields["source"], when=fields["fetched_at"])  # type: ignore[arg-type]
    return article_id, story_id


def add_articles(session: Session, rows: Sequence[dict]) -> dict[str, int]:
    """Insert many articles in one statement: {canonical URL: id} of those inserted (a URL
    another writer stored first is absent). SQLite's full-text index does its work per
    statement, so one statement for a batch costs about half of one per article.
    Call `assign_story` for each afterwards, under the story lock."""
    if not rows:
        return {}
    rows = [{**row, "url": mask(row.get("url"))} for row in rows]  # credentials and ${TOKEN}s never stored
    insert = _conflict_insert(session)
    if insert is None:
        ids = {row["canonical_url"]: add_article(session, **row) for row in rows}
        return {url: article_id for url, article_id in ids.items() if article_id is not None}
    stmt = insert(_articles).values(list(rows)).on_conflict_do_nothing() \
        .returning(_articles.c.id, _articles.c.canonical_url)
    return {url: article_id for article_id, url in session.connection().execute(stmt)}


def assign_story(session: Session, article_id: int, signature: bytes | None, *, title: str | None, source: str,
                 when: datetime) -> int:
    """Put a stored article in the story of its nearest near-duplicate, or a new story; the
    caller holds the story lock (`lock_story_assignment`) in this transaction."""
    from monitor.dedup.signatures import band_keys
    from monitor.dedup.stories import best_story

    keys = band_keys(signature) if signature else []
    story_id, _score = best_story(signature, story_candidates(session, keys, exclude=article_id)) \
        if signature else (None, 0.0)
    if story_id is None:
        story_id = new_story(session, article_id, title, when)
    else:
        join_story(session, article_id, story_id, source, when)
    add_bands(session, article_id, keys)
    return story_id


# --- retention and size ------------------------------------------------------------


def prune_article_text(session: Session, older_than: datetime) -> int:
    """Empty the text of articles stored before `older_than` (and drop their old revisions).
    URLs, hashes, signatures and stories stay, so duplicates are still recognised."""
    from sqlalchemy import delete

    session.execute(delete(ArticleRevision).where(ArticleRevision.fetched_at < older_than))
    return session.execute(update(Article).where(Article.fetched_at < older_than, Article.text != "")
                           .values(text="")).rowcount


@dataclass(frozen=True)
class ArchiveSize:
    bytes: int | None
    articles: int
    stories: int
    articles_with_text: int


def archive_size(session: Session) -> ArchiveSize:
    import os

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
