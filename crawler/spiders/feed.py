"""RSS and Atom feeds, parsed with feedparser; entries lead to article pages."""

from __future__ import annotations

import calendar
import io
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import feedparser
import scrapy
from scrapy.http import Response

from crawler.spiders.base import BadEntry, SourceSpider, entry_url
from crawler.xmlsafety import UnsafeXml, check_xml_safety


def _entry_date(entry: feedparser.FeedParserDict) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)
    except (OverflowError, ValueError, OSError, TypeError) as exc:  # year 0, year 10000, …
        raw = entry.get("published") or entry.get("updated")
        raise BadEntry(f"impossible date {raw!r} ({exc})") from None


def _entry(response: Response, entry: feedparser.FeedParserDict) -> tuple[str, dict] | None:
    """(article URL, what the feed says about it); None for an entry without a link."""
    link = entry.get("link")
    if not link:
        return None
    url = entry_url(response.url, link, "link")
    return url, {"title": entry.get("title"), "author": entry.get("author"), "published": _entry_date(entry)}


def parse_feed_bytes(body: bytes, headers: dict[str, str]) -> feedparser.FeedParserDict:
    """Parse network bytes as a document, always: given bytes or a str, feedparser first tries
    them as a file name or URL to open (a feed answering "/etc/passwd" would be read from disk)."""
    return feedparser.parse(io.BytesIO(body), response_headers=headers)


class FeedSpider(SourceSpider):
    kind = "feed"

    async def start(self):  #(Scrapy >= 2.13 entry point)
        for url in self.start_urls:
            yield self.listing_request(url, self.parse_feed)

    async def parse_feed(self, response: Response) -> AsyncIterator[scrapy.Request]:
        if self.unchanged(response):
            return
        try:
            check_xml_safety(response.body)
        except UnsafeXml as exc:
            self.report_error("feed", response.url, str(exc))
            return
        try:
            feed = parse_feed_bytes(response.body, {
                k.decode("latin-1").lower(): v[0].decode("latin-1") for k, v in response.headers.items() if v
            })
        except (ValueError, LookupError) as exc:  # feedparser decoding with a declared charset such as "punycode"
            self.report_error("feed", response.url,
                              f"not a valid RSS/Atom feed: its declared encoding cannot be read ({exc})")
            return
        if not feed.entries:
            reason = feed.get("bozo_exception") or "no entries"
            if feed.bozo or not feed.get("version"):
                self.report_error("feed", response.url, f"not a valid RSS/Atom feed: {reason}")
                return
            self.mark_listing_read()  # a valid, empty feed
            return
        if feed.bozo:
            # feedparser recovered entries from a broken feed: use them, but say so.
            self.report_error("feed", response.url, f"feed is malformed (entries recovered): {feed.bozo_exception}")
        self.mark_listing_read()
        entries = []
        for index, entry in enumerate(feed.entries, 1):
            try:
                found = _entry(response, entry)
            except BadEntry as exc:
                self.entry_error(response.url, _describe(index, entry), str(exc))
                continue
            if found is not None:
                entries.append(found)
        async for request in self.article_requests(entries, response.url):
            yield request


def _describe(index: int, entry: feedparser.FeedParserDict) -> str:
    link = entry.get("link")
    return f"entry {index} <{link[:300]}>" if isinstance(link, str) and link else f"entry {index}"
