"""Step 3: drop exact duplicates: the same text already archived from this source
under another URL. The same text from another outlet is kept: it joins the
story (step 4), so the archive knows every outlet that carried it."""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.context import CrawlContext, get_context
from crawler.items import ArticleItem
from monitor.dedup import content_hash
from monitor.store import repo
from monitor.store.session import session_scope


class DedupPipeline:
    def __init__(self, context: CrawlContext):
        self.context = context

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupPipeline:
        return cls(get_context(cls.__name__))

    def process_item(self, item: ArticleItem, spider) -> ArticleItem:  # noqa: ANN001
        item.content_hash = content_hash(item.text)
        with session_scope(self.context.sessions) as session:
            same_url = repo.article_by_canonical_url(session, item.canonical_url) if spider.source.revisit else None
            if same_url is not None:  # a revisit: unchanged, or a new revision
                if same_url.content_hash == item.content_hash:
                    repo.touch_checked(session, same_url.id, repo.utcnow())
                    spider.runlog.count("unchanged_articles")
                    raise DropItem(f"unchanged: {item.canonical_url}")
                item.revision_of = same_url.id
                return item
            existing = repo.find_duplicate(session, item.canonical_url, item.content_hash, item.source)
            if existing is not None:
                spider.runlog.count("duplicates")
                raise DropItem(f"duplicate of {existing.canonical_url}: {item.url}")
        return item
