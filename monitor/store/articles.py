"""Article rows: insert (one or a batch), look up, mark matched, revise, prune."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Row, Select, and_, bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from monitor.redaction import mask
from monitor.store._base import conflict_insert, insert_ignoring_conflicts
from monitor.store.models import Article, ArticleRevision

# Statements on the crawl's write path are built once and run on the session's connection:
# building them and the ORM's bookkeeping per article cost more than the database's own work.
_articles = Article.__table__
_FIND_DUPLICATE = select(_articles.c.id, _articles.c.canonical_url).where(or_(
    _articles.c.canonical_url == bindparam("canonical_url"),
    and_(_articles.c.content_hash == bindparam("content_hash"), _articles.c.source == bindparam("source")),
)).limit(1)


def article_by_canonical_url(session: Session, canonical_url: str) -> Article | None:
    return session.scalar(select(Article).where(Article.canonical_url == canonical_url))


def find_duplicate(session: Session, canonical_url: str, content_hash: str, source: str) -> Row | None:
    """(id, canonical_url) of an archived article with the same canonical URL, or the same
    text from the same source; None if there is none."""
    return session.connection().execute(
        _FIND_DUPLICATE, dict(canonical_url=canonical_url, content_hash=content_hash, source=source)).first()


def add_article(session: Session, **fields: object) -> int | None:
    """Store a new article and return its id; None when another writer stored the same URL first."""
    fields["url"] = mask(fields.get("url"))
    row = insert_ignoring_conflicts(session, _articles, fields)
    return row[0] if row is not None else None


def add_articles(session: Session, rows: Sequence[dict]) -> dict[str, int]:
    """Insert many articles in one statement: {canonical URL: id} of those inserted (a URL
    another writer stored first is absent). SQLite's full-text index does its work per
    statement, so one statement for a batch costs about half of one per article.
    Each then needs its story (monitor.dedup.story_assignment), under the story lock."""
    if not rows:
        return {}
    rows = [{**row, "url": mask(row.get("url"))} for row in rows]  # credentials and ${TOKEN}s never stored
    insert = conflict_insert(session)
    if insert is None:
        ids = {row["canonical_url"]: add_article(session, **row) for row in rows}
        return {url: article_id for url, article_id in ids.items() if article_id is not None}
    stmt = insert(_articles).values(list(rows)).on_conflict_do_nothing() \
        .returning(_articles.c.id, _articles.c.canonical_url)
    return {url: article_id for article_id, url in session.connection().execute(stmt)}


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


def prune_article_text(session: Session, older_than: datetime) -> int:
    """Empty the text of articles stored before `older_than` (and drop their old revisions).
    URLs, hashes, signatures and stories stay, so duplicates are still recognised."""
    session.execute(delete(ArticleRevision).where(ArticleRevision.fetched_at < older_than))
    return session.execute(update(Article).where(Article.fetched_at < older_than, Article.text != "")
                           .values(text="")).rowcount
