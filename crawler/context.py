"""What a crawl process shares: the config loaded once and the archive.

Scrapy deep-copies its settings for every crawler, so live objects such as a
database engine cannot travel in them; components fetch them from here.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from crawler.extraction_job import ready
from crawler.parent_watch import exit_with_parent
from monitor import log_format
from monitor.config import NewsmonConfig
from monitor.store.session import session_scope

_current: CrawlContext | None = None
T = TypeVar("T")
BATCH_WINDOW = 0.2  # seconds a batched write waits for others to share its transaction
logger = logging.getLogger(__name__)


class MissingCrawlContext(RuntimeError):
    """A newsmon component was built outside `python -m crawler`: without the archive it would
    crawl and record nothing, so it refuses to start (NotConfigured would disable it quietly)."""


@dataclass
class CrawlContext:
    config: NewsmonConfig
    sessions: sessionmaker[Session]
    progress: bool = True  # print one line per article/error for `newsmon crawl`
    _pool: ProcessPoolExecutor | None = field(default=None, repr=False)
    _writer: ThreadPoolExecutor | None = field(default=None, repr=False)
    _batched: list[tuple[Callable[..., object], tuple, dict, Future]] = field(default_factory=list, repr=False)
    reported: set[str] = field(default_factory=set, repr=False)  # checks whose RESULT line was printed

    def replace_broken_pool(self, pool: ProcessPoolExecutor | None) -> None:
        """An extraction process died and broke `pool`: the next article gets a fresh pool."""
        if pool is not None and self._pool is pool:
            self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)

    def process_ids(self) -> list[int]:
        """This process and its extraction processes (what a worker's memory is measured over)."""
        pool_processes = getattr(self._pool, "_processes", None) or {}
        return [os.getpid(), *pool_processes]

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
                                             initializer=_start_extraction_process,
                                             initargs=(os.getpid(), log_format.child_setup()))
            for _ in range(workers):  # start and import now: a cold worker would stall the first articles
                self._pool.submit(ready)
        return self._pool

    def archive_writer(self) -> ThreadPoolExecutor:
        """The thread writing article batches (crawler.archive_writer) for every source in this
        crawl: the database works (full-text indexing, commits) while the reactor downloads."""
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsmon-archive-writer")
        return self._writer

    def in_session(self, work: Callable[..., T], *args: object, **kwargs: object) -> T:
        """`work(session, *args, **kwargs)` in one transaction, in the calling thread."""
        with session_scope(self.sessions) as session:
            return work(session, *args, **kwargs)

    async def write(self, work: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Archive writes, off the reactor thread: on the archive writer thread, in submission
        order, after the article batches handed to it earlier (SQLite has one writer at a time;
        waiting for its lock in the reactor thread would stall every download)."""
        return await asyncio.get_running_loop().run_in_executor(
            self.archive_writer(), partial(self.in_session, work, *args, **kwargs))

    def write_soon(self, work: Callable[..., object], *args: object, **kwargs: object) -> Future:
        """Like `write`, for callers that need no answer and cannot wait (sync signal handlers);
        a failure is logged, since nobody awaits it."""
        future = self.archive_writer().submit(self.in_session, work, *args, **kwargs)
        future.add_done_callback(_log_failure)
        return future

    def write_batched(self, work: Callable[..., object], *args: object, **kwargs: object) -> Future:
        """Like `write_soon`, but gathered with the other batched writes of the next
        BATCH_WINDOW seconds into one transaction (a busy worker records hundreds of
        checks a second: one commit each would be most of their cost). Order is kept.
        If the transaction fails, each write is tried again alone, so one bad write
        costs only itself. Call from the reactor thread."""
        future: Future = Future()
        self._batched.append((work, args, kwargs, future))
        reactor = sys.modules.get("twisted.internet.reactor")  # not imported here: that would install one
        if reactor is None or not reactor.running:  # no reactor to wait in (a test, a shutdown): now
            self._flush_batched()
        elif len(self._batched) == 1:
            reactor.callLater(BATCH_WINDOW, self._flush_batched)
        return future

    def _flush_batched(self) -> None:
        batch, self._batched = self._batched, []
        if batch:
            self.archive_writer().submit(self._write_batch, batch)

    def _write_batch(self, batch: list[tuple[Callable[..., object], tuple, dict, Future]]) -> None:
        try:
            with session_scope(self.sessions) as session:
                results = [work(session, *args, **kwargs) for work, args, kwargs, _ in batch]
        except Exception:  # each write is retried alone: its own failure is then reported
            for work, args, kwargs, future in batch:
                try:
                    future.set_result(self.in_session(work, *args, **kwargs))
                except Exception as exc:  # handed to whoever waits, and logged
                    future.set_exception(exc)
                    _log_failure(future)
            return
        for (_, _, _, future), result in zip(batch, results):
            future.set_result(result)

    async def read(self, work: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Archive reads, off the reactor thread, not queued behind the writer (WAL and
        PostgreSQL readers do not wait for writers)."""
        return await asyncio.to_thread(self.in_session, work, *args, **kwargs)

    def close(self) -> None:
        self._flush_batched()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None


def _start_extraction_process(parent_pid: int, logging_setup: tuple) -> None:
    """In each spawned extraction process: exit with the crawl; log (and mask secrets) as it does."""
    exit_with_parent(parent_pid)
    log_format.configure_child(*logging_setup)


def _log_failure(done: Future) -> None:
    if not done.cancelled() and (error := done.exception()) is not None:
        logger.error("archive write failed: %s: %s", type(error).__name__, error, exc_info=error)


def set_context(context: CrawlContext | None) -> None:
    global _current
    _current = context


def get_context(component: str) -> CrawlContext:
    if _current is None:
        raise MissingCrawlContext(f"{component}: no newsmon crawl context (config and archive); "
                                  "start crawls with `python -m crawler --config DIR` or `newsmon crawl`")
    return _current
