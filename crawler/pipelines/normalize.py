"""Step 1: the canonical URL; a page that redirected to an archived article goes no further."""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.context import CrawlContext, get_context
from crawler.items import ArticleItem
from monitor.dedup import canonical_url
from monitor.store import repo
from monitor.store.session import session_scope


def choose_canonical(url: str, declared: str | None) -> str:
    """The page's declared canonical URL when it is on the same site; a canonical
    pointing at another site (syndication) makes it a copy, which story grouping
    handles, not the same article."""
    if declared and urlsplit(declared).hostname == urlsplit(url).hostname:
        return canonical_url(declared)
    return canonical_url(url)


class NormalizePipeline:
    def __init__(self, context: CrawlContext, crawler: Crawler):
        self.context = context
        self.crawler = crawler  # its spider is the one this pipeline serves

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        return cls(get_context(cls.__name__), crawler)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        spider = self.crawler.spider
        item.canonical_url = choose_canonical(item.url, item.declared_canonical)
        if item.canonical_url == canonical_url(item.requested_url or item.url):
            return item  # the spider checked this URL before fetching it
        # Redirected, or the page names another URL as its own: the archive may have that one.
        with session_scope(self.context.sessions) as session:
            if repo.article_by_canonical_url(session, item.canonical_url) is not None and not spider.source.revisit:
                spider.runlog.count("duplicates")
                raise DropItem(f"already archived: {item.canonical_url}")
        return item
