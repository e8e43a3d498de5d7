"""Step 1: the canonical URL; a page that redirected to an archived article goes
no further (monitor.dedup.copies decides; the lookup runs off the reactor thread)."""

from __future__ import annotations

from collections.abc import Awaitable

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy.orm import Session

from crawler import signals
from crawler.context import CrawlContext, get_context
from crawler.items import ArticleItem
from monitor.dedup.copies import choose_canonical, is_redirect_copy, needs_archive_check
from monitor.store import repo


def _archived(session: Session, url: str) -> bool:
    return repo.article_by_canonical_url(session, url) is not None


class NormalizePipeline:
    def __init__(self, context: CrawlContext, crawler: Crawler):
        self.context = context
        self.crawler = crawler  # its spider is the one this pipeline serves

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        return cls(get_context(cls.__name__), crawler)

    def process_item(self, item: ArticleItem) -> ArticleItem | Awaitable[ArticleItem]:
        """The item at once when no archive lookup is needed; otherwise an awaitable of it."""
        item.canonical_url = choose_canonical(item.url, item.declared_canonical)
        if not needs_archive_check(item.canonical_url, item.requested_url or item.url):
            return item  # the spider checked this URL before fetching it
        return self._unless_archived(item)

    async def _unless_archived(self, item: ArticleItem) -> ArticleItem:
        """Redirected, or the page names another URL as its own: the archive may have that one."""
        archived = await self.context.read(_archived, item.canonical_url)
        if is_redirect_copy(archived, self.crawler.spider.source.revisit):
            signals.count(self.crawler, "duplicates")
            raise DropItem(f"already archived: {item.canonical_url}")
        return item
