"""Full-text search gives exactly what the rule language says, on SQLite FTS5 and PostgreSQL tsvector."""

from __future__ import annotations

import pytest

from monitor.rules import Document, compile_query
from monitor.store import repo
from monitor.store.search import search
from monitor.store.session import make_engine, session_factory, session_scope

ARTICLES = [
    ("xinhua", "Satellite maker expands in Changchun", "The company launched 41 satellites at once.", "en"),
    ("jjckb", "科技创新开启新质生产力之门", "加快形成新质生产力，北京、上海等地整合科技创新资源。", "zh"),
    ("blog", "Chip self-reliance takes decades", "Building a semiconductor industry is not like building a railway.", "en"),
    ("farm", "Innovation drives growth", "Innovative firms and innovation policy; chips and lithography machines.", "en"),
    ("xinhua", "Qingdao port record", "Automated terminal, driverless trucks and hydrogen tractors.", "en"),
]
QUERIES = ["satellit*", "新质生产力", "新质生产力 OR railway", "chip", "chips", "innovat* NOT lithography",
           "title:(chip OR port)", "source:xinhua", "NOT satellite", '"driverless trucks"', "trucks NEAR/2 hydrogen",
           "lang:zh", "科技 上海", "semiconductor AND railway", "ab"]


@pytest.fixture
def sessions(archive_url):
    factory = session_factory(make_engine(archive_url))
    with session_scope(factory) as s:
        for n, (source, title, text, lang) in enumerate(ARTICLES):
            repo.add_article(s, url=f"http://x/{n}", canonical_url=f"http://x/{n}", source=source, title=title,
                             text=text, language=lang, content_hash=f"h{n}", fetched_at=repo.utcnow())
    return factory


@pytest.mark.parametrize("query", QUERIES)
def test_search_equals_the_rule_matcher(sessions, query):
    compiled = compile_query(query)
    expected = {title for source, title, text, lang in ARTICLES
                if compiled.matches(Document(title=title, text=text, source=source, language=lang))}
    with session_scope(sessions) as s:
        found = {article.title for article, _ in search(s, query, limit=100)}
    assert found == expected


def test_index_follows_updates_and_deletes(sessions):
    from sqlalchemy import delete, update

    from monitor.store.models import Article

    with session_scope(sessions) as s:
        s.execute(update(Article).where(Article.canonical_url == "http://x/4").values(text="Now about zeppelins."))
        s.execute(delete(Article).where(Article.canonical_url == "http://x/0"))
    with session_scope(sessions) as s:
        assert [a.title for a, _ in search(s, "zeppelins")] == ["Qingdao port record"]
        assert list(search(s, "driverless")) == []
        assert list(search(s, "satellit*")) == []
