"""What the web view reads instead of scanning articles (migration 0012): story facets and article counts
kept by triggers, the pages and the search built on them. Each is compared with the same answer
computed from the articles and alerts themselves, on SQLite and on PostgreSQL."""

from __future__ import annotations

import importlib
import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, func, select, update

from monitor.dedup.story_assignment import store_in_stories
from monitor.rules import Document, compile_query
from monitor.store import repo, web_queries
from monitor.store import search as search_module
from monitor.store.models import (
    Alert,
    Article,
    ArticleCount,
    DailyArticleCount,
    Story,
    StoryRule,
    StorySource,
)
from monitor.store.search import search
from monitor.store.session import alembic_config, make_engine, migrate, session_factory, session_scope

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)
SOURCES = [("wire", "en"), ("paper", "zh"), ("blog", "en"), ("mixed", None)]


@pytest.fixture
def sessions(archive_url):
    engine = make_engine(archive_url)
    yield session_factory(engine)
    engine.dispose()


def _fill(sessions, n: int = 60, seed: int = 5) -> None:
    """Articles over ~20 days, several per story, stored the way the crawler stores them (insert, then
    the story), fetched_at not always in id order; alerts for a few rules."""
    rng = random.Random(seed)
    stories: list[int] = []
    words = ["economy", "growth", "satellite", "orbit", "trade", "新质生产力", "经济", "卫星发射任务"]
    for i in range(n):
        source, language = SOURCES[i % len(SOURCES)]
        when = T0 + timedelta(hours=rng.randrange(0, 20 * 24)) + timedelta(seconds=i)
        text = " ".join(rng.sample(words, 3)) + f" number{i}"
        with session_scope(sessions) as s:
            stored = store_in_stories(s, [dict(
                url=f"http://{source}.example/{i}", canonical_url=f"http://{source}.example/{i}", source=source,
                title=f"title {i}", text=text, language=language, content_hash=f"h{i}", fetched_at=when)])
            article_id, story_id = stored[f"http://{source}.example/{i}"]
            if i % 3 and stories:  # join an earlier story instead (as near-duplicates do)
                s.execute(update(Article).where(Article.id == article_id).values(story_id=rng.choice(stories)))
                s.execute(delete(Story).where(Story.id == story_id))
            else:
                stories.append(story_id)
            for rule in ("economy", "satellites", "trade"):
                if rule[:4] in text and rng.random() < 0.6:
                    repo.enqueue_alert(s, rule=rule, article_id=article_id, channel="hook", snippet=None, when=when)


def _expected(s) -> dict:
    articles = s.execute(select(Article.id, Article.source, Article.language, Article.fetched_at,
                                Article.story_id)).all()
    firsts = dict(s.execute(select(Story.id, Story.first_seen_at)).all())
    story_of = {a.id: a.story_id for a in articles}
    counts, daily, days = {}, {}, {}
    for a in articles:
        key = (a.source, a.language or "")
        counts[key] = counts.get(key, 0) + 1
        day = (a.fetched_at.astimezone(timezone.utc).date(), a.source)
        daily[day] = daily.get(day, 0) + 1
        days.setdefault(day, []).append(a.id)
    facets = {(a.story_id, a.source, a.language or "", firsts[a.story_id]) for a in articles if a.story_id}
    rules = {(story_of[article_id], rule, firsts[story_of[article_id]])
             for rule, article_id in s.execute(select(Alert.rule, Alert.article_id).where(
                 Alert.article_id.is_not(None))) if story_of.get(article_id)}
    return dict(counts=counts, daily=daily, days=days, facets=facets, rules=rules)


def _assert_kept(sessions) -> None:
    with sessions() as s:
        want = _expected(s)
        counts = {(r.source, r.language): r.articles for r in s.scalars(select(ArticleCount)) if r.articles}
        assert counts == want["counts"]
        daily = {(r.day, r.source): r for r in s.scalars(select(DailyArticleCount))}
        assert {key: row.articles for key, row in daily.items() if row.articles} == want["daily"]
        for key, ids in want["days"].items():  # every article's id inside its day's range
            assert daily[key].min_id <= min(ids) and max(ids) <= daily[key].max_id
        assert {(r.story_id, r.source, r.language, r.first_seen_at) for r in s.scalars(select(StorySource))} \
            == want["facets"]
        assert {(r.story_id, r.rule, r.first_seen_at) for r in s.scalars(select(StoryRule))} == want["rules"]


def test_triggers_keep_facets_and_counts(sessions):
    _fill(sessions)
    _assert_kept(sessions)
    with session_scope(sessions) as s:  # every kind of change the triggers follow
        ids = list(s.scalars(select(Article.id).order_by(Article.id)))
        s.execute(update(Article).where(Article.id == ids[5]).values(story_id=1))
        s.execute(update(Article).where(Article.id == ids[6]).values(source="renamed"))
        s.execute(update(Article).where(Article.id == ids[7]).values(language=None))
        s.execute(update(Article).where(Article.id == ids[8]).values(fetched_at=T0 - timedelta(days=40)))
        s.execute(update(Article).where(Article.id == ids[9]).values(title="only the title"))  # nothing to do
        s.execute(delete(Article).where(Article.id == ids[10]))  # its alerts go with it (cascade)
        s.execute(delete(Alert).where(Alert.id == s.scalar(select(func.min(Alert.id)))))
        s.execute(update(Alert).where(Alert.id == s.scalar(select(func.max(Alert.id)))).values(rule="renamed"))
        s.execute(update(Story).where(Story.id == 2).values(first_seen_at=T0 - timedelta(days=1)))
        repo.enqueue_health_alert(s, rule="health:failing", channel="hook", payload={}, event_key="e", when=T0)
    _assert_kept(sessions)


def test_migration_fills_them_from_an_existing_archive(archive_url):
    from alembic import command

    command.downgrade(alembic_config(archive_url), "0011_alert_digests")
    engine = make_engine(archive_url)
    sessions = session_factory(engine)
    try:
        _fill(sessions, n=24)
        migrate(archive_url)
        _assert_kept(sessions)
    finally:
        engine.dispose()


def _brute_stories(s, *, source=None, language=None, rule=None) -> list[int]:
    """The stories filter's meaning, from the articles and alerts themselves."""
    keep = []
    for story in s.scalars(select(Story).order_by(Story.first_seen_at.desc(), Story.id.desc())):
        articles = list(s.scalars(select(Article).where(Article.story_id == story.id)))
        if (source or language) and not any((not source or a.source == source)
                                             and (not language or a.language == language) for a in articles):
            continue
        if rule and not s.scalar(select(Alert.id).where(Alert.rule == rule,
                                                        Alert.article_id.in_([a.id for a in articles])).limit(1)):
            continue
        keep.append(story.id)
    return keep


@pytest.mark.parametrize("filters", [
    {}, {"source": "wire"}, {"source": "mixed"}, {"language": "zh"}, {"language": "en"}, {"rule": "economy"},
    {"source": "blog", "language": "en"}, {"source": "wire", "language": "zh"}, {"source": "paper", "rule": "trade"},
    {"language": "en", "rule": "satellites"}, {"source": "nobody"},
])
def test_stories_pages_filtered_mean_what_they_did(sessions, monkeypatch, filters):
    _fill(sessions)
    monkeypatch.setattr(web_queries, "FACET_PROBE", 3)  # the smaller-filter choice made on a few rows
    with sessions() as s:
        want = _brute_stories(s, **filters)
        got, cursor = [], None
        while True:  # pages of 4, by cursor
            page = web_queries.stories_page(s, limit=4, cursor=cursor, **filters)
            got += [item.id for item in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert got == want
        since = T0 + timedelta(days=5)
        page = web_queries.stories_page(s, since=since, limit=1000, **filters)
        firsts = dict(s.execute(select(Story.id, Story.first_seen_at)).all())
        assert [item.id for item in page.items] == [i for i in want if firsts[i] >= since]
        some = want[::2]
        page = web_queries.stories_page(s, story_ids=some, limit=1000, **filters)
        assert [item.id for item in page.items] == some


def test_counts_pages_read(sessions):
    _fill(sessions)
    with sessions() as s:
        want = _expected(s)
        assert web_queries.known_languages(s) == sorted({lang for _, lang in want["counts"] if lang})
        since = T0 + timedelta(days=3)  # 09:30: that first day counts its articles from 09:30 on
        expected: dict = {}
        for a in s.scalars(select(Article).where(Article.fetched_at >= since)):
            day = a.fetched_at.astimezone(timezone.utc).date()
            expected.setdefault(a.source, {})[day] = expected.get(a.source, {}).get(day, 0) + 1
        assert web_queries.articles_per_day(s, since) == expected
        midnight = since.replace(hour=0, minute=0)
        expected = {}
        for a in s.scalars(select(Article).where(Article.fetched_at >= midnight)):
            day = a.fetched_at.astimezone(timezone.utc).date()
            expected.setdefault(a.source, {})[day] = expected.get(a.source, {}).get(day, 0) + 1
        assert web_queries.articles_per_day(s, midnight) == expected
        statuses = {st.source: st.articles for st in repo.source_statuses(s, [name for name, _ in SOURCES])}
        totals: dict = {}
        for (source, _lang), n in want["counts"].items():
            totals[source] = totals.get(source, 0) + n
        assert {k: statuses.get(k, 0) for k in totals} == totals


@pytest.mark.parametrize("bounded", [True, False])
@pytest.mark.parametrize("query", ["economy", "新质生产力", "卫星发射任务 OR orbit", "经济", "number1*",
                                   "growth AND NOT trade", "site:wire.example", "lang:zh", "lang:EN", "lang:fr",
                                   "lang:e*", "source:wire AND economy", "source:WIRE", "source:nobody OR orbit",
                                   "NOT lang:en", "source:mixed AND NOT lang:zh"])
def test_search_in_windows_is_newest_first_and_complete(sessions, monkeypatch, query, bounded):
    _fill(sessions, n=80)
    monkeypatch.setattr(search_module, "FIRST_WINDOW", 3)  # many small windows
    monkeypatch.setattr(search_module, "_next_size", lambda size, *_: size + 2)
    if not bounded:  # as when PostgreSQL's plan would not be bounded by the window: one window of all
        monkeypatch.setattr(search_module, "_bounded_by_window", lambda *_: False)
    monkeypatch.setattr(search_module, "ROWS_AT_ONCE", 4)
    compiled = compile_query(query)
    with sessions() as s:
        every = s.scalars(select(Article).order_by(Article.fetched_at.desc(), Article.id.desc())).all()
        want = [a.id for a in every if compiled.matches(Document(
            title=a.title or "", text=a.text, source=a.source, language=a.language, url=a.url))]
        assert want or query == "lang:fr", query
        assert [a.id for a, _ in search(s, query, limit=1000)] == want
        assert [a.id for a, _ in search(s, query, limit=5)] == want[:5]
        since = T0 + timedelta(days=7, hours=5)
        kept = {a.id for a in every if a.fetched_at >= since}
        assert [a.id for a, _ in search(s, query, since=since, limit=1000)] == [i for i in want if i in kept]


def test_search_splits_cjk_terms_with_the_class_the_index_keeps():
    migration = importlib.import_module("migrations.versions.0012_web_view_facets_and_counts")
    assert search_module.CJK_CLASS == migration.CJK_CLASS
