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
           "lang:zh", "科技 上海", "semiconductor AND railway", "ab",
           # ONEAR, "phrase"~n, site:, url:
           "trucks ONEAR/2 hydrogen", "hydrogen ONEAR/2 trucks", '"automated trucks"~2', '"automated trucks"~1',
           '"新质 资源"~20', "科技 ONEAR/3 资源", "site:xinhuanet.com", "site:xinhuanet.com AND chip",
           "site:xinhuanet.com AND satellit*", "site:news.xinhuanet.com", "site:evilxinhuanet.com", "site:com",
           "site:jjckb.cn OR railway", "NOT site:xinhuanet.com", "url:/2024-03/", "url:2024*c_", "url:%",
           "url:a_b", "url:/WORLD/", "site:jjckb.cn 新质生产力", "site:xinhuanet.com AND lang:en AND NOT port"]
URLS = ["https://english.news.xinhuanet.com/2024-03/01/c_1.htm", "http://www.jjckb.cn/2024-03/05/c_2.htm",
        "https://blog.example.org/a%20b/a_b", "http://evilxinhuanet.com/world/farm", "https://xinhuanet.com/World/x"]


@pytest.fixture
def sessions(archive_url):
    factory = session_factory(make_engine(archive_url))
    with session_scope(factory) as s:
        for n, (source, title, text, lang) in enumerate(ARTICLES):
            repo.add_article(s, url=URLS[n], canonical_url=f"http://x/{n}", source=source, title=title,
                             text=text, language=lang, content_hash=f"h{n}", fetched_at=repo.utcnow())
    return factory


@pytest.mark.parametrize("query", QUERIES)
def test_search_equals_the_rule_matcher(sessions, query):
    compiled = compile_query(query)
    expected = {title for (source, title, text, lang), url in zip(ARTICLES, URLS)
                if compiled.matches(Document(title=title, text=text, source=source, language=lang, url=url))}
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


@pytest.mark.parametrize("query, narrows", [
    ("site:xinhuanet.com", True), ("url:/2024-03/", True), ('"automated trucks"~2', True),
    ("trucks ONEAR/2 hydrogen", True), ("url:数据", False), ("NOT site:x.com", False),
])
def test_the_new_operators_narrow_in_sql(query, narrows):
    from monitor.rules import parse_query
    from monitor.store.search import _Translator

    for dialect in ("sqlite", "postgresql"):
        assert (_Translator(dialect)(parse_query(query)) is not None) is narrows


@pytest.mark.parametrize("query, candidates, found, exhausted", [
    ("NOT satellite", 2, 2, True),  # the index cannot narrow NOT: the budget stops it after two articles
    ("NOT satellite", 5, 4, False),  # five are all there are: the search covered the archive
    ("satellit*", 1, 1, False),  # the index narrows it to the one match: the budget is not touched further
])
def test_a_budget_bounds_what_a_search_checks(sessions, query, candidates, found, exhausted):
    from monitor.store.search import SearchBudget

    budget = SearchBudget(candidates)
    with session_scope(sessions) as s:
        results = list(search(s, query, limit=100, budget=budget))
    assert (len(results), budget.exhausted) == (found, exhausted)
    assert budget.checked <= candidates
