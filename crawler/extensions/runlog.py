"""Records every check of a source in the archive: a crawl_runs row, its
fetch errors, the source state `newsmon status` shows, and when the source is
due again (the daemon's schedule).

Spiders, middlewares and pipelines report through crawler.signals (counters
in crawler.stats, events as signals); this extension subscribes. Its archive
writes are batched with other checks' (CrawlContext.write_batched), in order:
the run row is written with the first error recorded against it, or at the
end, so an unchanged feed costs one row and one state update, in a transaction
shared with the other checks finishing at the same time.
"""

from __future__ import annotations

import asyncio
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
        self.run_id: int | None = None  # the crawl_runs row, once written
        self.started_at: datetime | None = None
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

    def spider_opened(self, spider: Spider) -> None:
        self.started_at = repo.utcnow()

    def _run(self, session: Session) -> CrawlRun:
        """This check's crawl_runs row, written the first time something needs it. Runs on the
        writer thread, in order: the errors queued behind the first find it."""
        run = session.get(CrawlRun, self.run_id) if self.run_id else None
        # After a batch rolled back, the id it gave may have gone to another check's row.
        if run is None or run.source != self.source or run.started_at != self.started_at:
            run = repo.start_run(session, self.source, self.started_at)
            self.run_id = run.id
        return run

    def error(self, stage: str, url: str | None, message: str) -> None:
        """A failure that does not stop the crawl (the fetch_error signal, already counted): stored
        and shown in status."""
        text = f"{stage} {url}: {message}" if url else f"{stage}: {message}"
        self.first_error = self.first_error or text
        self.crawler.spider.logger.warning(text)
        if self.context.progress:
            say(self.source, f"! {text}")
        # Not awaited: the writer thread records it before anything submitted later (finish_run).
        self.context.write_batched(self._record_error, self.source, url, stage, message, repo.utcnow())

    def _record_error(self, session: Session, source: str, url: str | None, stage: str, message: str,
                      when: datetime) -> None:
        repo.record_fetch_error(session, source=source, run_id=self._run(session).id, url=url, stage=stage,
                                message=message, when=when)

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
        self.context.write_batched(repo.mark_throttled, self.source, until)

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
        check = getattr(self.crawler.spider, "check_id", None)
        return dict(
            source=self.source, status=status, **({"check": check} if check else {}),
            pages_fetched=int(stats.get_value("response_received_count", 0)),
            new_articles=self.value("new_articles"), duplicates=self.value("duplicates"),
            skipped=self.value("skipped_archived"), errors=errors, error=summary,
            unchanged=self.value("unchanged"), bytes=int(stats.get_value("downloader/response_bytes", 0)),
            elapsed=self._elapsed(),
            throttled_until=self.throttled_until.isoformat() if self.throttled_until else None,
        )

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        result = self.result(reason)
        # Validators only when every entry was handled: a 304 next time must not hide what this crawl missed.
        keep_validators = result["errors"] == 0 and not self.value("over_cap") and reason == "finished"
        next_check_at = getattr(spider, "next_check_at", None)
        if next_check_at is not None and self.throttled_until is not None:
            next_check_at = max(next_check_at, self.throttled_until)  # what the daemon will do too
        written = self.context.write_batched(self._finish, result,
                                             self.pending_validators if keep_validators else {}, next_check_at)
        try:
            await asyncio.wrap_future(written)
        except Exception as exc:  # the check happened; its record did not: say so in the result
            result.update(status=RunStatus.FAILED, errors=result["errors"] + 1,
                          error=f"could not record this check in the archive: {exc.__class__.__name__}: {exc}")
        report_result(result)
        self.context.reported.add(result.get("check") or result["source"])

    def _finish(self, session: Session, result: dict, validators: dict[str, tuple[str | None, str | None]],
                next_check_at: datetime | None) -> None:
        source = result["source"]
        for url, (etag, modified) in validators.items():
            repo.save_validators(session, source, url, etag, modified, repo.utcnow())
        repo.finish_run(session, self._run(session), status=result["status"], pages_fetched=result["pages_fetched"],
                        new_articles=result["new_articles"], duplicates=result["duplicates"],
                        errors=result["errors"], error_summary=result["error"], next_check_at=next_check_at)
