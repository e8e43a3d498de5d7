"""Listing and section pages (portals without feeds): article links picked by
the source's allow/deny patterns."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor

from crawler.spiders.base import SourceSpider


class ListingSpider(SourceSpider):
    kind = "listing"

    def __init__(self, source, **kwargs):
        super().__init__(source, **kwargs)
        # Links to the listing pages themselves are navigation, not articles.
        self.links = LinkExtractor(allow=source.allow or (), deny=list(source.deny) + [
            re.escape(url) + "$" for url in self.start_urls])

    async def start(self):
        for url in self.start_urls:
            yield self.listing_request(url, self.parse_listing)

    async def parse_listing(self, response: Response) -> AsyncIterator[scrapy.Request]:
        if self.unchanged(response):
            return
        if not isinstance(response, TextResponse):
            self.report_error("listing", response.url, "not an HTML page")
            return
        try:
            links = self.links.extract_links(response)
        except (LookupError, ValueError) as exc:  # a declared charset no codec decodes ("rot13"), …
            self.report_error("listing", response.url, f"cannot read the page as HTML: {exc}")
            return
        self.mark_listing_read()
        if not links:
            self.report_error("listing", response.url,
                              "no links match the source's allow patterns; check allow/deny in its config")
        # Only article links are followed, never pagination: a listing cannot lead the crawl in circles.
        # Links that are not http(s) (mailto:, javascript:, file:) are normal on pages and dropped by wanted().
        entries = [(link.url, {"title": link.text.strip() or None}) for link in links]
        async for request in self.article_requests(entries, response.url):
            yield request
