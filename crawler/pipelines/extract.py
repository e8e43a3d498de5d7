"""Step 2: page bytes -> article text and metadata (monitor.extract does the work)."""

from __future__ import annotations

import asyncio
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from functools import partial

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler import signals
from crawler.context import CrawlContext, get_context
from crawler.extraction_job import extract_and_sign
from crawler.items import ArticleItem
from monitor.extract.boilerplate import MIN_ARTICLES
from monitor.store import repo
from monitor.text.dates import parse_iso_datetime

RELOAD_EVERY = 25


def parse_published(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_iso_datetime(value)
    except ValueError:
        return None


class ExtractPipeline:
    def __init__(self, context: CrawlContext, crawler: Crawler):
        self.context = context
        self.crawler = crawler  # its spider is the one this pipeline serves
        self.boilerplate: frozenset[str] = frozenset()
        self._since_reload: int | None = None  # None: not read yet (a check finding nothing new never needs it)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(get_context(cls.__name__), crawler)

    async def open_spider(self) -> None:
        self.context.extraction_pool()  # workers start now, while the listings download

    async def _reload(self) -> None:
        """The site's learned template; refreshed during long crawls as pages teach it more
        (read off the reactor thread)."""
        self._since_reload = 0
        self.boilerplate = await self.context.read(repo.learned_boilerplate, self.crawler.spider.source.name,
                                                   MIN_ARTICLES)

    async def process_item(self, item: ArticleItem) -> ArticleItem:
        spider = self.crawler.spider
        if self._since_reload is None or self._since_reload + 1 >= RELOAD_EVERY:
            await self._reload()
        self._since_reload += 1
        job = partial(extract_and_sign, item.body, url=item.url, content_type=item.content_type,
                      hints=spider.source.hints, boilerplate=self.boilerplate)
        pool = self.context.extraction_pool()
        try:
            result, item.minhash, item.content_hash = \
                await asyncio.get_running_loop().run_in_executor(pool, job) if pool else job()
        except BrokenProcessPool as exc:  # a worker died (out of memory?): this page only
            self.context.replace_broken_pool(pool)  # a long-lived worker must not lose extraction for good
            signals.report_error(self.crawler, "extract", item.url, f"extraction worker died: {exc}")
            raise DropItem(f"extraction failed: {item.url}") from exc
        if not result.text:
            signals.report_error(self.crawler, "extract", item.url, result.reason or "no article text found")
            raise DropItem(f"no article text: {item.url}")
        item.text = result.text
        item.title = result.title or item.feed_title
        item.author = result.author or item.feed_author
        item.published_at = parse_published(result.date) or item.feed_published
        item.language = result.language or spider.source.language
        item.outlet = result.outlet
        item.captions = result.captions
        item.body = b""  # the raw page is not needed any more; free it early
        return item
