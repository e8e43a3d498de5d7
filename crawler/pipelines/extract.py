"""Step 2: page bytes -> article text and metadata (monitor.extract does the work)."""

from __future__ import annotations

from datetime import datetime, timezone

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.context import CrawlContext, get_context
from crawler.items import ArticleItem
from monitor.extract import extract_article
from monitor.extract.boilerplate import MIN_ARTICLES
from monitor.store import repo
from monitor.store.session import session_scope


RELOAD_EVERY = 25


def parse_published(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class ExtractPipeline:
    def __init__(self, context: CrawlContext):
        self.context = context
        self.boilerplate: frozenset[str] = frozenset()
        self._since_reload = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(get_context(cls.__name__))

    def open_spider(self, spider) -> None:  # noqa: ANN001
        self._reload(spider)

    def _reload(self, spider) -> None:  # noqa: ANN001
        """The site's learned template; refreshed during long crawls as pages teach it more."""
        with session_scope(self.context.sessions) as session:
            self.boilerplate = repo.learned_boilerplate(session, spider.source.name, MIN_ARTICLES)
        self._since_reload = 0

    def process_item(self, item: ArticleItem, spider) -> ArticleItem:  # noqa: ANN001
        self._since_reload += 1
        if self._since_reload >= RELOAD_EVERY:
            self._reload(spider)
        result = extract_article(item.body, url=item.url, content_type=item.content_type,
                                 hints=spider.source.hints, boilerplate=self.boilerplate)
        if not result.text:
            spider.runlog.error(spider, "extract", item.url, result.reason or "no article text found")
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
