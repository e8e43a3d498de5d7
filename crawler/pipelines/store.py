"""Step 4: write the article to the archive."""

from __future__ import annotations

from collections import Counter

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy.exc import SQLAlchemyError

from crawler.context import CrawlContext, get_context
from crawler.items import ArticleItem
from monitor.extract.boilerplate import template_candidates
from crawler.progress import say
from monitor.store import repo
from monitor.store.session import session_scope


FLUSH_EVERY = 50


class StorePipeline:
    def __init__(self, context: CrawlContext):
        self.context = context
        # Template-line counts are batched: one small write per article would halve crawl speed.
        self.template_lines: Counter[tuple[str, str]] = Counter()
        self.stored_since_flush = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(get_context(cls.__name__))

    def process_item(self, item: ArticleItem, spider) -> ArticleItem:  # noqa: ANN001
        if item.revision_of is not None:
            with session_scope(self.context.sessions) as session:
                number = repo.record_revision(session, item.revision_of, title=item.title, text=item.text,
                                              content_hash=item.content_hash, minhash=item.minhash,
                                              when=repo.utcnow())
            spider.runlog.count("revisions")
            if self.context.progress:
                say(spider.source.name, f"~ revision {number}: {item.title or item.url}")
            return item
        try:
            with session_scope(self.context.sessions) as session:
                stored, _story = repo.store_article(
                    session, item.minhash, url=item.url, canonical_url=item.canonical_url, source=item.source,
                    title=item.title, author=item.author, published_at=item.published_at,
                    language=item.language, outlet=item.outlet, text=item.text,
                    content_hash=item.content_hash, fetched_at=repo.utcnow(),
                )

        except SQLAlchemyError as exc:
            spider.runlog.error(spider, "store", item.url, f"archive write failed: {exc.__class__.__name__}: {exc}")
            raise DropItem(f"not stored: {item.url}") from exc
        if stored is None:  # another crawl stored the same URL a moment ago
            spider.runlog.count("duplicates")
            raise DropItem(f"already archived: {item.canonical_url}")
        spider.runlog.new_article(spider, item.title, item.url)
        for line_hash, text in template_candidates(item.text).items():
            self.template_lines[(line_hash, text)] += 1
        self.stored_since_flush += 1
        if self.stored_since_flush >= FLUSH_EVERY:
            self.flush(spider.source.name)
        return item

    def close_spider(self, spider) -> None:  # noqa: ANN001
        self.flush(spider.source.name)

    def flush(self, source: str) -> None:
        if self.template_lines:
            with session_scope(self.context.sessions) as session:
                repo.count_template_lines(session, source, self.template_lines, repo.utcnow())
        self.template_lines.clear()
        self.stored_since_flush = 0
