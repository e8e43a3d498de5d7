"""Records every crawl of a source in the archive: a crawl_runs row, its
fetch errors, and the source state `newsmon status` shows.

Spiders, middlewares and pipelines report through crawler.signals (counters
in crawler.stats, events as signals); this extension subscribes. Its archive
writes go to the crawl's archive writer thread, in order: the run is started
before anything is recorded against it, and every fetch error is recorded
before the run is finished.
"""

from __future__ import annotations

from datetime import datetime, timezone

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.spiders import Spider
from sqlalchemy.orm import Session
from twisted.python.failure import Failure

from crawler import signals as newsmon_signals
from crawler.context import CrawlContext, get_context
from crawler.progress import report_result, say
from crawler.signals import counted
from monitor.statuses import RunStatus
from monitor.store import repo
from monitor.store.models import CrawlRun


class RunLog:
    def __init__(self, crawler: Crawler, context: CrawlContext):
        self.crawler = crawler
        self.context = context
        self.run_id: int | None = None
        self.first_error: str | None = None
        self.listing_ok = False  # a start URL (feed, sitemap, listing) was fetched and parsed
        self.throttled_until: datetime | None = None  # set when the site asked us to come back later
        self.pending_validators: dict[str, tuple[str | None, str | None]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunLog:
        ext = cls(crawler, get_context(cls.__name__))
        for handler, signal in [
            (ext.spider_opened, signals.spider_opened), (ext.spider_closed, signals.spider_closed),
            (ext.spider_error, signals.spider_error), (ext.error, newsmon_signals.fetch_error),
            (ext.new_article, newsmon_signals.article_stored), (ext.listing_read, newsmon_signals.listing_read),
            (ext.throttled, newsmon_signals.source_throttled),
            (ext.validators_received, newsmon_signals.validators_received),
        ]:
            crawler.signals.connect(handler, signal=signal)
        return ext

    @property
    def source(self) -> str:
        return self.crawler.spider.source.name

    def value(self, key: str) -> int:
        return counted(self.crawler, key)

    async def spider_opened(self, spider: Spider) -> None:
        await self.context.write(self._start, spider.source.name)

    def _start(self, session: Session, source: str) -> None:
        # Set on the writer thread, so the errors queued behind it find it.
        self.run_id = repo.start_run(session, source).id

    def error(self, stage: str, url: str | None, message: str) -> None:
        """A failure that does not stop the crawl (the fetch_error signal, already counted): stored
        and shown in status."""
        text = f"{stage} {url}: {message}" if url else f"{stage}: {message}"
        self.first_error = self.first_error or text
        self.crawler.spider.logger.warning(text)
        if self.context.progress:
            say(self.source, f"! {text}")
        # Not awaited: the writer thread records it before anything submitted later (finish_run).
        self.context.write_soon(self._record_error, self.source, url, stage, message)

    def _record_error(self, session: Session, source: str, url: str | None, stage: str, message: str) -> None:
        # Runs on the writer thread, after start_run: run_id is known by then.
        repo.record_fetch_error(session, source=source, run_id=self.run_id, url=url, stage=stage, message=message)

    def spider_error(self, failure: Failure, response: Response, spider: Spider) -> None:
        """An exception in a spider callback: Scrapy only logs it, but it is this source's failure
        (and counting it keeps the validators of a half-read feed from being saved)."""
        callback = getattr(response.request, "callback", None) if response.request is not None else None
        where = getattr(callback, "__name__", "callback")
        name = failure.type.__name__ if failure.type else "Error"
        newsmon_signals.report_error(self.crawler, spider.kind, response.url, f"crawler bug: {name} in {where}: "
                                     f"{failure.getErrorMessage()} (traceback in the crawl log)")

    def new_article(self, title: str | None, url: str) -> None:
        if self.context.progress:
            say(self.source, f"+ {title or '(untitled)'}  <{url}>")

    def listing_read(self) -> None:
        self.listing_ok = True

    def throttled(self, until: datetime) -> None:
        self.throttled_until = until
        # The mark outlives this crawl: `newsmon status` shows it and the daemon skips the source.
        self.context.write_soon(repo.mark_throttled, self.source, until)

    def validators_received(self, url: str, etag: str | None, last_modified: str | None) -> None:
        self.pending_validators[url] = (etag, last_modified)

    def _elapsed(self) -> float:
        start = self.crawler.stats.get_value("start_time")
        if start is None:
            return 0.0
        now = datetime.now(start.tzinfo or timezone.utc)
        return round((now - start).total_seconds(), 3)

    def result(self, reason: str) -> dict:
        """The RESULT line's fields: what this crawl of the source did."""
        stats = self.crawler.stats
        errors = self.value("errors")
        if not self.listing_ok:
            status = RunStatus.FAILED
        elif errors or reason != "finished":
            status = RunStatus.PARTIAL
        else:
            status = RunStatus.OK
        summary = self.first_error
        if self.throttled_until is not None:
            summary = f"throttled by the site (429/503 Retry-After) until {self.throttled_until:%Y-%m-%d %H:%M:%S} UTC"
        if not self.listing_ok and summary is None:
            summary = f"no start URL could be fetched (crawl ended: {reason})"
        return dict(
            source=self.source, status=status,
            pages_fetched=int(stats.get_value("response_received_count", 0)),
            new_articles=self.value("new_articles"), duplicates=self.value("duplicates"),
            skipped=self.value("skipped_archived"), errors=errors, error=summary,
            unchanged=self.value("unchanged"), bytes=int(stats.get_value("downloader/response_bytes", 0)),
            elapsed=self._elapsed(),
        )

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        result = self.result(reason)
        # Validators only when every entry was handled: a 304 next time must not hide what this crawl missed.
        keep_validators = result["errors"] == 0 and not self.value("over_cap") and reason == "finished"
        await self.context.write(self._finish, result, self.pending_validators if keep_validators else {})
        report_result(result)

    def _finish(self, session: Session, result: dict, validators: dict[str, tuple[str | None, str | None]]) -> None:
        source = result["source"]
        for url, (etag, modified) in validators.items():
            repo.save_validators(session, source, url, etag, modified, repo.utcnow())
        run = session.get(CrawlRun, self.run_id) if self.run_id else None
        if run is None:
            run = repo.start_run(session, source)
        repo.finish_run(session, run, status=result["status"], pages_fetched=result["pages_fetched"],
                        new_articles=result["new_articles"], duplicates=result["duplicates"],
                        errors=result["errors"], error_summary=result["error"])
