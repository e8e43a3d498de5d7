"""What spiders, middlewares and pipelines tell the RunLog extension about a crawl.

Scrapy's idiom for per-crawl bookkeeping: counters go to the crawler's stats
(`count`), events go out as signals the RunLog subscribes to. Nothing is
injected into spiders or pipelines, and a component used without the RunLog
(a test, a benchmark) still works: nobody listens, nothing is recorded.

Every signal is sent from the reactor thread, with `crawler.signals.send_catch_log`.
"""

from __future__ import annotations

from datetime import datetime

from scrapy.crawler import Crawler

STAT_PREFIX = "newsmon/"  # our counters in crawler.stats, beside Scrapy's own

# A failure that does not stop the crawl (stage, url, message): recorded, shown in status.
fetch_error = object()
# An article committed to the archive (title, url).
article_stored = object()
# A start URL (feed, sitemap, listing page) was fetched and read: the source answered.
listing_read = object()
# The site asked us to come back after `until` (a long Retry-After).
source_throttled = object()
# A listing's new HTTP validators (url, etag, last_modified): kept only if the whole crawl succeeds.
validators_received = object()


def count(crawler: Crawler, key: str, n: int = 1) -> None:
    crawler.stats.inc_value(STAT_PREFIX + key, n)


def counted(crawler: Crawler, key: str) -> int:
    return int(crawler.stats.get_value(STAT_PREFIX + key, 0))


def report_error(crawler: Crawler, stage: str, url: str | None, message: str) -> None:
    """Counted (an error makes the run partial and keeps its validators from being saved) and sent."""
    count(crawler, "errors")
    crawler.signals.send_catch_log(fetch_error, stage=stage, url=url, message=message)


def report_stored(crawler: Crawler, title: str | None, url: str) -> None:
    count(crawler, "new_articles")
    crawler.signals.send_catch_log(article_stored, title=title, url=url)


def report_listing_read(crawler: Crawler) -> None:
    crawler.signals.send_catch_log(listing_read)


def report_throttled(crawler: Crawler, until: datetime) -> None:
    crawler.signals.send_catch_log(source_throttled, until=until)


def report_validators(crawler: Crawler, url: str, etag: str | None, last_modified: str | None) -> None:
    crawler.signals.send_catch_log(validators_received, url=url, etag=etag, last_modified=last_modified)
