"""Records every crawl of a source in the archive: a crawl_runs row, its
fetch errors, and the source state `newsmon status` shows."""

from __future__ import annotations

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.spiders import Spider
from twisted.python.failure import Failure

from crawler.context import CrawlContext, get_context
from crawler.progress import report_result, say
from monitor.store import repo
from monitor.store.models import CrawlRun
from monitor.store.session import session_scope

STAT_PREFIX = "newsmon/"


class RunLog:
    """Spiders and pipelines report through `spider.runlog`."""

    def __init__(self, crawler: Crawler, context: CrawlContext):
        self.crawler = crawler
        self.context = context
        self.run_id: int | None = None
        self.first_error: str | None = None
        self.listing_ok = False  # a start URL (feed, sitemap, listing) was fetched and parsed
        self.throttled_until = None  # set when the site asked us to come back later
        self.pending_validators: dict[str, tuple[str | None, str | None]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunLog:
        ext = cls(crawler, get_context("RunLog"))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.spider_error, signal=signals.spider_error)
        return ext

    @property
    def stats(self):  # noqa: ANN201
        return self.crawler.stats

    def count(self, key: str, n: int = 1) -> None:
        self.stats.inc_value(STAT_PREFIX + key, n)

    def value(self, key: str) -> int:
        return int(self.stats.get_value(STAT_PREFIX + key, 0))

    def spider_opened(self, spider: Spider) -> None:
        spider.runlog = self
        with session_scope(self.context.sessions) as session:
            self.run_id = repo.start_run(session, spider.source.name).id

    def error(self, spider: Spider, stage: str, url: str | None, message: str) -> None:
        """A failure that does not stop the crawl: stored and shown in status."""
        self.count("errors")
        text = f"{stage} {url}: {message}" if url else f"{stage}: {message}"
        self.first_error = self.first_error or text
        spider.logger.warning(text)
        if self.context.progress:
            say(spider.source.name, f"! {text}")
        with session_scope(self.context.sessions) as session:
            repo.record_fetch_error(session, source=spider.source.name, run_id=self.run_id,
                                    url=url, stage=stage, message=message)

    def spider_error(self, failure: Failure, response: Response, spider: Spider) -> None:
        """An exception in a spider callback: Scrapy only logs it, but it is this source's failure
        (and counting it keeps the validators of a half-read feed from being saved)."""
        callback = getattr(response.request, "callback", None) if response.request is not None else None
        where = getattr(callback, "__name__", "callback")
        name = failure.type.__name__ if failure.type else "Error"
        self.error(spider, spider.kind, response.url,
                   f"crawler bug: {name} in {where}: {failure.getErrorMessage()} (traceback in the crawl log)")

    def new_article(self, spider: Spider, title: str | None, url: str) -> None:
        self.count("new_articles")
        if self.context.progress:
            say(spider.source.name, f"+ {title or '(untitled)'}  <{url}>")

    def _elapsed(self) -> float:
        start = self.stats.get_value("start_time")
        if start is None:
            return 0.0
        from datetime import datetime, timezone

        now = datetime.now(start.tzinfo or timezone.utc)
        return round((now - start).total_seconds(), 3)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        errors = self.value("errors")
        if not self.listing_ok:
            status = "failed"
        elif errors:
            status = "partial"
        else:
            status = "ok"
        if reason not in ("finished",) and status == "ok":
            status = "partial"
        summary = self.first_error
        if self.throttled_until is not None:
            summary = f"throttled by the site (429/503 Retry-After) until {self.throttled_until:%Y-%m-%d %H:%M:%S} UTC"
        if not self.listing_ok and summary is None:
            summary = f"no start URL could be fetched (crawl ended: {reason})"
        result = dict(
            source=spider.source.name, status=status,
            pages_fetched=int(self.stats.get_value("response_received_count", 0)),
            new_articles=self.value("new_articles"), duplicates=self.value("duplicates"),
            skipped=self.value("skipped_archived"), errors=errors, error=summary,
            unchanged=self.value("unchanged"), bytes=int(self.stats.get_value("downloader/response_bytes", 0)),
            elapsed=self._elapsed(),
        )
        with session_scope(self.context.sessions) as session:
            if errors == 0 and not self.value("over_cap") and reason == "finished":
                for url, (etag, modified) in self.pending_validators.items():
                    repo.save_validators(session, spider.source.name, url, etag, modified, repo.utcnow())
            run = session.get(CrawlRun, self.run_id) if self.run_id else None
            if run is None:
                run = repo.start_run(session, spider.source.name)
            repo.finish_run(session, run, status=status, pages_fetched=result["pages_fetched"],
                            new_articles=result["new_articles"], duplicates=result["duplicates"],
                            errors=errors, error_summary=summary)
        report_result(result)
