"""What every discovery kind shares: source config, URL filters, error reporting,
skipping articles already archived, and turning a page response into an item."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import scrapy
from parsel import Selector
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawler import signals, urlpolicy
from crawler.context import get_context
from crawler.items import ArticleItem
from monitor.config import SourceConfig
from monitor.dedup import canonical_url
from monitor.store import repo

HTML_TYPES = ("text/html", "application/xhtml+xml")
HEAD_SCAN_BYTES = 256 * 1024  # where to look for </head>; past it, the whole page is parsed
_HEAD_END = re.compile(rb"</head\s*>", re.IGNORECASE)


class BadEntry(ValueError):
    """One feed, sitemap or listing entry that cannot be used; the others go on."""


def entry_url(listing_url: str, link: str, what: str) -> str:
    """A feed or sitemap entry's link resolved against the listing's URL; only http(s)."""
    try:
        url = urljoin(listing_url, link)  # not response.urljoin: it decodes the body as HTML for a <base>
    except ValueError as exc:
        raise BadEntry(f"not a usable {what} ({exc})") from None
    if problem := urlpolicy.scheme_problem(url):
        raise BadEntry(problem)
    return url


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
        self.auth_meta: dict[str, str] = {}  # HTTP Basic auth from a start URL's user:password@
        self.start_urls = [self._take_credentials(url) for url in source.start_urls]

    def _take_credentials(self, url: str) -> str:
        """`https://user:pw@host/feed` -> `https://host/feed`, the login going to Scrapy's
        HttpAuthMiddleware through request meta, for that host and port only: never sent to
        another host, not even after a redirect. The URL is shown and stored without it."""
        parts = urlsplit(url)
        if "@" not in parts.netloc:
            return url
        userinfo, _, hostport = parts.netloc.rpartition("@")
        user, _, password = userinfo.partition(":")
        if not self.auth_meta:
            # The domain check compares the whole netloc, so host:port it is.
            self.auth_meta = {"http_user": unquote(user), "http_pass": unquote(password),
                              "http_auth_domain": hostport.lower()}
        return urlunsplit((parts.scheme, hostport, parts.path, parts.query, parts.fragment))

    kind = "source"

    # --- bookkeeping: crawler.stats and newsmon's signals (crawler.signals), which RunLog records ---

    def count(self, key: str, n: int = 1) -> None:
        signals.count(self.crawler, key, n)

    def report_error(self, stage: str, url: str | None, message: str) -> None:
        """A failure that does not stop the crawl: recorded as this source's error, shown in status."""
        signals.report_error(self.crawler, stage, url, message)

    def mark_listing_read(self) -> None:
        """A start URL (or a listing it leads to) was fetched and read: the source answered."""
        signals.report_listing_read(self.crawler)

    # --- discovery helpers -------------------------------------------------

    def wanted(self, url: str) -> bool:
        if urlpolicy.scheme_problem(url):
            return False
        if self._allow and not any(p.search(url) for p in self._allow):
            return False
        return not any(p.search(url) for p in self._deny)

    async def known(self, keys: dict[str, str]) -> set[str]:
        """Those of the URLs (with their canonical keys) archived, or fetched recently without
        becoming an article (one query, off the reactor thread)."""
        revisit = self.source.revisit
        before = datetime.now(timezone.utc) - timedelta(seconds=revisit) if revisit else None
        found = await self.context.read(repo.known_canonical_urls, set(keys.values()), revisit_before=before)
        return {url for url, key in keys.items() if key in found}

    def too_old(self, published: datetime | None) -> bool:
        if published is None or self.source.max_age is None:
            return False
        return published < datetime.now(timezone.utc) - timedelta(seconds=self.source.max_age)

    def listing_request(self, url: str, callback, **meta: object) -> scrapy.Request:
        """A feed, sitemap or listing page: fetched conditionally (ETag / Last-Modified)."""
        return scrapy.Request(url, callback=callback, errback=self.start_failed, dont_filter=True,
                              meta={"newsmon_conditional": True, "handle_httpstatus_list": [304],
                                    **self.auth_meta, **meta})

    def unchanged(self, response: Response) -> bool:
        """True (and counted) when the server answered 304 Not Modified."""
        if response.status != 304:
            return False
        self.mark_listing_read()
        self.count("unchanged")
        return True

    def entry_error(self, origin: str, entry: str, problem: str) -> None:
        """One unusable entry of the feed, sitemap or listing page at `origin`: recorded (so the
        run is partial and its validators are not kept), and skipped."""
        self.report_error(self.kind, origin, f"{entry}: {problem}; entry skipped")

    async def article_requests(self, entries: list[tuple[str, dict]], origin: str) -> AsyncIterator[scrapy.Request]:
        """Requests for the article pages a listing names, unless filtered, too old, already
        known or over the per-cycle cap. `entries` are (url, {title, author, published});
        `origin` is the URL of the feed, sitemap or page that listed them."""
        fresh: dict[str, dict] = {}
        keys: dict[str, str] = {}
        for url, entry in entries:
            if not self.wanted(url) or url in fresh:
                continue
            if self.too_old(entry.get("published")):
                self.count("too_old")
                continue
            try:
                keys[url] = canonical_url(url)
            except ValueError as exc:  # a URL urllib can split but not normalize (bad port, IPv6 literal)
                self.entry_error(origin, f"link {url}", f"not a usable URL ({exc})")
                continue
            fresh[url] = entry
        known = await self.known(keys) if fresh else set()
        for url, entry in fresh.items():
            if url in known:
                self.count("skipped_archived")
                continue
            if self._scheduled >= self.max_articles:
                self.count("over_cap")
                continue
            self._scheduled += 1
            yield scrapy.Request(url, callback=self.parse_article, errback=self.page_failed,
                                 cb_kwargs={"entry": entry}, meta=dict(self.auth_meta))

    # --- responses ----------------------------------------------------------

    def parse_article(self, response: Response, entry: dict) -> Iterator[ArticleItem]:
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
        mime = (content_type or "").split(";")[0].strip().lower()
        if mime and mime not in HTML_TYPES:
            self.remember(response.url, f"not HTML ({mime})")
            self.report_error("page", response.url, f"skipped: not an HTML page ({mime})")
            return
        yield ArticleItem(
            source=self.source.name, url=response.url, body=response.body, content_type=content_type,
            requested_url=response.meta.get("redirect_urls", [response.url])[0],
            declared_canonical=declared_canonical(response),
            feed_title=entry.get("title"), feed_author=entry.get("author"),
            feed_published=entry.get("published"),
        )

    def start_failed(self, failure: Failure) -> None:
        self.report_error(self.kind, failure.request.url, describe_failure(failure))

    def page_failed(self, failure: Failure) -> None:
        from scrapy.exceptions import IgnoreRequest
        from scrapy.spidermiddlewares.httperror import HttpError

        if failure.check(IgnoreRequest) and failure.getErrorMessage().startswith("Forbidden by robots.txt"):
            self.count("robots_disallowed")  # the site's wish, not a failure
            return
        if failure.check(HttpError) and failure.value.response.status in (404, 410, 451):
            self.remember(failure.request.url, f"HTTP {failure.value.response.status}")
        self.report_error("page", failure.request.url, describe_failure(failure))

    def remember(self, url: str, outcome: str) -> None:
        """Not an article, and retrying next cycle will not change that: skip it until it expires.
        Written by the archive writer thread; nothing here waits for it."""
        self.context.write_soon(repo.remember_url, self.source.name, canonical_url(url), outcome, repo.utcnow())


def declared_canonical(response: Response) -> str | None:
    """The page's own rel=canonical or og:url, resolved against the page URL.

    Both live in <head>: only the head is parsed when its end is found, because a
    whole-page parse here, in the reactor thread, cost as much as Scrapy's own work."""
    if not isinstance(response, TextResponse):
        return None
    end = _HEAD_END.search(response.body, 0, HEAD_SCAN_BYTES)
    try:
        page = Selector(text=response.body[:end.end()].decode(response.encoding, "replace")) if end else response
        href = page.xpath("//link[@rel='canonical']/@href").get() or \
            page.xpath("//meta[@property='og:url']/@content").get()
    except (ValueError, LookupError):  # a body Scrapy cannot parse as HTML, or a charset no codec reads
        return None
    return response.urljoin(href.strip()) if href and href.strip() else None


def describe_failure(failure: Failure) -> str:
    """A one-line reason a person can act on."""
    from scrapy.exceptions import IgnoreRequest
    from scrapy.spidermiddlewares.httperror import HttpError

    from crawler.middlewares.url_guard import REFUSED

    if failure.check(HttpError):
        status = failure.value.response.status
        return f"HTTP {status} from server"
    if failure.check(IgnoreRequest) and failure.getErrorMessage().startswith(REFUSED):
        return failure.getErrorMessage()  # the URL guard's own sentence: what was refused and why
    name = failure.type.__name__ if failure.type else "Error"
    message = failure.getErrorMessage()
    return f"{name}: {message}" if message else name
