"""Scrapy settings built from the newsmon config: no secrets, no environment reads."""

from __future__ import annotations

import copy

from scrapy.settings import BaseSettings, Settings, SettingsAttribute

from monitor.config import NewsmonConfig

PIPELINES = {
    "crawler.pipelines.normalize.NormalizePipeline": 100,
    "crawler.pipelines.extract.ExtractPipeline": 200,
    "crawler.pipelines.revisit.RevisitPipeline": 300,
    "crawler.pipelines.store.StorePipeline": 400,
}

NON_HTTP_HANDLERS_OFF = {scheme: None for scheme in ("data", "file", "s3", "ftp", "ftps", "sftp", "gs")}


def build_settings(config: NewsmonConfig, *, log_level: str = "WARNING") -> dict:
    crawl = config.crawl
    settings = {
        "BOT_NAME": "newsmon",
        "USER_AGENT": config.user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots_txt,
        "DOWNLOAD_TIMEOUT": crawl.download_timeout,
        # Scrapy checks this after decompression too, which stops gzip bombs.
        "DOWNLOAD_MAXSIZE": crawl.max_response_bytes,
        "DOWNLOAD_WARNSIZE": crawl.max_response_bytes // 2,
        "CONCURRENT_REQUESTS": crawl.concurrent_requests,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_requests_per_domain,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "AUTOTHROTTLE_START_DELAY": 1.0,
        "RETRY_TIMES": crawl.retry_times,
        "REDIRECT_MAX_TIMES": 10,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": log_level,
        # Our root handler (monitor.log_format.configure, called by whoever starts the crawl) writes
        # the config's log_format with each record's source; Scrapy's would be plain text, and each
        # new crawler (one per check) would install it again.
        "LOG_INSTALL_ROOT_HANDLER": False,
        "ITEM_PIPELINES": PIPELINES,
        # Scrapy starts this many asyncio tasks for every response's output; an article page yields one
        # item, so the default 100 cost more CPU than the pipelines. Concurrency comes from the responses.
        "CONCURRENT_ITEMS": 4,
        "EXTENSIONS": {"crawler.extensions.runlog.RunLog": 0},
        # Only http(s): Scrapy's file, data, s3 and ftp handlers would let a feed, sitemap or redirect
        # read local files or reach other services.
        "DOWNLOAD_HANDLERS": NON_HTTP_HANDLERS_OFF,
        "DOWNLOADER_MIDDLEWARES": {
            # One robots.txt cache for every check a long-lived worker runs (Scrapy keeps one per crawler).
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "crawler.middlewares.robots.SharedRobotsTxtMiddleware": 100,
            # Before robots.txt (100): a refused host gets no request at all, not even for robots.txt.
            "crawler.middlewares.url_guard.UrlGuardMiddleware": 50,
            # Sees redirects before Scrapy's RedirectMiddleware (600) drops non-http ones unrecorded.
            "crawler.middlewares.url_guard.RedirectGuardMiddleware": 650,
            # After robots.txt (100); Retry-After (560) sees 429/503 before Scrapy retries them (550).
            "crawler.middlewares.crawl_delay.CrawlDelayMiddleware": 120,
            "crawler.middlewares.conditional.ConditionalRequestMiddleware": 130,
            "crawler.middlewares.retry_after.RetryAfterMiddleware": 560,
        },
        # HTTP errors are retried with backoff by RetryAfterMiddleware; Scrapy's retry keeps network errors.
        "RETRY_HTTP_CODES": [],
        "NEWSMON_ROBOTS_TXT_TTL": crawl.robots_txt_ttl,
        # What crawler.dupefilter.ExpiringRedisDupeFilter forgets after (scrapy-redis's own filter never does).
        "NEWSMON_SEEN_URL_RETENTION": crawl.seen_url_retention,
        # One check of one source (a crawler) is closed after this; its result says so.
        "CLOSESPIDER_TIMEOUT": crawl.check_timeout,
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    }
    if crawl.download_delay is not None:
        settings["DOWNLOAD_DELAY"] = crawl.download_delay
    if config.redis_url:
        # Distributed mode: per-domain limits, Crawl-delay and robots.txt held across every worker.
        settings["NEWSMON_REDIS_URL"] = config.redis_url
        settings["NEWSMON_REDIS_PREFIX"] = config.redis_prefix
        # After robots.txt (100) and Crawl-delay (120): a request waiting for its robots.txt holds no lease.
        settings["DOWNLOADER_MIDDLEWARES"]["crawler.middlewares.shared_limits.SharedDomainLimitMiddleware"] = 125
    return settings


class CrawlSettings(Settings):
    """Scrapy settings whose copy() is a structural copy instead of a deep copy.

    Scrapy copies the settings for every crawler it makes, and a long-lived worker makes
    one per check: the deep copy of ~400 settings was a third of an unchanged feed's cost.
    Nested settings (component dicts) are copied the same way, and containers shallowly;
    the values themselves are strings, numbers and classes that nothing mutates."""

    def copy(self) -> CrawlSettings:
        return _structural_copy(self)


def _structural_copy(settings: BaseSettings):
    clone = object.__new__(type(settings))
    clone.__dict__.update(settings.__dict__)
    clone.frozen = False
    clone.attributes = {}
    for name, attribute in settings.attributes.items():
        value = attribute.value
        if isinstance(value, BaseSettings):
            value = _structural_copy(value)
        elif isinstance(value, (dict, list, set)):
            value = copy.copy(value)
        copied = object.__new__(SettingsAttribute)
        copied.value, copied.priority = value, attribute.priority
        clone.attributes[name] = copied
    return clone
