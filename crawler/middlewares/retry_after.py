"""Server trouble, retried with backoff; 429 and 503 with Retry-After honoured.

A 5xx (or 408) is retried crawl.retry_times times, waiting 1 s, 2 s, 4 s …
(Scrapy's own retry, left for network errors, retries at once). A 429 or
503 with Retry-After is the site asking us to wait: a short wait (up to
crawl.max_retry_after) is honoured inside the crawl; a longer one ends this
source's crawl politely and marks it throttled until then (a day at most):
`newsmon status` shows it and the daemon skips the source. The header is read
by monitor.retry_after.parse_retry_after: ASCII digits and HTTP dates only,
bounded."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler.context import CrawlContext, get_context
from monitor.retry_after import parse_retry_after
from monitor.store import repo
from monitor.store.session import session_scope

THROTTLE_STATUSES = (429, 503)
SERVER_TROUBLE = (500, 502, 503, 504, 522, 524, 408)
MAX_TRIES = 3


# The longest a site's Retry-After can keep a source throttled: a header saying "next year" (or
# megabytes of digits) must not silence a source for good; the operator sees the mark in status.
MAX_THROTTLE = 86400.0


class RetryAfterMiddleware:
    def __init__(self, context: CrawlContext, crawler: Crawler):
        self.context = context
        self.crawler = crawler
        self.max_wait = context.config.crawl.max_retry_after
        self.retry_times = context.config.crawl.retry_times

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(get_context(cls.__name__), crawler)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        spider = self.crawler.spider
        if response.status not in THROTTLE_STATUSES and response.status not in SERVER_TROUBLE:
            return response
        now = datetime.now(timezone.utc)
        tries = request.meta.get("newsmon_throttle_tries", 0) + 1
        wait = parse_retry_after(response.headers.get(b"Retry-After"), now, cap=MAX_THROTTLE)
        if wait is None and response.status != 429:  # plain server trouble: back off and retry
            if tries > self.retry_times:
                return response
            await asyncio.sleep(min(2.0 ** (tries - 1), self.max_wait))
            return self._again(request, tries)
        if wait is None:
            wait = min(2.0 ** tries, self.max_wait)
        if wait > self.max_wait or tries > MAX_TRIES:
            until = now + timedelta(seconds=wait)
            with session_scope(self.context.sessions) as session:
                repo.mark_throttled(session, spider.source.name, until)
            spider.runlog.count("throttled")
            spider.runlog.throttled_until = until
            return response  # becomes an HttpError the spider records
        spider.runlog.count("throttled")
        await asyncio.sleep(wait)
        return self._again(request, tries)

    @staticmethod
    def _again(request: Request, tries: int) -> Request:
        retry = request.replace(dont_filter=True)
        retry.meta["newsmon_throttle_tries"] = tries
        return retry
