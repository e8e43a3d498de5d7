"""Step 4: write articles to the archive, dropping exact duplicates on the way.

Articles are written in batches, one transaction each: a commit, the story
lock and a session per article cost more than extracting the article. A batch
is written when it is full, when its oldest article has waited MAX_WAIT
seconds, and when the spider closes, by the crawl's archive writer thread
(crawler.archive_writer): the database works (full-text indexing, commits)
while the reactor goes on downloading. One batch of a spider is written at a
time; when articles pile up faster than they are written, the pipeline makes
Scrapy wait. An article is reported new only once its batch has committed; one
the process never wrote is simply fetched again next cycle, because only
archived URLs are skipped.

The exact-duplicate check (same URL, or the same text from the same source)
runs inside the batch's transaction, so two copies within one batch are caught
too. The same text from another outlet is kept: it joins the story.
"""

from __future__ import annotations

import asyncio
import time

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy.exc import SQLAlchemyError
from twisted.internet import task

from crawler import signals
from crawler.archive_writer import Outcome, write_batch
from crawler.context import CrawlContext, get_context
from crawler.items import ArticleItem
from crawler.progress import say
from monitor.store import repo

BATCH_SIZE = 50
MAX_WAIT = 1.0  # seconds an article may wait for its batch
MAX_BACKLOG = 4 * BATCH_SIZE  # articles waiting while a batch is written, before Scrapy is made to wait


class StorePipeline:
    def __init__(self, context: CrawlContext, crawler: Crawler, batch_size: int = BATCH_SIZE,
                 max_wait: float = MAX_WAIT):
        self.context = context
        self.crawler = crawler  # its spider is the one this pipeline serves
        self.batch_size = batch_size
        self.max_wait = max_wait
        self.pending: list[ArticleItem] = []
        self.oldest: float | None = None  # when the oldest pending article arrived
        self._timer: task.LoopingCall | None = None
        self._writing: asyncio.Future | None = None  # the batch being written

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(get_context(cls.__name__), crawler)

    @property
    def spider(self):
        return self.crawler.spider

    def open_spider(self) -> None:
        self._timer = task.LoopingCall(self._flush_if_stale)
        self._timer.start(self.max_wait, now=False)

    async def close_spider(self) -> None:
        """Write everything still waiting."""
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        while self._writing is not None or self.pending:
            if self._writing is None:
                self._start_batch()
            await asyncio.wait([self._writing])  # its outcome is reported by _written, not raised here

    def process_item(self, item: ArticleItem):
        if item.revision_of is not None:
            return self._store_revision(item)
        self.pending.append(item)
        if self.oldest is None:
            self.oldest = time.monotonic()
        if len(self.pending) >= self.batch_size:
            self._start_batch()
        if len(self.pending) >= MAX_BACKLOG and self._writing is not None:
            return self._after(self._writing, item)  # back-pressure: the scraper slot stays busy meanwhile
        return item

    @staticmethod
    async def _after(writing: asyncio.Future, item: ArticleItem) -> ArticleItem:
        await asyncio.wait([writing])
        return item

    def _flush_if_stale(self) -> None:
        if self.oldest is not None and time.monotonic() - self.oldest >= self.max_wait:
            self._start_batch()

    def _start_batch(self) -> None:
        """Hand what is pending to the writer, unless a batch is being written (it starts the
        next one when done)."""
        if self._writing is not None or not self.pending:
            return
        batch, self.pending, self.oldest = self.pending, [], None
        self._writing = asyncio.get_running_loop().run_in_executor(
            self.context.archive_writer(), write_batch, self.context.sessions, self.spider.source.name, batch)
        self._writing.add_done_callback(lambda done: self._written(batch, done))

    def _written(self, batch: list[ArticleItem], done: asyncio.Future) -> None:
        """Back in the reactor thread: report each article, then start the next batch if one is due."""
        self._writing = None
        error = asyncio.CancelledError("the archive writer was shut down") if done.cancelled() else done.exception()
        outcomes = [Outcome("failed", f"archive writer failed: {error.__class__.__name__}: {error}")] * len(batch) \
            if error is not None else done.result()
        for item, outcome in zip(batch, outcomes):
            self._report(item, outcome)
        if len(self.pending) >= self.batch_size:
            self._start_batch()
        else:
            self._flush_if_stale()

    def _report(self, item: ArticleItem, outcome: Outcome) -> None:
        if outcome.kind == "stored":
            signals.report_stored(self.crawler, item.title, item.url)
        elif outcome.kind == "failed":
            signals.report_error(self.crawler, "store", item.url, outcome.detail)
        else:
            signals.count(self.crawler, "duplicates")
            self.spider.logger.debug(f"not stored, {outcome.detail}: {item.url}")

    async def _store_revision(self, item: ArticleItem) -> ArticleItem:
        """A new version of an archived article, written by the archive writer thread."""
        try:
            number = await self.context.write(
                repo.record_revision, item.revision_of, title=item.title, text=item.text,
                content_hash=item.content_hash, minhash=item.minhash, when=repo.utcnow())
        except SQLAlchemyError as exc:
            signals.report_error(self.crawler, "store", item.url, f"archive write failed: {exc.__class__.__name__}: {exc}")
            raise DropItem(f"revision not stored: {item.url}") from exc
        signals.count(self.crawler, "revisions")
        if self.context.progress:
            say(self.spider.source.name, f"~ revision {number}: {item.title or item.url}")
        return item
