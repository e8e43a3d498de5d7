"""Step 3: the text's content hash, and revisits: an archived URL fetched again
(the source's `revisit` policy) is dropped when unchanged, or becomes a new
revision (monitor.dedup.copies decides; this does the lookups, off the reactor
thread). Exact duplicates under other URLs are dropped by step 4, inside the
transaction that writes the article, so two copies in one batch are caught too."""

from __future__ import annotations

from collections.abc import Awaitable

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy.orm import Session

from crawler import signals
from crawler.context import CrawlContext, get_context
from crawler.items import ArticleItem
from monitor.dedup import content_hash
from monitor.dedup.copies import Revisit, revisit_verdict
from monitor.store import repo


def _archived_version(session: Session, url: str) -> tuple[int, str] | None:
    """(id, content hash) of the article archived under this canonical URL."""
    article = repo.article_by_canonical_url(session, url)
    return (article.id, article.content_hash) if article is not None else None


class RevisitPipeline:
    def __init__(self, context: CrawlContext, crawler: Crawler):
        self.context = context
        self.crawler = crawler  # its spider is the one this pipeline serves

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RevisitPipeline:
        return cls(get_context(cls.__name__), crawler)

    def process_item(self, item: ArticleItem) -> ArticleItem | Awaitable[ArticleItem]:
        """The item at once when no archive lookup is needed; otherwise an awaitable of it."""
        item.content_hash = item.content_hash or content_hash(item.text)  # the extraction worker's, usually
        if not self.crawler.spider.source.revisit:
            return item
        return self._revisit(item)

    async def _revisit(self, item: ArticleItem) -> ArticleItem:
        archived = await self.context.read(_archived_version, item.canonical_url)
        verdict = revisit_verdict(archived[1] if archived else None, item.content_hash)
        if verdict is Revisit.UNCHANGED:
            self.context.write_soon(repo.touch_checked, archived[0], repo.utcnow())
            signals.count(self.crawler, "unchanged_articles")
            raise DropItem(f"unchanged: {item.canonical_url}")
        if verdict is Revisit.REVISION:
            item.revision_of = archived[0]
        return item
