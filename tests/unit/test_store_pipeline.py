"""The batched store step: what one batch writes, what it drops, that one bad
article costs only itself, and that the pipeline reports each article once its
batch is written by the archive writer thread. Real archives (SQLite file,
PostgreSQL where it runs)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest
from scrapy.crawler import Crawler
from scrapy.utils.test import get_crawler
from sqlalchemy import select

from crawler import signals
from crawler.archive_writer import write_batch
from crawler.context import CrawlContext
from crawler.items import ArticleItem
from crawler.pipelines.store import StorePipeline
from monitor.dedup import content_hash
from monitor.dedup.signatures import minhash
from monitor.dedup.story_assignment import store_in_stories
from monitor.store import repo
from monitor.store.models import Article, BoilerplateLine, StoryLock
from monitor.store.session import make_engine, session_factory, session_scope

SEEDS = Path(__file__).resolve().parents[2] / "replay" / "seeds"
TEXTS = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]


class RecordingRunLog:
    """What the pipeline reports through a real Crawler's signals and stats (crawler.signals)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.new: list[str] = []
        self.errors: list[tuple[str, str]] = []
        crawler.signals.connect(lambda title, url: self.new.append(url), signal=signals.article_stored, weak=False)
        crawler.signals.connect(lambda stage, url, message: self.errors.append((url, message)),
                                signal=signals.fetch_error, weak=False)

    @property
    def counts(self) -> dict[str, int]:
        """Our counters in crawler.stats, other than the ones the signals above record."""
        stats = self.crawler.stats.get_stats()
        return {key.removeprefix(signals.STAT_PREFIX): value for key, value in stats.items()
                if key.startswith(signals.STAT_PREFIX) and key not in (signals.STAT_PREFIX + "new_articles",
                                                                       signals.STAT_PREFIX + "errors")}


@pytest.fixture
def archive(archive_url):
    return session_factory(make_engine(archive_url))


def make_pipeline(context: CrawlContext, **kwargs) -> StorePipeline:
    crawler = get_crawler()
    crawler.spider = SimpleNamespace(source=SimpleNamespace(name="agency"), runlog=RecordingRunLog(crawler),
                                     logger=SimpleNamespace(debug=lambda *a: None))
    return StorePipeline(context, crawler, **kwargs)


@pytest.fixture
def writer(archive):
    """write_batch on this archive: "stored", or why not, per article."""
    return lambda batch: [o.kind if o.kind == "stored" else o.detail for o in write_batch(archive, "agency", batch)]


def article(n: int, text: str, source: str = "agency") -> ArticleItem:
    url = f"http://{source}.example/{n}"
    return ArticleItem(source=source, url=url, body=b"", canonical_url=url, title=f"Story {n}", text=text,
                       content_hash=content_hash(text), minhash=minhash(text))


def stored_urls(sessions) -> list[str]:
    with session_scope(sessions) as s:
        return sorted(s.scalars(select(Article.canonical_url)))


@pytest.mark.parametrize("case", [
    # (name, articles as (n, text index, source), expected outcome per article: None = stored, else a word of why)
    ("distinct articles", [(1, 0, "agency"), (2, 1, "agency"), (3, 2, "agency")], [None, None, None]),
    ("same text, same source, one batch", [(1, 0, "agency"), (2, 0, "agency")], [None, "duplicate"]),
    ("same text, another outlet: kept for the story", [(1, 0, "agency"), (2, 0, "farm")], [None, None]),
], ids=lambda case: case[0])
def test_one_batch_outcomes(archive, writer, case):
    _name, specs, expected = case
    outcomes = writer([article(n, TEXTS[t], source) for n, t, source in specs])
    assert [None if o == "stored" else o.split()[0] for o in outcomes] == expected
    assert len(stored_urls(archive)) == expected.count(None)


def test_copies_from_two_outlets_share_a_story(archive, writer):
    writer([article(1, TEXTS[4], "agency"), article(2, TEXTS[4], "farm")])
    with session_scope(archive) as s:
        assert len({story for story in s.scalars(select(Article.story_id))}) == 1


def test_an_archived_url_is_a_duplicate_in_a_later_batch(archive, writer):
    assert writer([article(1, TEXTS[0])]) == ["stored"]
    outcome, = writer([article(1, TEXTS[1])])
    assert outcome.startswith("duplicate of http://agency.example/1")


def test_one_bad_article_costs_only_itself(archive, writer):
    bad = article(2, TEXTS[1])
    bad.text = None  # NOT NULL: the batch transaction fails, then each article is written alone
    outcomes = writer([article(1, TEXTS[0]), bad, article(3, TEXTS[2])])
    assert outcomes[0] == outcomes[2] == "stored"
    assert outcomes[1].startswith("archive write failed: IntegrityError")
    assert stored_urls(archive) == ["http://agency.example/1", "http://agency.example/3"]


def test_template_lines_are_counted_for_stored_articles_only(archive, writer):
    text = TEXTS[0] + "\n\nThis website uses cookies to improve your experience."
    writer([article(1, text), article(2, text)])  # the second is a duplicate
    with session_scope(archive) as s:
        counts = {row.line_text: row.article_count for row in s.scalars(select(BoilerplateLine))}
    assert counts and set(counts.values()) == {1}


def run_pipeline(pipeline: StorePipeline, items: list[ArticleItem]) -> None:
    async def crawl() -> None:
        for item in items:
            result = pipeline.process_item(item)
            assert result is item  # never held back while the backlog is small
            await asyncio.sleep(0)
        await pipeline.close_spider()

    asyncio.run(crawl())


def test_batches_go_to_the_writer_and_are_reported_after_commit(archive):
    """Through process_item: full batches go to the archive writer thread; the rest is written
    on close."""
    context = CrawlContext(config=None, sessions=archive, progress=False)
    pipeline = make_pipeline(context, batch_size=3)
    items = [article(n, TEXTS[n % len(TEXTS)] + f"\n\nUpdate {n}: a paragraph only this article has.")
             for n in range(7)]
    items.append(article(99, items[0].text))  # a copy of the first, same source: dropped
    try:
        run_pipeline(pipeline, items)
    finally:
        context.close()
    runlog = pipeline.spider.runlog
    assert sorted(runlog.new) == sorted(i.url for i in items[:7])
    assert runlog.counts == {"duplicates": 1} and runlog.errors == []
    assert len(stored_urls(archive)) == 7 and pipeline.pending == []


def test_failed_writes_are_reported_per_article(tmp_path):
    """A writer that cannot write (here: the archive was never migrated) fails each article
    with the reason, counts nothing as stored, and the crawl goes on."""
    sessions = session_factory(make_engine(f"sqlite:///{tmp_path / 'never-migrated.sqlite3'}"))
    context = CrawlContext(config=None, sessions=sessions, progress=False)
    pipeline = make_pipeline(context, batch_size=2)
    try:
        run_pipeline(pipeline, [article(n, TEXTS[n]) for n in range(3)])
    finally:
        context.close()
    runlog = pipeline.spider.runlog
    assert [url for url, _ in runlog.errors] == [f"http://agency.example/{n}" for n in range(3)]
    assert all(message.startswith("archive write failed") for _, message in runlog.errors)
    assert runlog.new == []


def test_storing_without_the_lock_held_takes_it(archive):
    """Writes outside the crawl's writer (benchmarks, tests) still serialize story assignment themselves."""
    row = dict(minhash=minhash(TEXTS[0]), url="http://x/1", canonical_url="http://x/1", source="agency", title="t",
               text=TEXTS[0], content_hash=content_hash(TEXTS[0]), fetched_at=repo.utcnow())
    lock_version = select(StoryLock.version).where(StoryLock.id == 1)
    with session_scope(archive) as s:
        before = s.scalar(lock_version)
        stored = store_in_stories(s, [row])
        assert s.scalar(lock_version) == before + 1
    article_id, story_id = stored["http://x/1"]
    assert article_id is not None and story_id is not None
    with session_scope(archive) as s:  # the same URL again: stored by "someone else" first, so absent
        assert store_in_stories(s, [row]) == {}


def test_a_slow_archive_makes_scrapy_wait_instead_of_piling_up(archive, monkeypatch):
    """While a batch is being written, at most MAX_BACKLOG articles wait; the next one is held
    (process_item returns an awaitable) until the writer catches up, and nothing is lost."""
    import threading

    from crawler.pipelines import store

    release = threading.Event()
    real_write = store.write_batch

    def slow_write(*args):
        release.wait(30)
        return real_write(*args)

    monkeypatch.setattr(store, "write_batch", slow_write)
    context = CrawlContext(config=None, sessions=archive, progress=False)
    pipeline = make_pipeline(context, batch_size=2)
    items = [article(n, f"Paragraph {n}: " + " ".join(f"w{n}x{i}" for i in range(60)))
             for n in range(2 + store.MAX_BACKLOG + 1)]

    async def crawl() -> bool:
        held = False
        for item in items:
            result = pipeline.process_item(item)
            if result is not item:  # held back: the writer is busy and the backlog is full
                held = True
                release.set()
                assert await result is item
        await pipeline.close_spider()
        return held

    try:
        assert asyncio.run(crawl())
    finally:
        release.set()
        context.close()
    assert len(pipeline.spider.runlog.new) == len(items) and len(stored_urls(archive)) == len(items)


# Run in its own process: the pipeline's timer is a Twisted LoopingCall, which needs the reactor
# Scrapy runs (asyncio), and installing a reactor here would hold for every later test.
_LONE_ARTICLE_CRAWL = """
import asyncio, json, sys
from scrapy.utils.reactor import install_reactor
install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
from twisted.internet import defer, reactor
from crawler.context import CrawlContext
from monitor.store.session import make_engine, session_factory
from tests.unit.test_store_pipeline import TEXTS, article, make_pipeline

context = CrawlContext(config=None, sessions=session_factory(make_engine(sys.argv[1])), progress=False)
pipeline = make_pipeline(context, batch_size=50, max_wait=0.2)
seen = {}

async def crawl():
    pipeline.open_spider()
    pipeline.process_item(article(1, TEXTS[0]))
    for _ in range(300):  # nothing flushes by hand: only the timer can write it (30 s at most)
        if pipeline.spider.runlog.new:
            break
        await asyncio.sleep(0.1)
    seen.update(new=pipeline.spider.runlog.new, pending=len(pipeline.pending), timer=pipeline._timer.running)
    pipeline._timer.stop()

def stop(result):
    reactor.stop()
    return result

reactor.callWhenRunning(lambda: defer.Deferred.fromFuture(asyncio.ensure_future(crawl())).addBoth(stop))
reactor.run()
context.close()
print(json.dumps(seen))
"""


def test_a_lone_article_is_written_after_max_wait(archive_url):
    """A slow site's one new article does not wait for a full batch: open_spider's timer writes it
    once it has waited max_wait, in a real reactor, with nobody calling a flush."""
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _LONE_ARTICLE_CRAWL, archive_url], capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"new": ["http://agency.example/1"], "pending": 0, "timer": True}
    assert stored_urls(session_factory(make_engine(archive_url))) == ["http://agency.example/1"]
