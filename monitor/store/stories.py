"""Story rows and the LSH band index: the reads and writes story assignment is made of.

Which story an article joins is decided in monitor.dedup (stories.best_story);
monitor.dedup.story_assignment runs these in order, under the story lock.
"""

from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import TextClause, bindparam, func, select, text, update
from sqlalchemy.orm import Session

from monitor.store.models import Alert, Article, ArticleBand, Story, StoryLock

# Built once and run on the session's connection (see monitor.store.articles).
_articles = Article.__table__
_stories = Story.__table__
_SET_STORY = update(_articles).where(_articles.c.id == bindparam("article_id")).values(story_id=bindparam("story_id"))
_NEW_STORY = _stories.insert().returning(_stories.c.id)
_LOCK_STORIES = update(StoryLock.__table__).where(StoryLock.__table__.c.id == 1).values(
    version=StoryLock.__table__.c.version + 1)
_SOURCE_IN_STORY = select(_articles.c.id).where(
    _articles.c.story_id == bindparam("story_id"), _articles.c.source == bindparam("source")).limit(1)
_JOIN_STORY = update(_stories).where(_stories.c.id == bindparam("story_id")).values(
    article_count=_stories.c.article_count + 1, last_seen_at=bindparam("when"),
    outlet_count=_stories.c.outlet_count + bindparam("new_outlet"))


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
def _candidates_sql(bands: int) -> TextClause:
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
