"""Step 2: page bytes -> article text and metadata (monitor.extract does the work)."""

from __future__ import annotations

from datetime import datetime, timezone

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.context import get_context
from crawler.items import ArticleItem
from monitor.extract import extract_article


def parse_published(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class ExtractPipeline:
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        get_context(cls.__name__)  # refuse to load outside a newsmon crawl
        return cls()

    def process_item(self, item: ArticleItem, spider) -> ArticleItem:  # noqa: ANN001
        result = extract_article(item.body, url=item.url, content_type=item.content_type,
                                 hints=spider.source.hints)
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
