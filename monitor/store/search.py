"""Full-text search behind one interface: SQLite FTS5 or PostgreSQL tsvector.

The index narrows the archive to candidates (a superset); every candidate is
then checked with the rule matcher, so results mean exactly what the rule
language says on both backends. Parts of a query the index cannot express
(NOT, terms too short for trigrams, Chinese terms of fewer than three
characters on PostgreSQL) simply do not narrow the search. source: and lang:
become the stored values the matcher accepts (article_counts knows them all).
site: and url: narrow with a LIKE on the URL (the site or the url: pieces as
substrings), NEAR/ONEAR to both sides being present, a phrase with slop to its
words. Chinese and Japanese terms on PostgreSQL use the trigram index on their
characters (migration 0012) where pg_trgm is installed, a LIKE scan otherwise.

Candidates come newest first, a few days of the archive at a time (windows of
whole UTC days from daily_article_counts, each about four times the articles of
the one before), so a common word costs no more than a rare one and no query
plan walks the whole archive: a window's matching ids are found and sorted
(on SQLite FTS5 is asked only about the window's article id range, otherwise
it finds every match in the archive first; on PostgreSQL a query without a
LIMIT lets the planner use the GIN index for rare words, where LIMIT made it
scan fetched_at backwards through every row), then their rows are read a few
hundred at a time.
"""

from __future__ import annotations

import functools
import json
import re
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Engine, and_, bindparam, false, func, literal_column, or_, select, text
from sqlalchemy.orm import Session

from monitor.rules import compile_query, parse_query
from monitor.rules.model import And, Document, Near, Not, Or, Term
from monitor.store.models import Article, ArticleCount, DailyArticleCount
from monitor.text.cjk import has_cjk
from monitor.text.dates import as_utc, utc_midnight

Condition = ColumnElement[bool] | None

# The characters newsmon_cjk_text() keeps (migration 0012's CJK_CLASS, which a unit test compares).
CJK_CLASS = "\u3005-\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f\u3040-\u30ff"
_CJK_RUN = re.compile(f"[{CJK_CLASS}]+")
FTS_LOW, FTS_HIGH = "fts_low", "fts_high"  # the article id range an SQLite search window asks FTS5 about


def _fts5_phrase(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


class _Translator:
    def __init__(self, dialect: str, *, windowed: bool = False, cjk_index: bool = False,
                 stored: Callable[[], tuple[list[str], list[str]]] | None = None):
        self.dialect = dialect
        self.windowed = windowed  # SQLite: FTS5 lookups bounded by the :fts_low/:fts_high id range
        self.cjk_index = cjk_index  # PostgreSQL: newsmon_cjk_text() has its trigram index
        self.stored = stored  # (sources, languages) the archive's articles have ('' = none), when known

    def value(self, term: Term) -> Condition:
        """source: and lang: as the stored values the matcher would accept (all of them are known from
        article_counts): exact, and an index lookup or nothing at all instead of a scan."""
        if self.stored is None:
            return None
        sources, languages = self.stored()
        compiled = compile_query(term)
        if term.field == "source":
            names = [name for name in sources if compiled.matches(Document(title="", text="", source=name))]
            return Article.source.in_(names) if names else false()
        codes = [code for code in languages if compiled.matches(Document(title="", text="", language=code or None))]
        conditions = [Article.language.in_([code for code in codes if code])] if any(codes) else []
        if "" in codes:
            conditions.append(or_(Article.language.is_(None), Article.language == ""))
        return or_(*conditions) if conditions else false()

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
            return self.value(term)
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
                    conditions = []
                    for run in runs:
                        pattern = f"%{_like_escaped(run)}%"
                        # the indexed form finds them; the plain LIKEs spare the regexp on rows that lack it
                        conditions += [kept.like(pattern, escape="\\"),
                                       or_(Article.title.like(pattern, escape="\\"),
                                           Article.text.like(pattern, escape="\\"))]
                    return and_(*conditions)
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


def _stored_values(session: Session) -> tuple[list[str], list[str]]:
    """The sources and languages ('' = none) the archive's articles have, from article_counts."""
    rows = session.execute(select(ArticleCount.source, ArticleCount.language).where(ArticleCount.articles > 0)).all()
    return sorted({source for source, _ in rows}), sorted({language for _, language in rows})


@dataclass
class SearchBudget:
    """How many candidates a search may check with the matcher. A query the index cannot narrow (`NOT x`
    alone, two-letter words) would otherwise read the whole archive; a web request stops at the budget
    and says so (`exhausted`), the CLI searches everything."""

    candidates: int
    checked: int = 0
    exhausted: bool = False


def search(session: Session, query: str, *, since: datetime | None = None, limit: int = 50,
           budget: SearchBudget | None = None) -> Iterator[tuple[Article, object]]:
    """(article, compiled query) for each article matching the rule query, newest first."""
    parsed = parse_query(query)
    compiled = compile_query(parsed)
    dialect = session.get_bind().dialect.name
    translator = _Translator(dialect, windowed=dialect == "sqlite",
                             cjk_index=dialect == "postgresql" and _has_cjk_index(session),
                             stored=functools.cache(lambda: _stored_values(session)))
    condition = translator(parsed)
    found = 0
    for article in _candidates(session, condition, since, limit):
        if budget is not None:
            if budget.checked >= budget.candidates:
                budget.exhausted = True
                return
            budget.checked += 1
        doc = Document(title=article.title or "", text=article.text or "", source=article.source,
                       language=article.language, url=article.url or article.canonical_url or "")
        if compiled.matches(doc):
            yield article, compiled
            found += 1
            if found >= limit:
                return


FIRST_WINDOW, LAST_WINDOW = 2_000, 1_000_000  # articles in a window
ROWS_AT_ONCE = 200  # candidate rows read at a time


def _days(session: Session, since: datetime | None) -> list[tuple[date, int, int, int]]:
    """(day, articles, lowest id, highest id) per UTC day, newest first. Every article is counted in
    daily_article_counts on its day with its id inside that day's range (triggers keep it so)."""
    stmt = select(DailyArticleCount.day, func.sum(DailyArticleCount.articles), func.min(DailyArticleCount.min_id),
                  func.max(DailyArticleCount.max_id)).group_by(DailyArticleCount.day) \
        .order_by(DailyArticleCount.day.desc())
    if since is not None:
        stmt = stmt.where(DailyArticleCount.day >= as_utc(since).date())
    return [(date.fromisoformat(day) if isinstance(day, str) else day, articles or 0, low, high)
            for day, articles, low, high in session.execute(stmt)]


def _next_size(size: int, articles: int, candidates: int, limit: int) -> int:
    """The next window: big enough for `limit` more candidates at the density just seen (twice over),
    at least four times the last; sixteen times when it had none."""
    if not candidates:
        return min(size * 16, LAST_WINDOW)
    return int(min(max(size * 4, 2 * articles * limit / candidates), size * 64, LAST_WINDOW))


def _bounded_by_window(session: Session, stmt) -> bool:
    """Whether the plan of a window's query reads only the window (fetched_at in an index condition).
    PostgreSQL, expecting few matches of a phrase or of words it takes for unrelated, may take every
    match of the archive from the GIN index and filter on fetched_at after: then each window would do
    that again, and one window of everything is cheaper. SQLite's windows always bound FTS5 (by id)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    compiled = stmt.compile(session.get_bind(), compile_kwargs={"render_postcompile": True})  # IN lists
    plan = session.connection().exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled),
                                                compiled.construct_params()).scalar()
    nodes = [(json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        if any("fetched_at" in node.get(key, "") for key in ("Index Cond", "Recheck Cond")):
            return True
        nodes += node.get("Plans", [])
    return False


def _candidates(session: Session, condition: Condition, since: datetime | None, limit: int) -> Iterator[Article]:
    """The articles the condition keeps, newest first (fetched_at, id), window by window of whole days:
    the window's ids sorted first (narrow rows, no LIMIT for a planner to misjudge), then their rows.
    The last window takes every older day and is open below; on PostgreSQL, when the first window's plan
    would not be bounded by it, the first window is the whole archive."""
    days = _days(session, since)
    size: int | None = FIRST_WINDOW  # None: every day left
    position, upper, checked = 0, None, False
    while position < len(days):
        count, low, high = 0, None, None
        while position < len(days) and (size is None or count < size):
            day, articles, min_id, max_id = days[position]
            count += articles
            low = min_id if low is None else min(low, min_id)
            high = max_id if high is None else max(high, max_id)
            position += 1
        first_day = day if position < len(days) else None
        stmt = select(Article.id).order_by(Article.fetched_at.desc(), Article.id.desc())
        if condition is not None:
            stmt = stmt.where(condition)
        if since is not None:
            stmt = stmt.where(Article.fetched_at >= since)
        if first_day is not None:
            stmt = stmt.where(Article.fetched_at >= utc_midnight(first_day))
        if upper is not None:
            stmt = stmt.where(Article.fetched_at < utc_midnight(upper))
        if not checked and first_day is not None and condition is not None:
            checked = True
            if not _bounded_by_window(session, stmt):  # the whole archive at once, then
                size, position = None, 0
                continue
        ids = list(session.scalars(stmt, {FTS_LOW: low, FTS_HIGH: high}))
        for start in range(0, len(ids), ROWS_AT_ONCE):
            chunk = ids[start:start + ROWS_AT_ONCE]
            rows = {a.id: a for a in session.scalars(select(Article).where(Article.id.in_(chunk)))}
            yield from (rows[i] for i in chunk if i in rows)
        size, upper = _next_size(size or count, count, len(ids), limit), first_day
