"""Server trouble, retried with backoff; 429 and 503 with Retry-After honoured.

A 5xx (or 408) is retried crawl.retry_times times, waiting 1 s, 2 s, 4 s …
(Scrapy's own retry, left for network errors, retries at once). A 429 or
503 with Retry-After is the site asking us to wait: a short wait (up to
crawl.max_retry_after) is honoured inside the crawl; a longer one ends this
source's crawl politely and marks it throttled until then (a day at most):
`newsmon status` shows it and the daemon skips the source. The header is read
by monitor.retry_after.parse_retry_after: ASCII digits and HTTP dates only,
bounded.

The retry itself is Scrapy's get_retry_request: one retry count per request
(shared with network-error retries), retry stats, and the retry priority."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Response
from scrapy.utils.response import response_status_message

from crawler import signals
from crawler.context import get_context
from monitor.retry_after import parse_retry_after

THROTTLE_STATUSES = (429, 503)
SERVER_TROUBLE = (500, 502, 503, 504, 522, 524, 408)
MAX_TRIES = 3  # waits a site may ask for within one crawl before the source is marked throttled


# The longest a site's Retry-After can keep a source throttled: a header saying "next year" (or
# megabytes of digits) must not silence a source for good; the operator sees the mark in status.
MAX_THROTTLE = 86400.0


class RetryAfterMiddleware:
    def __init__(self, crawler: Crawler, *, max_wait: float, retry_times: int):
        self.crawler = crawler
        self.max_wait = max_wait
        self.retry_times = retry_times

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        crawl = get_context(cls.__name__).config.crawl
        return cls(crawler, max_wait=crawl.max_retry_after, retry_times=crawl.retry_times)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in THROTTLE_STATUSES and response.status not in SERVER_TROUBLE:
            return response
        now = datetime.now(timezone.utc)
        tries = request.meta.get("retry_times", 0) + 1  # as get_retry_request counts them
        wait = parse_retry_after(response.headers.get(b"Retry-After"), now, cap=MAX_THROTTLE)
        if wait is None and response.status != 429:  # plain server trouble: back off and retry
            retry = self._retry(request, response, self.retry_times)
            if retry is None:
                return response
            await asyncio.sleep(min(2.0 ** (tries - 1), self.max_wait))
            return retry
        if wait is None:
            wait = min(2.0 ** tries, self.max_wait)
        signals.count(self.crawler, "throttled")
        retry = self._retry(request, response, MAX_TRIES) if wait <= self.max_wait else None
        if retry is None:  # a long wait, or asked to wait too often: come back next time
            signals.report_throttled(self.crawler, now + timedelta(seconds=wait))
            return response  # becomes an HttpError the spider records
        await asyncio.sleep(wait)
        return retry

    def _retry(self, request: Request, response: Response, max_retry_times: int) -> Request | None:
        return get_retry_request(request, spider=self.crawler.spider, max_retry_times=max_retry_times,
                                 reason=response_status_message(response.status))
