"""Near-duplicate signatures and story grouping, on real archives."""

from __future__ import annotations

import multiprocessing
import random
from pathlib import Path

import pytest

from monitor.dedup.signatures import BANDS, NUM_PERM, band_keys, minhash, similarity
from monitor.dedup.stories import SAME_STORY, best_story
from monitor.dedup.story_assignment import store_in_stories
from monitor.store import repo
from monitor.store.models import Article, Story
from monitor.store.session import make_engine, session_factory, session_scope

SEEDS = Path(__file__).resolve().parents[2] / "replay" / "seeds"
TEXTS = {p.name[:3]: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}


def rewrite(text: str, share: float, seed: int = 1) -> str:
    rng = random.Random(seed)
    return " ".join(w if rng.random() > share else rng.choice(["very", "new", "major", "said"]) for w in text.split())


def reorder(text: str, seed: int = 1) -> str:
    paragraphs = [p for p in text.split("\n") if p.strip()]
    random.Random(seed).shuffle(paragraphs)
    return "\n".join(paragraphs)


@pytest.mark.parametrize("mutation", [
    lambda t: t,
    lambda t: rewrite(t, 0.10),
    reorder,
    lambda t: t + "\nSee also: an unrelated headline about something else entirely",
    lambda t: "\n".join(t.split("\n")[2:]),  # a paragraph dropped
])
def test_same_story_stays_above_threshold(mutation):
    original = TEXTS["004"]
    assert similarity(minhash(original), minhash(mutation(original))) >= SAME_STORY


@pytest.mark.parametrize("a, b", [("000", "003"), ("000", "004"), ("002", "003"), ("001", "004")])
def test_distinct_stories_on_one_topic_stay_apart(a, b):
    assert similarity(minhash(TEXTS[a]), minhash(TEXTS[b])) < SAME_STORY


def test_signature_shape_and_chinese():
    sig = minhash("加快形成新质生产力，推动高质量发展。" * 3)
    assert len(sig) == NUM_PERM * 4 and len(band_keys(sig)) == BANDS
    assert similarity(sig, minhash("加快形成新质生产力，推动高质量发展！" * 3)) > 0.8
    assert similarity(minhash(""), minhash("")) == 1.0


def test_best_story_prefers_most_similar_then_oldest():
    sig = minhash(TEXTS["004"])
    close, far = minhash(rewrite(TEXTS["004"], 0.05)), minhash(TEXTS["003"])
    assert best_story(sig, [(5, 50, far), (7, 70, close), (3, 30, close)]) == (30, similarity(sig, close))
    assert best_story(sig, [(5, 50, far)]) == (None, 0.0)


@pytest.fixture
def archive(archive_url):
    return archive_url


def _store(url: str, n: int, source: str, text: str) -> tuple[int, int]:
    """One article stored the way the crawl's writer stores a batch: (article id, story id)."""
    engine = make_engine(url)
    try:
        with session_scope(session_factory(engine)) as session:
            stored = store_in_stories(session, [dict(
                minhash=minhash(text), url=f"http://{source}/{n}", canonical_url=f"http://{source}/{n}",
                source=source, title=f"t{n}", text=text, content_hash=f"h{n}-{source}", fetched_at=repo.utcnow())])
            return tuple(stored[f"http://{source}/{n}"])
    finally:
        engine.dispose()  # a PostgreSQL test database cannot be dropped while a connection is open


def test_articles_group_into_stories_with_outlet_counts(archive):
    _store(archive, 1, "xinhua", TEXTS["004"])
    _store(archive, 2, "wordpress", rewrite(TEXTS["004"], 0.08))
    _store(archive, 3, "farm", reorder(TEXTS["004"]))
    _store(archive, 4, "farm", TEXTS["003"])
    engine = make_engine(archive)
    with session_scope(session_factory(engine)) as s:
        stories = {st.id: st for st in s.query(Story)}
        by_url = {a.canonical_url: a.story_id for a in s.query(Article)}
        assert by_url["http://xinhua/1"] == by_url["http://wordpress/2"] == by_url["http://farm/3"]
        assert by_url["http://farm/4"] != by_url["http://xinhua/1"]
        story = stories[by_url["http://xinhua/1"]]
        assert (story.article_count, story.outlet_count) == (3, 3)
        assert story.first_article_id == s.query(Article).filter_by(canonical_url="http://xinhua/1").one().id
        assert repo.story_outlets(s, story.id, except_source="xinhua") == ["wordpress", "farm"]
    engine.dispose()


def _racer(url: str, n: int, barrier, results) -> None:
    barrier.wait()
    results.put(_store(url, n, f"outlet{n}", rewrite(TEXTS["004"], 0.05, seed=n)))


def test_concurrent_writers_of_one_story_make_one_story(archive):
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(4), ctx.Queue()
    workers = [ctx.Process(target=_racer, args=(archive, n, barrier, results)) for n in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    stories = {results.get(timeout=5)[1] for _ in workers}
    assert len(stories) == 1
    engine = make_engine(archive)
    with session_scope(session_factory(engine)) as s:
        assert s.query(Story).count() == 1
        assert s.query(Story).one().article_count == 4
    engine.dispose()
