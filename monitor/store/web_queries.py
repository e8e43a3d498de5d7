"""Read-only queries behind `newsmon web`: pages of stories and alerts by keyset (never OFFSET,
never a scan of the archive per request), one story with its articles and revisions, daily counts
for sparklines. The retry action writes through monitor.store.outbox, not here."""

from __future__ import annotations

import base64
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from monitor.store.models import (
    Alert,
    Article,
    ArticleCount,
    ArticleRevision,
    DailyArticleCount,
    Story,
    StoryRule,
    StorySource,
)
from monitor.text.dates import as_utc, utc_midnight


class BadCursor(ValueError):
    """A pagination cursor this server did not hand out."""


def encode_cursor(when: datetime, row_id: int) -> str:
    return base64.urlsafe_b64encode(f"{when.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, row_id = raw.rsplit("|", 1)
        parsed = as_utc(datetime.fromisoformat(when))
        number = int(row_id)
        if not 0 < number < 2**63:
            raise ValueError(row_id)
        return parsed, number
    except (ValueError, UnicodeDecodeError, OverflowError):
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


@dataclass
class Page:
    items: list
    next_cursor: str | None


def stories_page(session: Session, *, since: datetime | None = None, until: datetime | None = None,
                 source: str | None = None, language: str | None = None, rule: str | None = None,
                 story_ids: list[int] | None = None, limit: int = 50, cursor: str | None = None) -> Page:
    """Stories newest first (by first_seen_at, id): one indexed range per page. Filtered by source,
    language (of one and the same article) or rule (an alert of any of its articles), the range is
    one of story_sources or story_rules (kept by triggers), in the same order."""
    after = decode_cursor(cursor) if cursor else None
    if story_ids is None and (source or language or rule):
        keys = _faceted_keys(session, source=source, language=language, rule=rule, since=since, until=until,
                             after=after, limit=limit + 1)
        found = {s.id: s for s in session.scalars(select(Story).where(Story.id.in_([k for _, k in keys])))}
        rows = [found[k] for _, k in keys if k in found]
    else:
        stmt = select(Story).order_by(Story.first_seen_at.desc(), Story.id.desc()).limit(limit + 1)
        stmt = stmt.where(*_page_bounds(Story.first_seen_at, Story.id, since, until, after))
        if story_ids is not None:
            stmt = stmt.where(Story.id.in_(story_ids or [-1]))
        if source or language:
            stmt = stmt.where(exists().where(StorySource.story_id == Story.id,
                                             *_source_filter(source, language, probe=True)))
        if rule:
            stmt = stmt.where(exists().where(StoryRule.story_id == Story.id, _probed(StoryRule.rule) == rule))
        rows = list(session.scalars(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    summaries = _summaries(session, rows)
    next_cursor = encode_cursor(rows[-1].first_seen_at, rows[-1].id) if more and rows else None
    return Page(summaries, next_cursor)


def _page_bounds(first_seen_at, story_id, since: datetime | None, until: datetime | None,
                 after: tuple[datetime, int] | None) -> list:
    """since/until and the keyset after the cursor, written so both backends use the index range
    (first_seen_at <= when first: an OR alone is not a range to SQLite)."""
    bounds = []
    if after is not None:
        when, last_id = after
        bounds += [first_seen_at <= when, or_(first_seen_at < when, story_id < last_id)]
    if since is not None:
        bounds.append(first_seen_at >= since)
    if until is not None:
        bounds.append(first_seen_at < until)
    return bounds


def _probed(column):
    """The column as an expression no index is on: a probe by story id must use the primary key, not
    walk the (source|language|rule, first_seen_at) index SQLite would otherwise pick for the equality."""
    return column + ""


def _source_filter(source: str | None, language: str | None, probe: bool = False) -> list:
    conditions = []
    if source:
        conditions.append((_probed(StorySource.source) if probe else StorySource.source) == source)
    if language:
        conditions.append((_probed(StorySource.language) if probe else StorySource.language) == language)
    return conditions


FACET_PROBE = 5000  # rows counted at most to pick the smaller of two filters to walk


def _faceted_keys(session: Session, *, source: str | None, language: str | None, rule: str | None,
                  since: datetime | None, until: datetime | None, after: tuple[datetime, int] | None,
                  limit: int) -> list[tuple[datetime, int]]:
    """(first_seen_at, story id) of the page, walking the facet table's index newest first; with both a
    source/language filter and a rule, the smaller of the two is walked and the other probed by key."""
    walks = []  # (table, its conditions walking its index, its conditions probed by story id)
    if source or language:
        # With both, the source's index is walked (a source is the narrower) and the language checked on its rows.
        walk = _source_filter(source, None) + _source_filter(None, language, probe=bool(source))
        walks.append((StorySource, walk, _source_filter(source, language, probe=True)))
    if rule:
        walks.append((StoryRule, [StoryRule.rule == rule], [_probed(StoryRule.rule) == rule]))
    if len(walks) == 2:
        walks.sort(key=lambda walk: session.scalar(select(func.count()).select_from(
            select(walk[0].story_id).where(*walk[1]).limit(FACET_PROBE).subquery())))
    table, conditions, _ = walks[0]
    stmt = select(table.first_seen_at, table.story_id).where(
        *conditions, *_page_bounds(table.first_seen_at, table.story_id, since, until, after))
    for other, _, probed in walks[1:]:
        stmt = stmt.where(exists().where(other.story_id == table.story_id, *probed))
    if table is StorySource and not (source and language):
        stmt = stmt.distinct()  # one row per (story, source, language): a story can have several
    stmt = stmt.order_by(table.first_seen_at.desc(), table.story_id.desc()).limit(limit)
    return [(when, story_id) for when, story_id in session.execute(stmt)]


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
    return as_utc(value)


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
    """Alerts newest first by id, each with its article's story id loaded (one more query); the cursor is
    the last id shown."""
    stmt = (select(Alert).order_by(Alert.id.desc()).limit(limit + 1)
            .options(selectinload(Alert.article).load_only(Article.story_id)))
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
    """Per source, articles fetched per UTC day since `since`: from daily_article_counts (kept by
    triggers); a `since` after midnight counts its own day's articles from `since` on."""
    since = as_utc(since)
    first_day = since.date()
    result: dict[str, dict[date, int]] = defaultdict(dict)
    whole_from = first_day
    if since != utc_midnight(first_day):
        whole_from = first_day + timedelta(days=1)
        midnight = utc_midnight(whole_from)
        for source, n in session.execute(select(Article.source, func.count())
                                         .where(Article.fetched_at >= since, Article.fetched_at < midnight)
                                         .group_by(Article.source)):
            result[source][first_day] = n
    for source, day, n in session.execute(
            select(DailyArticleCount.source, DailyArticleCount.day, DailyArticleCount.articles)
            .where(DailyArticleCount.day >= whole_from, DailyArticleCount.articles > 0)):
        result[source][_as_date(day)] = n
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
    """The languages the archive's articles have, from article_counts (kept by triggers)."""
    return list(session.scalars(
        select(ArticleCount.language).where(ArticleCount.articles > 0, ArticleCount.language != "")
        .group_by(ArticleCount.language).order_by(ArticleCount.language).limit(200)))
