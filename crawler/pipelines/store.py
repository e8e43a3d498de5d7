"""Step 4: write articles to the archive, dropping exact duplicates on the way.

Articles are written in batches, one transaction each: a commit, the story
lock and a session per article cost more than extracting the article. A batch
is written when it is full, when its oldest article has waited MAX_WAIT
seconds, and when the spider closes, in a writer thread: the database works
(full-text indexing, commits) while the reactor goes on downloading. One batch
is written at a time; when articles pile up faster than they are written, the
pipeline makes Scrapy wait. An article is reported new only once its batch has
committed; one the process never wrote is simply fetched again next cycle,
because only archived URLs are skipped.

The exact-duplicate check (same URL, or the same text from the same source)
runs inside the batch's transaction, so two copies within one batch are caught
too. The same text from another outlet is kept: it joins the story.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from twisted.internet import task
from twisted.internet.defer import Deferred

from crawler.context import CrawlContext, get_context
from crawler.items import ArticleItem
from crawler.progress import say
from monitor.extract.boilerplate import template_candidates
from monitor.store import repo
from monitor.store.session import session_scope

BATCH_SIZE = 50
MAX_WAIT = 1.0  # seconds an article may wait for its batch
MAX_BACKLOG = 4 * BATCH_SIZE  # articles waiting while a batch is written, before Scrapy is made to wait

Outcome = str | None | Exception  # None: stored; str: why not (a duplicate); Exception: the write failed


class StorePipeline:
    def __init__(self, context: CrawlContext, batch_size: int = BATCH_SIZE, max_wait: float = MAX_WAIT):
        self.context = context
        self.batch_size = batch_size
        self.max_wait = max_wait
        self.pending: list[ArticleItem] = []
        self.oldest: float | None = None  # when the oldest pending article arrived
        self.spider = None
        self._timer: task.LoopingCall | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsmon-store")
        self._writing: asyncio.Future | None = None  # the batch being written

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(get_context(cls.__name__))

    def open_spider(self, spider) -> None:  # noqa: ANN001
        self.spider = spider
        self._timer = task.LoopingCall(self._flush_if_stale)
        self._timer.start(self.max_wait, now=False)

    def close_spider(self, spider) -> Deferred:  # noqa: ANN001
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        return Deferred.fromFuture(asyncio.ensure_future(self._drain()))

    async def _drain(self) -> None:
        """Write everything still waiting, then let the writer thread go."""
        while self._writing is not None or self.pending:
            if self._writing is None:
                self._start_batch()
            await asyncio.wait([self._writing])  # its outcome is reported by _written, not raised here
        self._writer.shutdown(wait=True)

    def process_item(self, item: ArticleItem, spider):  # noqa: ANN001, ANN201
        if item.revision_of is not None:
            self._store_revision(item)
            return item
        self.pending.append(item)
        if self.oldest is None:
            self.oldest = time.monotonic()
        if len(self.pending) >= self.batch_size:
            self._start_batch()
        if len(self.pending) >= MAX_BACKLOG and self._writing is not None:
            # Back-pressure: the scraper slot stays busy until the current batch is written.
            return Deferred.fromFuture(asyncio.ensure_future(asyncio.wait([self._writing]))).addCallback(lambda _: item)
        return item

    def _flush_if_stale(self) -> None:
        if self.oldest is not None and time.monotonic() - self.oldest >= self.max_wait:
            self._start_batch()

    def _start_batch(self) -> None:
        """Hand what is pending to the writer thread, unless a batch is being written (it starts
        the next one when done)."""
        if self._writing is not None or not self.pending:
            return
        batch, self.pending, self.oldest = self.pending, [], None
        self._writing = asyncio.get_running_loop().run_in_executor(self._writer, self._write_batch, batch)
        self._writing.add_done_callback(lambda done: self._written(batch, done))

    def _written(self, batch: list[ArticleItem], done: asyncio.Future) -> None:
        """Back in the reactor thread: report each article, then start the next batch if one is due."""
        self._writing = None
        error = done.exception()
        outcomes: list[Outcome] = [error] * len(batch) if error is not None else done.result()
        for item, outcome in zip(batch, outcomes):
            self._report(item, outcome)
        if len(self.pending) >= self.batch_size:
            self._start_batch()
        else:
            self._flush_if_stale()

    def _write_batch(self, batch: list[ArticleItem]) -> list[Outcome]:
        """In the writer thread: the whole batch in one transaction, or, when that fails, each
        article alone, so one bad article costs only itself."""
        try:
            with session_scope(self.context.sessions) as session:
                outcomes = self._write(session, batch)
                self._count_template_lines(session, batch, outcomes)
            return outcomes
        except SQLAlchemyError:
            return [self._write_alone(item) for item in batch]

    def _write(self, session: Session, batch: list[ArticleItem]) -> list[Outcome]:
        """Drop exact duplicates (of the archive or of an earlier article in the batch), insert the
        rest in one statement, then put each in its story, in batch order."""
        repo.lock_story_assignment(session)
        outcomes: list[Outcome] = []
        fresh: list[tuple[int, ArticleItem]] = []  # (position in the batch, article)
        by_url: dict[str, str] = {}  # this batch's canonical URLs, and (source, hash) keys, to the URL
        for item in batch:
            text_key = f"{item.source}\0{item.content_hash}"
            earlier = by_url.get(item.canonical_url) or by_url.get(text_key)
            if earlier is None:
                existing = repo.find_duplicate(session, item.canonical_url, item.content_hash, item.source)
                earlier = existing.canonical_url if existing is not None else None
            if earlier is not None:
                outcomes.append(f"duplicate of {earlier}")
                continue
            by_url[item.canonical_url] = by_url[text_key] = item.canonical_url
            fresh.append((len(outcomes), item))
            outcomes.append(None)
        now = repo.utcnow()
        ids = repo.add_articles(session, [dict(
            url=item.url, canonical_url=item.canonical_url, source=item.source, title=item.title,
            author=item.author, published_at=item.published_at, language=item.language, outlet=item.outlet,
            text=item.text, content_hash=item.content_hash, minhash=item.minhash, fetched_at=now,
        ) for _, item in fresh])
        for position, item in fresh:
            article_id = ids.get(item.canonical_url)
            if article_id is None:
                outcomes[position] = "already archived by another crawl"
                continue
            repo.assign_story(session, article_id, item.minhash, title=item.title, source=item.source, when=now)
        return outcomes

    def _write_alone(self, item: ArticleItem) -> Outcome:
        try:
            with session_scope(self.context.sessions) as session:
                outcome, = self._write(session, [item])
                self._count_template_lines(session, [item], [outcome])
                return outcome
        except SQLAlchemyError as exc:
            return exc

    def _count_template_lines(self, session: Session, batch: list[ArticleItem], outcomes: list) -> None:
        """Lines seen in many of a source's articles become its learned template (monitor.extract.boilerplate)."""
        lines: Counter[tuple[str, str]] = Counter()
        for item, outcome in zip(batch, outcomes):
            if outcome is None:
                lines.update(template_candidates(item.text).items())
        if lines:
            repo.count_template_lines(session, self.spider.source.name, lines, repo.utcnow())

    def _report(self, item: ArticleItem, outcome: Outcome) -> None:
        runlog = self.spider.runlog
        if outcome is None:
            runlog.new_article(self.spider, item.title, item.url)
        elif isinstance(outcome, Exception):
            runlog.error(self.spider, "store", item.url,
                         f"archive write failed: {outcome.__class__.__name__}: {outcome}")
        else:
            runlog.count("duplicates")
            self.spider.logger.debug(f"not stored, {outcome}: {item.url}")

    def _store_revision(self, item: ArticleItem) -> None:
        try:
            with session_scope(self.context.sessions) as session:
                number = repo.record_revision(session, item.revision_of, title=item.title, text=item.text,
                                              content_hash=item.content_hash, minhash=item.minhash,
                                              when=repo.utcnow())
        except SQLAlchemyError as exc:
            self.spider.runlog.error(self.spider, "store", item.url,
                                     f"archive write failed: {exc.__class__.__name__}: {exc}")
            raise DropItem(f"revision not stored: {item.url}") from exc
        self.spider.runlog.count("revisions")
        if self.context.progress:
            say(self.spider.source.name, f"~ revision {number}: {item.title or item.url}")
