"""Read-only queries behind `newsmon web`: pages of stories and alerts by keyset (never OFFSET,
never a scan of the archive per request), one story with its articles and revisions, daily counts
for sparklines. The retry action writes through monitor.store.outbox, not here."""

from __future__ import annotations

import base64
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from monitor.store.models import Alert, Article, ArticleRevision, Story


class BadCursor(ValueError):
    """A pagination cursor this server did not hand out."""


def encode_cursor(when: datetime, row_id: int) -> str:
    return base64.urlsafe_b64encode(f"{when.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, row_id = raw.rsplit("|", 1)
        parsed = datetime.fromisoformat(when)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)), int(row_id)
    except (ValueError, UnicodeDecodeError):
        raise BadCursor(f"cursor {cursor!r} is not one this server handed out: start again without it") from None


@dataclass
class StorySummary:
    id: int
    title: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    article_count: int
    outlet_count: int
    outlets: list[str] = field(default_factory=list)  # in the order they carried the story
    languages: list[str] = field(default_factory=list)
    follow_seconds: float | None = None  # the last outlet's first article after the first one's

    def as_json(self) -> dict:
        return dict(id=self.id, title=self.title, first_seen_at=self.first_seen_at.isoformat(),
                    last_seen_at=self.last_seen_at.isoformat(), article_count=self.article_count,
                    outlet_count=self.outlet_count, outlets=self.outlets, languages=self.languages,
                    follow_seconds=self.follow_seconds)


@dataclass
class Page:
    items: list
    next_cursor: str | None


def stories_page(session: Session, *, since: datetime | None = None, until: datetime | None = None,
                 source: str | None = None, language: str | None = None, rule: str | None = None,
                 story_ids: list[int] | None = None, limit: int = 50, cursor: str | None = None) -> Page:
    """Stories newest first (by first_seen_at, id): one indexed range per page."""
    stmt = select(Story).order_by(Story.first_seen_at.desc(), Story.id.desc()).limit(limit + 1)
    if cursor:
        when, last_id = decode_cursor(cursor)
        stmt = stmt.where(or_(Story.first_seen_at < when, and_(Story.first_seen_at == when, Story.id < last_id)))
    if since is not None:
        stmt = stmt.where(Story.first_seen_at >= since)
    if until is not None:
        stmt = stmt.where(Story.first_seen_at < until)
    if story_ids is not None:
        stmt = stmt.where(Story.id.in_(story_ids or [-1]))
    article_filter = []
    if source:
        article_filter.append(Article.source == source)
    if language:
        article_filter.append(Article.language == language)
    if article_filter:
        stmt = stmt.where(exists().where(Article.story_id == Story.id, *article_filter))
    if rule:
        stmt = stmt.where(exists().where(Alert.article_id == Article.id, Article.story_id == Story.id,
                                         Alert.rule == rule))
    rows = list(session.scalars(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    summaries = _summaries(session, rows)
    next_cursor = encode_cursor(rows[-1].first_seen_at, rows[-1].id) if more and rows else None
    return Page(summaries, next_cursor)


def _summaries(session: Session, stories: list[Story]) -> list[StorySummary]:
    """Outlets, languages and follow time of a page of stories: one grouped query."""
    by_id = {s.id: StorySummary(s.id, s.title, s.first_seen_at, s.last_seen_at, s.article_count, s.outlet_count)
             for s in stories}
    if not by_id:
        return []
    firsts: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    languages: dict[int, set[str]] = defaultdict(set)
    rows = session.execute(
        select(Article.story_id, Article.source, Article.language, func.min(Article.fetched_at))
        .where(Article.story_id.in_(list(by_id)))
        .group_by(Article.story_id, Article.source, Article.language))
    for story_id, source, lang, first in rows:
        firsts[story_id].append((_aware(first), source))
        if lang:
            languages[story_id].add(lang)
    for story_id, summary in by_id.items():
        earliest: dict[str, datetime] = {}
        for when, source in sorted(firsts[story_id]):
            earliest.setdefault(source, when)
        summary.outlets = list(earliest)
        summary.languages = sorted(languages[story_id])
        if len(earliest) > 1:
            times = list(earliest.values())
            summary.follow_seconds = (times[-1] - times[0]).total_seconds()
    return [by_id[s.id] for s in stories]


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite aggregates come back as text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@dataclass
class StoryDetail:
    story: Story
    articles: list[Article]
    revisions: dict[int, list[ArticleRevision]]  # article id -> its earlier texts, oldest first


def story_detail(session: Session, story_id: int) -> StoryDetail | None:
    story = session.get(Story, story_id)
    if story is None:
        return None
    articles = list(session.scalars(select(Article).where(Article.story_id == story_id)
                                    .order_by(Article.fetched_at, Article.id)))
    revisions: dict[int, list[ArticleRevision]] = defaultdict(list)
    revised = [a.id for a in articles if a.revision_count]
    if revised:
        for rev in session.scalars(select(ArticleRevision).where(ArticleRevision.article_id.in_(revised))
                                   .order_by(ArticleRevision.article_id, ArticleRevision.revision)):
            revisions[rev.article_id].append(rev)
    return StoryDetail(story, articles, dict(revisions))


def alerts_page(session: Session, *, status: str | None = None, limit: int = 100,
                cursor: int | None = None) -> tuple[list[Alert], int | None]:
    """Alerts newest first by id; the cursor is the last id shown."""
    stmt = select(Alert).order_by(Alert.id.desc()).limit(limit + 1)
    if status:
        stmt = stmt.where(Alert.status == status)
    if cursor is not None:
        stmt = stmt.where(Alert.id < cursor)
    rows = list(session.scalars(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def days(until: date, count: int) -> list[date]:
    return [until - timedelta(days=count - 1 - i) for i in range(count)]


def articles_per_day(session: Session, since: datetime) -> dict[str, dict[date, int]]:
    """Per source, articles fetched per UTC day since `since` (the fetched_at index bounds it)."""
    day = func.date(Article.fetched_at)
    result: dict[str, dict[date, int]] = defaultdict(dict)
    for source, when, n in session.execute(select(Article.source, day, func.count())
                                           .where(Article.fetched_at >= since).group_by(Article.source, day)):
        result[source][_as_date(when)] = n
    return result


def rule_hits_per_day(session: Session, since: datetime) -> dict[str, dict[date, int]]:
    """Per rule, articles it matched (alerts queued) per UTC day since `since`."""
    day = func.date(Alert.created_at)
    result: dict[str, dict[date, int]] = defaultdict(dict)
    rows = session.execute(select(Alert.rule, day, func.count(func.distinct(Alert.article_id)))
                           .where(Alert.created_at >= since, Alert.kind == "article").group_by(Alert.rule, day))
    for rule, when, n in rows:
        result[rule][_as_date(when)] = n
    return result


def _as_date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def known_languages(session: Session) -> list[str]:
    return [v for v in session.scalars(select(Article.language).where(Article.language.is_not(None))
                                       .group_by(Article.language).limit(200))]
