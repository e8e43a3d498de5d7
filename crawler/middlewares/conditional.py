"""Conditional requests for feeds, sitemaps and listing pages: send the
validators the archive kept from the last fetch (If-None-Match,
If-Modified-Since); keep the new ones. A 304 reaches the spider, which then
has nothing to do. Validators live in the archive, so they survive restarts
and are shared by every worker. The lookup runs off the reactor thread; the
new validators go to the RunLog (crawler.signals), which saves them only if
the whole crawl succeeds."""

from __future__ import annotations

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler import signals
from crawler.context import CrawlContext, get_context
from monitor.store import repo

META_KEY = "newsmon_conditional"


class ConditionalRequestMiddleware:
    def __init__(self, context: CrawlContext, crawler: Crawler):
        self.context = context
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        return cls(get_context(cls.__name__), crawler)

    async def process_request(self, request: Request) -> None:
        spider = self.crawler.spider
        # A source with a revisit policy must see its whole listing each cycle: pages can change
        # without the listing changing.
        if not request.meta.get(META_KEY) or spider.source.revisit:
            return None
        saved = await self.context.read(repo.validators_for, spider.source.name, request.url)
        if saved is not None:
            if saved.etag:
                request.headers.setdefault(b"If-None-Match", saved.etag.encode("latin-1"))
            if saved.last_modified:
                request.headers.setdefault(b"If-Modified-Since", saved.last_modified.encode("latin-1"))
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get(META_KEY) and response.status == 200:
            etag = response.headers.get(b"ETag")
            modified = response.headers.get(b"Last-Modified")
            if etag or modified:
                # Kept only if the whole crawl succeeds (RunLog saves them): a 304 next time must
                # not hide articles this crawl failed to fetch or skipped over the per-cycle cap.
                signals.report_validators(self.crawler, request.url, etag.decode("latin-1") if etag else None,
                                          modified.decode("latin-1") if modified else None)
        return response
