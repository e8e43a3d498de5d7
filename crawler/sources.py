"""Source config -> the spider class for its discovery kind."""

from __future__ import annotations

from crawler.spiders.base import SourceSpider
from crawler.spiders.feed import FeedSpider
from crawler.spiders.listing import ListingSpider
from crawler.spiders.sitemap import SitemapSpider
from monitor.config import SourceConfig

SPIDERS: dict[str, type[SourceSpider]] = {"feed": FeedSpider, "sitemap": SitemapSpider, "listing": ListingSpider}


def spider_for(source: SourceConfig) -> type[SourceSpider]:
    try:
        return SPIDERS[source.kind]
    except KeyError:
        raise ValueError(
            f"source {source.name!r}: kind {source.kind!r} has no spider yet (available: {', '.join(SPIDERS)})"
        ) from None
