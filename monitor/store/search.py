"""Full-text search behind one interface: SQLite FTS5 or PostgreSQL tsvector.

The index narrows the archive to candidates (a superset); every candidate is
then checked with the rule matcher, so results mean exactly what the rule
language says on both backends. Parts of a query the index cannot express
(NOT, source:/lang: scopes, terms too short for trigrams, Chinese terms on
PostgreSQL's word index) simply do not narrow the search. site: and url:
narrow with a LIKE on the URL (the site or the url: pieces as substrings),
NEAR/ONEAR to both sides being present, a phrase with slop to its words.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import ColumnElement, and_, bindparam, func, literal_column, or_, select, text
from sqlalchemy.orm import Session

from monitor.rules import compile_query, parse_query
from monitor.rules.model import And, Document, Near, Not, Or, Term
from monitor.store.models import Article
from monitor.text.cjk import has_cjk

Condition = ColumnElement[bool] | None


def _fts5_phrase(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


class _Translator:
    def __init__(self, dialect: str):
        self.dialect = dialect

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
            return Article.id.in_(select(literal_column("rowid")).select_from(text("articles_fts"))
                                  .where(text("articles_fts MATCH :q").bindparams(bindparam("q", match, unique=True))))
        if self.dialect == "postgresql":
            if has_cjk(value):  # the 'simple' parser keeps a Chinese run as one lexeme
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


def search(session: Session, query: str, *, since: datetime | None = None,
           limit: int = 50) -> Iterator[tuple[Article, object]]:
    """(article, compiled query) for each article matching the rule query, newest first."""
    parsed = parse_query(query)
    compiled = compile_query(parsed)
    dialect = session.get_bind().dialect.name
    condition = _Translator(dialect)(parsed)
    stmt = select(Article).order_by(Article.fetched_at.desc(), Article.id.desc())
    if condition is not None:
        stmt = stmt.where(condition)
    if since is not None:
        stmt = stmt.where(Article.fetched_at >= since)
    found = 0
    for article in session.scalars(stmt.execution_options(yield_per=200)):
        doc = Document(title=article.title or "", text=article.text or "", source=article.source,
                       language=article.language, url=article.url or article.canonical_url or "")
        if compiled.matches(doc):
            yield article, compiled
            found += 1
            if found >= limit:
                return
