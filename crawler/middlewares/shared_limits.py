"""Per-domain politeness across every crawl worker (distributed mode).

Scrapy's download slots bound one crawler; a long-lived worker runs many, and
several workers run on several machines. Before a request is downloaded this
takes one of its host's leases from the shared limiter in Redis
(monitor.distributed.domain_limiter): at most crawl.concurrent_requests_per_domain
at once and starts at least DOWNLOAD_DELAY (or the host's robots.txt Crawl-delay)
apart, over all workers together. The lease is given back when the response or
the error comes back; a worker that dies loses its leases when they expire
(DOWNLOAD_TIMEOUT plus a margin), so its hosts do not stay blocked.

While Redis is away, requests wait for it (they are not sent unlimited).

Enabled only with NEWSMON_REDIS_URL (crawler.settings sets it from redis_url).
"""

from __future__ import annotations

import asyncio
import logging
import time
from types import SimpleNamespace

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached

from crawler import robots_cache
from monitor.distributed.connection import Keys, connect, outage_errors, process_identity
from monitor.distributed.domain_limiter import DomainLimiter

LEASE_META = "newsmon_domain_lease"
LEASE_MARGIN = 30.0  # seconds past DOWNLOAD_TIMEOUT: the response's handling, and a slow close
OUTAGE_RETRY = 1.0  # seconds between tries while Redis is away

logger = logging.getLogger(__name__)
_outage = SimpleNamespace(since=None)  # when this process lost the limiter's Redis (monotonic), if it has
_limiters: dict[tuple[str, str], DomainLimiter] = {}  # one client per process, for every check's crawler
_holder = process_identity()


def shared_limiter(url: str, prefix: str) -> DomainLimiter:
    key = (url, prefix)
    if key not in _limiters:
        _limiters[key] = DomainLimiter(connect(url), Keys(prefix).domains)
    return _limiters[key]


class SharedDomainLimitMiddleware:
    def __init__(self, crawler: Crawler, limiter: DomainLimiter):
        settings = crawler.settings
        self.crawler = crawler
        self.limiter = limiter
        self.concurrency = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        self.delay = settings.getfloat("DOWNLOAD_DELAY")
        self.lease = settings.getfloat("DOWNLOAD_TIMEOUT") + LEASE_MARGIN

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedDomainLimitMiddleware:
        url = crawler.settings.get("NEWSMON_REDIS_URL")
        if not url:
            raise NotConfigured  # no redis_url: per-domain limits hold per crawler (no message: no warning)
        middleware = cls(crawler, shared_limiter(url, crawler.settings.get("NEWSMON_REDIS_PREFIX", "newsmon")))
        # A redirect or retry carries its lease on in meta; one the scheduler then drops gives it back here.
        crawler.signals.connect(middleware._dropped, signal=signals.request_dropped)
        return middleware

    def _dropped(self, request: Request, **_signal_args: object) -> None:
        self._release(request)

    async def process_request(self, request: Request) -> None:
        if LEASE_META in request.meta:  # a retry through the chain keeps its own lease
            return None
        host = urlparse_cached(request).hostname or ""
        delay = max(self.delay, robots_cache.crawl_delays.get(host) or 0.0)
        while True:
            try:
                token = await self.limiter.acquire_wait(host, _holder, concurrency=self.concurrency,
                                                        delay=delay, lease=self.lease)
                break
            except outage_errors() as exc:
                if _outage.since is None:  # once per outage, not once per waiting request
                    _outage.since = time.monotonic()
                    logger.warning("Redis unreachable for the shared domain limiter (%s): requests wait for it", exc)
                await asyncio.sleep(OUTAGE_RETRY)
        if _outage.since is not None:
            logger.warning("Redis answers the shared domain limiter again, after %.0fs",
                           time.monotonic() - _outage.since)
            _outage.since = None
        request.meta[LEASE_META] = (host, token)
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        self._release(request)
        return response

    def process_exception(self, request: Request, exception: BaseException) -> None:
        self._release(request)
        return None

    def _release(self, request: Request) -> None:
        lease = request.meta.pop(LEASE_META, None)
        if lease is None:
            return
        host, token = lease
        # Off the reactor thread: a release is one ZREM, but Redis may be away (then the lease expires).
        asyncio.get_running_loop().run_in_executor(None, self._release_quietly, host, token)

    def _release_quietly(self, host: str, token: str) -> None:
        try:
            self.limiter.release(host, token)
        except outage_errors():
            pass  # the lease expires by itself (self.lease): the host is not blocked for long
