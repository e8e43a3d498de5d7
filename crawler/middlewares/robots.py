"""Scrapy's RobotsTxtMiddleware with one robots.txt cache for the whole process
(crawler.robots_cache): a long-lived worker runs one crawler per check, and each
would otherwise fetch the host's robots.txt again. Entries expire after
crawl.robots_txt_ttl, so a changed robots.txt is seen within that time."""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware

from crawler import robots_cache


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        robots_cache.parsers.ttl = crawler.settings.getfloat("NEWSMON_ROBOTS_TXT_TTL", robots_cache.parsers.ttl)
        self._parsers = robots_cache.parsers
