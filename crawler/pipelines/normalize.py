"""Step 1: the canonical URL; a page that redirected to an archived article goes no further."""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.context import CrawlContext, get_context
from crawler.items import ArticleItem
from monitor.dedup import canonical_url
from monitor.store import repo
from monitor.store.session import session_scope


class NormalizePipeline:
    def __init__(self, context: CrawlContext):
        self.context = context

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        return cls(get_context(cls.__name__))

    def process_item(self, item: ArticleItem, spider) -> ArticleItem:  # noqa: ANN001
        item.canonical_url = canonical_url(item.url)
        if item.url == item.requested_url:
            return item  # the spider checked this URL before fetching it
        # Redirected: the final URL may be one the archive already has.
        with session_scope(self.context.sessions) as session:
            if repo.article_by_canonical_url(session, item.canonical_url) is not None:
                spider.runlog.count("duplicates")
                raise DropItem(f"already archived: {item.canonical_url}")
        return item
