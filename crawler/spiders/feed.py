"""RSS and Atom feeds, parsed with feedparser; entries lead to article pages."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import datetime, timezone

import feedparser
import scrapy
from scrapy.http import Response

from crawler.spiders.base import SourceSpider
from crawler.xmlsafety import UnsafeXml, check_xml_safety


def _entry_date(entry: feedparser.FeedParserDict) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)


class FeedSpider(SourceSpider):
    kind = "feed"

    async def start(self):  # noqa: ANN201 (Scrapy >= 2.13 entry point)
        for url in self.source.start_urls:
            yield self.listing_request(url, self.parse_feed)

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        if self.unchanged(response):
            return
        try:
            check_xml_safety(response.body)
        except UnsafeXml as exc:
            self.runlog.error(self, "feed", response.url, str(exc))
            return
        feed = feedparser.parse(response.body, response_headers={
            k.decode("latin-1").lower(): v[0].decode("latin-1") for k, v in response.headers.items() if v
        })
        if not feed.entries:
            reason = feed.get("bozo_exception") or "no entries"
            if feed.bozo or not feed.get("version"):
                self.runlog.error(self, "feed", response.url, f"not a valid RSS/Atom feed: {reason}")
                return
            self.runlog.listing_ok = True  # a valid, empty feed
            return
        if feed.bozo:
            # feedparser recovered entries from a broken feed: use them, but say so.
            self.runlog.error(self, "feed", response.url, f"feed is malformed (entries recovered): {feed.bozo_exception}")
        self.runlog.listing_ok = True
        yield from self.article_requests([
            (response.urljoin(entry.link), {"title": entry.get("title"), "author": entry.get("author"),
                                            "published": _entry_date(entry)})
            for entry in feed.entries if entry.get("link")
        ])
