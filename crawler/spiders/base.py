"""What every discovery kind shares: source config, URL filters, error reporting,
skipping articles already archived, and turning a page response into an item."""

from __future__ import annotations

import re
from collections.abc import Iterator

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.context import get_context
from crawler.items import ArticleItem
from monitor.config import SourceConfig
from monitor.dedup import canonical_url
from monitor.store import repo
from monitor.store.session import session_scope

HTML_TYPES = ("text/html", "application/xhtml+xml")


class SourceSpider(scrapy.Spider):
    """A spider for one configured source; subclasses discover article URLs."""

    source: SourceConfig

    def __init__(self, source: SourceConfig, **kwargs):
        super().__init__(name=f"{self.kind}:{source.name}", **kwargs)
        self.source = source
        self.context = get_context(type(self).__name__)
        self._allow = [re.compile(p) for p in source.allow]
        self._deny = [re.compile(p) for p in source.deny]
        self.max_articles = source.max_articles or self.context.config.crawl.max_articles_per_source
        self._scheduled = 0
        self.runlog = None  # set by the RunLog extension when the spider opens

    kind = "source"

    # --- discovery helpers -------------------------------------------------

    def wanted(self, url: str) -> bool:
        if not url.startswith(("http://", "https://")):
            return False
        if self._allow and not any(p.search(url) for p in self._allow):
            return False
        return not any(p.search(url) for p in self._deny)

    def already_archived(self, url: str) -> bool:
        with session_scope(self.context.sessions) as session:
            return repo.article_by_canonical_url(session, canonical_url(url)) is not None

    def article_request(self, url: str, **entry: object) -> Iterator[scrapy.Request]:
        """A request for an article page, unless filtered, archived or over the cap."""
        if not self.wanted(url):
            return
        if self.already_archived(url):
            self.runlog.count("skipped_archived")
            return
        if self._scheduled >= self.max_articles:
            self.runlog.count("over_cap")
            return
        self._scheduled += 1
        yield scrapy.Request(url, callback=self.parse_article, errback=self.page_failed,
                             cb_kwargs={"entry": entry})

    # --- responses ----------------------------------------------------------

    def parse_article(self, response: Response, entry: dict) -> Iterator[ArticleItem]:
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
        mime = (content_type or "").split(";")[0].strip().lower()
        if mime and mime not in HTML_TYPES:
            self.runlog.error(self, "page", response.url, f"skipped: not an HTML page ({mime})")
            return
        yield ArticleItem(
            source=self.source.name, url=response.url, body=response.body, content_type=content_type,
            feed_title=entry.get("title"), feed_author=entry.get("author"),
            feed_published=entry.get("published"),
        )

    def start_failed(self, failure: Failure) -> None:
        self.runlog.error(self, self.kind, failure.request.url, describe_failure(failure))

    def page_failed(self, failure: Failure) -> None:
        self.runlog.error(self, "page", failure.request.url, describe_failure(failure))


def describe_failure(failure: Failure) -> str:
    """A one-line reason a person can act on."""
    from scrapy.spidermiddlewares.httperror import HttpError

    if failure.check(HttpError):
        status = failure.value.response.status
        return f"HTTP {status} from server"
    name = failure.type.__name__ if failure.type else "Error"
    message = failure.getErrorMessage()
    return f"{name}: {message}" if message else name
