"""Step 3: the text's content hash, and revisits: an archived URL fetched again
(the source's `revisit` policy) is dropped when unchanged, or becomes a new
revision. Exact duplicates under other URLs are dropped by step 4, inside the
transaction that writes the article, so two copies in one batch are caught too."""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.context import CrawlContext, get_context
from crawler.items import ArticleItem
from monitor.dedup import content_hash
from monitor.store import repo
from monitor.store.session import session_scope


class DedupPipeline:
    def __init__(self, context: CrawlContext, crawler: Crawler):
        self.context = context
        self.crawler = crawler  # its spider is the one this pipeline serves

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupPipeline:
        return cls(get_context(cls.__name__), crawler)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        spider = self.crawler.spider
        item.content_hash = item.content_hash or content_hash(item.text)  # the extraction worker's, usually
        if not spider.source.revisit:
            return item
        with session_scope(self.context.sessions) as session:
            same_url = repo.article_by_canonical_url(session, item.canonical_url)
            if same_url is not None:  # a revisit: unchanged, or a new revision
                if same_url.content_hash == item.content_hash:
                    repo.touch_checked(session, same_url.id, repo.utcnow())
                    spider.runlog.count("unchanged_articles")
                    raise DropItem(f"unchanged: {item.canonical_url}")
                item.revision_of = same_url.id
        return item
