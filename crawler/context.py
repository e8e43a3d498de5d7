"""What a crawl process shares: the config loaded once and the archive.

Scrapy deep-copies its settings for every crawler, so live objects such as a
database engine cannot travel in them; components fetch them from here.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field

from scrapy.exceptions import NotConfigured
from sqlalchemy.orm import Session, sessionmaker

from crawler.extraction_job import ready
from crawler.parent_watch import exit_with_parent
from monitor.config import NewsmonConfig

_current: CrawlContext | None = None


@dataclass
class CrawlContext:
    config: NewsmonConfig
    sessions: sessionmaker[Session]
    progress: bool = True  # print one line per article/error for `newsmon crawl`
    _pool: ProcessPoolExecutor | None = field(default=None, repr=False)
    _writer: ThreadPoolExecutor | None = field(default=None, repr=False)

    def extraction_pool(self) -> ProcessPoolExecutor | None:
        """Worker processes for extraction, shared by every source in this crawl: extraction
        is CPU-bound and would otherwise stall downloads in the reactor thread."""
        workers = self.config.crawl.extract_workers
        if workers is None:
            workers = max(1, (os.cpu_count() or 2) - 1)
        if workers == 0:
            return None
        if self._pool is None:
            # spawn: a forked copy of a running reactor and open database connections is no place to work.
            # The initializer: a worker outlives a SIGKILLed crawl otherwise (it waits on its task queue forever).
            self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=exit_with_parent, initargs=(os.getpid(),))
            for _ in range(workers):  # start and import now: a cold worker would stall the first articles
                self._pool.submit(ready)
        return self._pool

    def archive_writer(self) -> ThreadPoolExecutor:
        """The thread writing article batches (crawler.archive_writer) for every source in this
        crawl: the database works (full-text indexing, commits) while the reactor downloads."""
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsmon-archive-writer")
        return self._writer

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None


def set_context(context: CrawlContext | None) -> None:
    global _current
    _current = context


def get_context(component: str) -> CrawlContext:
    if _current is None:
        raise NotConfigured(f"{component}: no newsmon crawl context; start crawls with `python -m crawler`")
    return _current
