"""429 Too Many Requests and 503 with Retry-After: the site asked us to wait.

A short wait (up to crawl.max_retry_after) is honoured inside the crawl: the
request is retried after it, with exponential backoff when no Retry-After is
given. A longer one ends this source's crawl politely and marks it throttled
until then: `newsmon status` shows it and the daemon skips the source."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler.context import CrawlContext, get_context
from monitor.store import repo
from monitor.store.session import session_scope

THROTTLE_STATUSES = (429, 503)
MAX_TRIES = 3


def retry_after_seconds(value: bytes | None, now: datetime) -> float | None:
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - now).total_seconds(), 0.0)


class RetryAfterMiddleware:
    def __init__(self, context: CrawlContext):
        self.context = context
        self.max_wait = context.config.crawl.max_retry_after

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(get_context(cls.__name__))

    async def process_response(self, request: Request, response: Response, spider: Spider) -> Request | Response:
        if response.status not in THROTTLE_STATUSES:
            return response
        now = datetime.now(timezone.utc)
        tries = request.meta.get("newsmon_throttle_tries", 0) + 1
        wait = retry_after_seconds(response.headers.get(b"Retry-After"), now)
        if wait is None:
            if response.status == 503 and tries == 1 and b"Retry-After" not in response.headers:
                return response  # a plain outage: Scrapy's retry middleware handles it
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
        retry = request.replace(dont_filter=True)
        retry.meta["newsmon_throttle_tries"] = tries
        return retry
