"""A Redis duplicate filter whose fingerprints expire, for scrapy-redis setups.

scrapy-redis's RFPDupeFilter keeps fingerprints in a SET forever (its issue #84), so a URL is
never fetched twice. ExpiringRedisDupeFilter is a drop-in replacement (DUPEFILTER_CLASS) that keeps
them in monitor.distributed.fingerprints.ExpiringFingerprints: a request is a duplicate only if
it was seen within NEWSMON_SEEN_URL_RETENTION seconds (default 30 days), so revisits work.

It reads the scrapy-redis settings (REDIS_URL and friends, SCHEDULER_DUPEFILTER_KEY) and also
DUPEFILTER_KEY, an explicit key that may use %(spider)s and %(timestamp)s. Fingerprints come from
the crawler's request fingerprinter (REQUEST_FINGERPRINTER_CLASS), as in Scrapy's own filter,
not from scrapy-redis's private hash. Requests with dont_filter=True never reach request_seen:
both Scrapy's scheduler and scrapy-redis's check that flag first.

Unlike scrapy-redis, close() keeps the fingerprints: outliving the crawl is the point, and the
retention forgets them. clear() still deletes them (scrapy-redis's scheduler calls it on close
unless SCHEDULER_PERSIST is set, and with SCHEDULER_FLUSH_ON_START).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from scrapy.utils.request import RequestFingerprinter, RequestFingerprinterProtocol, referer_str
from scrapy_redis import defaults
from scrapy_redis.connection import get_redis_from_settings
from scrapy_redis.dupefilter import RFPDupeFilter

from monitor.distributed.fingerprints import ExpiringFingerprints

if TYPE_CHECKING:
    import redis
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

RETENTION_SETTING = "NEWSMON_SEEN_URL_RETENTION"
DEFAULT_RETENTION = 30 * 86400.0

logger = logging.getLogger(__name__)


def dupefilter_key(settings: BaseSettings, spider_name: str | None) -> str:
    """DUPEFILTER_KEY if set; else SCHEDULER_DUPEFILTER_KEY for the spider; else scrapy-redis's one-time key."""
    values = {"spider": spider_name, "timestamp": int(time.time())}
    explicit = settings.get("DUPEFILTER_KEY")
    if explicit:
        return explicit % values
    if spider_name:
        return settings.get("SCHEDULER_DUPEFILTER_KEY", defaults.SCHEDULER_DUPEFILTER_KEY) % values
    return defaults.DUPEFILTER_KEY % values


class ExpiringRedisDupeFilter(RFPDupeFilter):
    """Filters a request whose fingerprint was seen within the retention period, on any machine."""

    logger = logger

    def __init__(self, server: redis.Redis, key: str, debug: bool = False, *,
                 retention: float = DEFAULT_RETENTION,
                 fingerprinter: RequestFingerprinterProtocol | None = None,
                 stats=None) -> None:
        super().__init__(server, key, debug)
        self.fingerprints = ExpiringFingerprints(server, key, retention)
        self.fingerprinter = fingerprinter or RequestFingerprinter()
        self.stats = stats

    @classmethod
    def _build(cls, settings: BaseSettings, spider_name: str | None, crawler: Crawler | None):
        return cls(get_redis_from_settings(settings), dupefilter_key(settings, spider_name),
                   settings.getbool("DUPEFILTER_DEBUG"),
                   retention=settings.getfloat(RETENTION_SETTING, DEFAULT_RETENTION),
                   fingerprinter=crawler.request_fingerprinter if crawler else None,
                   stats=crawler.stats if crawler else None)

    @classmethod
    def from_crawler(cls, crawler: Crawler):
        """Scrapy's scheduler builds its DUPEFILTER_CLASS with this (the spider exists by then)."""
        spider = crawler.spider
        return cls._build(crawler.settings, spider.name if spider else None, crawler)

    @classmethod
    def from_spider(cls, spider: Spider):
        """scrapy-redis's scheduler builds its DUPEFILTER_CLASS with this, in open()."""
        return cls._build(spider.settings, spider.name, getattr(spider, "crawler", None))

    @classmethod
    def from_settings(cls, settings: BaseSettings):
        return cls._build(settings, None, None)

    def request_fingerprint(self, request: Request) -> str:
        """The crawler's fingerprint of ``request``, in hex (as scrapy-redis stores them)."""
        return self.fingerprinter.fingerprint(request).hex()

    def request_seen(self, request: Request) -> bool:
        """True if ``request`` was seen within the retention period; otherwise records it and is False."""
        return not self.fingerprints.add(self.request_fingerprint(request))

    def forget(self, request: Request) -> bool:
        """Let ``request`` be fetched again before its retention ends (e.g. it failed)."""
        return self.fingerprints.discard(self.request_fingerprint(request))

    def close(self, reason: str = "") -> None:
        """Keep the fingerprints (scrapy-redis's filter deletes them here): the retention forgets them."""

    def clear(self) -> None:
        self.fingerprints.clear()

    def log(self, request: Request, spider: Spider) -> None:
        """As Scrapy's RFPDupeFilter.log: every duplicate with DUPEFILTER_DEBUG, else the first one;
        and count it in dupefilter/filtered."""
        if self.debug:
            msg = "Filtered duplicate request: %(request)s (referer: %(referer)s)"
            self.logger.debug(msg, {"request": request, "referer": referer_str(request)}, extra={"spider": spider})
        elif self.logdupes:
            msg = ("Filtered duplicate request: %(request)s - no more duplicates will be shown"
                   " (see DUPEFILTER_DEBUG to show all duplicates)")
            self.logger.debug(msg, {"request": request}, extra={"spider": spider})
            self.logdupes = False
        stats = self.stats if self.stats is not None else getattr(getattr(spider, "crawler", None), "stats", None)
        if stats is not None:
            stats.inc_value("dupefilter/filtered")
