"""Full-text search behind one interface: SQLite FTS5 or PostgreSQL tsvector.

The index narrows the archive to candidates (a superset); every candidate is
then checked with the rule matcher, so results mean exactly what the rule
language says on both backends. Parts of a query the index cannot express
(NOT, source:/lang: scopes, terms too short for trigrams, Chinese terms of
fewer than three characters on PostgreSQL) simply do not narrow the search.
site: and url: narrow with a LIKE on the URL (the site or the url: pieces as
substrings), NEAR/ONEAR to both sides being present, a phrase with slop to its
words. Chinese and Japanese terms on PostgreSQL use the trigram index on their
characters (migration 0012) where pg_trgm is installed, a LIKE scan otherwise.

Candidates come newest first, a part of the archive at a time, so a common
word costs no more than a rare one: on SQLite a few days at a time (their
article id range from daily_article_counts bounds the FTS5 lookup, which
otherwise finds every match of the archive before the first row), on
PostgreSQL in keyset batches with a LIMIT the planner can use.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator
from datetime import date, datetime, timezone

from sqlalchemy import ColumnElement, Engine, and_, bindparam, func, literal_column, or_, select, text
from sqlalchemy.orm import Session

from monitor.rules import compile_query, parse_query
from monitor.rules.model import And, Document, Near, Not, Or, Term
from monitor.store.models import Article, DailyArticleCount
from monitor.text.cjk import has_cjk

Condition = ColumnElement[bool] | None

# The characters newsmon_cjk_text() keeps (migration 0012's CJK_CLASS, which a unit test compares).
CJK_CLASS = "\u3005-\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f\u3040-\u30ff"
_CJK_RUN = re.compile(f"[{CJK_CLASS}]+")
FTS_LOW, FTS_HIGH = "fts_low", "fts_high"  # the article id range an SQLite search window asks FTS5 about


def _fts5_phrase(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


class _Translator:
    def __init__(self, dialect: str, *, windowed: bool = False, cjk_index: bool = False):
        self.dialect = dialect
        self.windowed = windowed  # SQLite: FTS5 lookups bounded by the :fts_low/:fts_high id range
        self.cjk_index = cjk_index  # PostgreSQL: newsmon_cjk_text() has its trigram index

    def url(self, term: Term) -> Condition:
        pieces = [p for p in term.text.lower().split("*") if p]
        if not pieces or not all(p.isascii() for p in pieces):  # lower() in SQL may fold only ASCII
            return None
        pattern = "%" + "%".join(p.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                                 for p in pieces) + "%"
        return or_(func.lower(Article.url).like(pattern, escape="\\"),
                   func.lower(Article.canonical_url).like(pattern, escape="\\"))

    def term(self, term: Term) -> Condition:
        if term.field in ("site", "url"):
            return self.url(term)
        if term.field in ("source", "lang"):
            return None
        if term.slop:  # the words in order with gaps: each word must be there
            words = [Term(w, prefix=term.prefix and i == len(term.text.split()) - 1, field=term.field)
                     for i, w in enumerate(term.text.split())]
            return self(And(tuple(words)))
        value = " ".join(term.text.split())
        if self.dialect == "sqlite":
            if len(value) < 3:  # trigrams need three characters
                return None
            match = _fts5_phrase(value)
            rowid = literal_column("rowid")
            lookup = select(rowid).select_from(text("articles_fts")).where(
                text("articles_fts MATCH :q").bindparams(bindparam("q", match, unique=True)))
            if self.windowed:
                lookup = lookup.where(rowid >= bindparam(FTS_LOW), rowid <= bindparam(FTS_HIGH))
            return Article.id.in_(lookup)
        if self.dialect == "postgresql":
            if has_cjk(value):  # the 'simple' parser keeps a Chinese run as one lexeme
                runs = [run for run in _CJK_RUN.findall(value) if len(run) >= 3]  # trigrams need three
                if self.cjk_index and runs:  # each run is in the text as it is: a superset
                    kept = func.newsmon_cjk_text(Article.title, Article.text)
                    return and_(*[kept.like(f"%{_like_escaped(run)}%", escape="\\") for run in runs])
                pattern = f"%{value}%"
                return or_(Article.title.ilike(pattern), Article.text.ilike(pattern))
            words = [w for w in value.split() if w.isalnum()]
            if not words:
                return None
            if term.prefix:
                words[-1] += ":*"
            query = " <-> ".join(words) if term.phrase else " & ".join(words)
            return literal_column("search_vector").op("@@")(func.to_tsquery("simple", query))
        return None

    def __call__(self, node) -> Condition:
        if isinstance(node, Term):
            return self.term(node)
        if isinstance(node, And):
            parts = [c for c in map(self, node.items) if c is not None]
            return and_(*parts) if parts else None
        if isinstance(node, Or):
            parts = [self(item) for item in node.items]
            return None if any(p is None for p in parts) else or_(*parts)
        if isinstance(node, Near):
            sides = [side if isinstance(side, tuple) else (side,) for side in (node.left, node.right)]
            conditions = []
            for terms in sides:
                parts = [self.term(t) for t in terms]
                if all(p is not None for p in parts):
                    conditions.append(or_(*parts))
            return and_(*conditions) if conditions else None
        if isinstance(node, Not):
            return None
        return None


def _like_escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_CJK_INDEX: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def _has_cjk_index(session: Session) -> bool:
    """Whether this PostgreSQL archive has the trigram index of migration 0012 (pg_trgm may be missing)."""
    engine = session.get_bind()
    if engine not in _CJK_INDEX:
        _CJK_INDEX[engine] = session.scalar(text(
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_articles_search_vector_cjk' "
            "AND schemaname = current_schema()")) > 0
    return _CJK_INDEX[engine]


def search(session: Session, query: str, *, since: datetime | None = None,
           limit: int = 50) -> Iterator[tuple[Article, object]]:
    """(article, compiled query) for each article matching the rule query, newest first."""
    parsed = parse_query(query)
    compiled = compile_query(parsed)
    dialect = session.get_bind().dialect.name
    windowed = dialect == "sqlite"
    translator = _Translator(dialect, windowed=windowed,
                             cjk_index=dialect == "postgresql" and _has_cjk_index(session))
    condition = translator(parsed)
    if windowed:
        candidates = _in_windows(session, condition, since)
    else:
        candidates = _in_batches(session, condition, since)
    found = 0
    for article in candidates:
        doc = Document(title=article.title or "", text=article.text or "", source=article.source,
                       language=article.language, url=article.url or article.canonical_url or "")
        if compiled.matches(doc):
            yield article, compiled
            found += 1
            if found >= limit:
                return


FIRST_WINDOW, WINDOW_GROWTH, LAST_WINDOW = 2_000, 4, 1_000_000  # articles in a window (SQLite)
FIRST_BATCH, BATCH_GROWTH, LAST_BATCH = 100, 4, 5_000  # candidates in a batch (PostgreSQL)


def _newest_first(stmt):
    return stmt.order_by(Article.fetched_at.desc(), Article.id.desc())


def _in_batches(session: Session, condition: Condition, since: datetime | None) -> Iterator[Article]:
    """Candidates newest first, in keyset batches of growing size, each a query with a LIMIT."""
    size, after = FIRST_BATCH, None
    while True:
        stmt = _newest_first(select(Article)).limit(size)
        if condition is not None:
            stmt = stmt.where(condition)
        if since is not None:
            stmt = stmt.where(Article.fetched_at >= since)
        if after is not None:
            when, last_id = after
            stmt = stmt.where(Article.fetched_at <= when, or_(Article.fetched_at < when, Article.id < last_id))
        rows = list(session.scalars(stmt))
        yield from rows
        if len(rows) < size:
            return
        after = rows[-1].fetched_at, rows[-1].id
        size = min(size * BATCH_GROWTH, LAST_BATCH)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def _utc(when: datetime) -> datetime:
    return when.astimezone(timezone.utc) if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _windows(session: Session, since: datetime | None) -> Iterator[tuple[date | None, date | None, int, int]]:
    """(first day, the day after the last or None, lowest id, highest id) of windows of whole UTC days,
    newest first, each with about WINDOW_GROWTH times the articles of the one before; the last one
    takes every older day (first day None). Every article is counted in daily_article_counts on its
    day, with its id inside that day's range (triggers keep it so), so the windows miss none."""
    stmt = select(DailyArticleCount.day, func.sum(DailyArticleCount.articles), func.min(DailyArticleCount.min_id),
                  func.max(DailyArticleCount.max_id)).group_by(DailyArticleCount.day) \
        .order_by(DailyArticleCount.day.desc())
    if since is not None:
        stmt = stmt.where(DailyArticleCount.day >= _utc(since).date())
    size, upper, count, low, high = FIRST_WINDOW, None, 0, None, None
    for value, articles, min_id, max_id in session.execute(stmt).all():
        day = date.fromisoformat(value) if isinstance(value, str) else value
        count += articles or 0
        low = min_id if low is None else min(low, min_id)
        high = max_id if high is None else max(high, max_id)
        if count >= size:
            yield day, upper, low, high
            size, upper, count, low, high = min(size * WINDOW_GROWTH, LAST_WINDOW), day, 0, None, None
    if low is not None:
        yield None, upper, low, high


def _in_windows(session: Session, condition: Condition, since: datetime | None) -> Iterator[Article]:
    """Candidates newest first, window by window (SQLite): each window's FTS5 lookups are bounded by
    its article ids, and its matches sorted by fetched_at."""
    for first_day, next_day, low, high in _windows(session, since):
        stmt = _newest_first(select(Article))
        if condition is not None:
            stmt = stmt.where(condition)
        if since is not None:
            stmt = stmt.where(Article.fetched_at >= since)
        if first_day is not None:
            stmt = stmt.where(Article.fetched_at >= _midnight(first_day))
        if next_day is not None:
            stmt = stmt.where(Article.fetched_at < _midnight(next_day))
        yield from session.scalars(stmt, {FTS_LOW: low, FTS_HIGH: high})
