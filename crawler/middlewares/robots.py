"""Scrapy's RobotsTxtMiddleware with one robots.txt cache for the whole process
(crawler.robots_cache): a long-lived worker runs one crawler per check, and each
would otherwise fetch the host's robots.txt again. Entries expire after
crawl.robots_txt_ttl, so a changed robots.txt is seen within that time.

In distributed mode (NEWSMON_REDIS_URL, set from redis_url) a host's robots.txt is
also shared by every crawl process through Redis (monitor.distributed.domain_limiter
.SharedRobotsTxt), so it is fetched once per host per TTL by all workers together,
not once per worker. On a miss in the process cache:

- the body is in Redis: it is parsed here, and its Crawl-delay learned into
  robots_cache.crawl_delays, as CrawlDelayMiddleware does for a fetched robots.txt;
- it is not: one process claims the fetch, fetches as Scrapy does and stores the
  body (a 4xx, "no robots.txt", as b"": allow all, as Scrapy reads it); a network
  error or a 5xx is not stored, and the claim is given up so another worker may try.
  The others wait for the body (without blocking the reactor) and fetch it
  themselves if the claimant has not stored it within DOWNLOAD_TIMEOUT.

While Redis is unreachable each process just fetches robots.txt itself (one
warning per outage): robots.txt sharing only saves requests, so it never stops a crawl.

Limit: a body read from Redis near the end of its TTL is then kept for a full TTL
in the process, so a changed robots.txt is seen within twice crawl.robots_txt_ttl.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from protego import Protego
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import Request, Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from monitor.distributed.domain_limiter import SharedRobotsTxt

from crawler import robots_cache
from monitor.distributed.connection import Keys, connect, process_identity
from monitor.extras import import_extra

logger = logging.getLogger(__name__)
OUTAGE_RETRY = 30.0  # seconds without Redis calls after one failed: each would wait for its timeouts
WAIT_STEP = 1.0  # a waiter re-tries the claim this often, so a dropped or expired claim is taken over at once

_stores: dict[tuple[str, str, float], SharedRobotsTxt] = {}  # one client per process, for every check's crawler
_holder = process_identity()


def shared_robots(url: str, prefix: str, ttl: float) -> SharedRobotsTxt:
    # Imported here: redis is an extra, and this middleware also runs without it (no redis_url).
    from monitor.distributed.domain_limiter import SharedRobotsTxt

    key = (url, prefix, ttl)
    if key not in _stores:
        _stores[key] = SharedRobotsTxt(connect(url), Keys(prefix).robots, ttl=ttl)
    return _stores[key]


class _Outage:
    """One warning per Redis outage (per process), and no Redis call for a while after a failure."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.retry_at = 0.0

    def skip(self) -> bool:
        return time.monotonic() < self.retry_at

    def failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        if self.since is None:
            self.since = now
            logger.warning("robots.txt cache in Redis unreachable (%s): each process fetches robots.txt itself "
                           "until it answers", exc)
        self.retry_at = now + OUTAGE_RETRY

    def answered(self) -> None:
        if self.since is not None:
            logger.warning("robots.txt cache in Redis answers again, after %.0fs", time.monotonic() - self.since)
            self.since = None


_outage = _Outage()


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        settings = crawler.settings
        robots_cache.parsers.ttl = settings.getfloat("NEWSMON_ROBOTS_TXT_TTL", robots_cache.parsers.ttl)
        self._parsers = robots_cache.parsers
        url = settings.get("NEWSMON_REDIS_URL")
        self._shared = (shared_robots(url, settings.get("NEWSMON_REDIS_PREFIX", "newsmon"), robots_cache.parsers.ttl)
                        if url else None)
        self._claim_timeout = settings.getfloat("DOWNLOAD_TIMEOUT")
        self._user_agent = settings.get("USER_AGENT", "*")  # as CrawlDelayMiddleware reads Crawl-delay
        self._fetching: set[str] = set()  # netlocs this middleware fetches for Redis and has not stored yet
        self._redis_error = import_extra("redis").RedisError if url else ()

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        if self._shared is None or netloc in self._parsers or _outage.skip():
            return await super().robot_parser(request)
        # Taken before asking Redis, so this process's other requests to the host wait for this one answer.
        pending = self._parsers[netloc] = Deferred()
        parser = None
        try:
            try:
                body = await self._shared_body(netloc)
            except self._redis_error as exc:
                _outage.failed(exc)
                body = None
            if body is not None:
                parser = await self._adopt(body, netloc, request)
            else:
                del self._parsers[netloc]  # Scrapy's robot_parser fetches only a netloc it has no entry for
                self._fetching.add(netloc)
                parser = await super().robot_parser(request)  # calls _parse_robots, which stores the body
                if netloc in self._fetching:  # a download error: nothing to store; another worker may try now
                    self._fetching.discard(netloc)
                    await self._redis(self._shared.drop_claim, netloc, _holder)
        finally:  # never leave this process's other requests to the host waiting (cancelled, or a bug)
            if dict.get(self._parsers, netloc) is pending:
                self._parsers[netloc] = parser
            pending.callback(parser)
        return parser

    async def _shared_body(self, netloc: str) -> bytes | None:
        """The body from Redis, waiting while another process fetches it; None: fetch it here."""
        store = self._shared
        deadline = time.monotonic() + self._claim_timeout
        body = await asyncio.to_thread(store.get, netloc)
        waiting = False
        while body is None:
            if await asyncio.to_thread(store.claim_fetch, netloc, _holder, self._claim_timeout):
                break  # ours to fetch
            if not waiting:
                waiting = True
                logger.debug("robots.txt of %s is being fetched by another process; waiting for it", netloc)
            left = deadline - time.monotonic()
            if left <= 0:
                logger.info("robots.txt of %s: no other process stored it in %.0fs; fetching it here",
                            netloc, self._claim_timeout)
                break
            body = await store.await_body(netloc, min(WAIT_STEP, left))
        _outage.answered()
        return body

    async def _adopt(self, body: bytes, netloc: str, request: Request) -> RobotParser:
        """Parse a body another process fetched, as Scrapy parses one fetched here."""
        parser = build_from_crawler(self._parserimpl, self.crawler, body)
        self._stats.inc_value("robotstxt/shared_count")
        host = urlparse_cached(request).hostname or ""
        try:
            delay = Protego.parse(body.decode("utf-8", "replace")).crawl_delay(self._user_agent)
        except Exception:  # an unparsable robots.txt only loses the delay, as in CrawlDelayMiddleware
            delay = None
        if delay:
            robots_cache.crawl_delays[host] = float(delay)
            logger.info("Crawl-delay %ss for %s (robots.txt from Redis)", delay, host)
        self._parsers[netloc] = parser
        await self.crawler.signals.send_catch_log_async(signal=signals.robots_parsed, robotparser=parser,
                                                        request=request)
        return parser

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        await super()._parse_robots(response, netloc, request)
        if netloc not in self._fetching:
            return
        self._fetching.discard(netloc)
        if 200 <= response.status < 300:
            await self._redis(self._shared.put, netloc, response.body)
        elif 400 <= response.status < 500:
            await self._redis(self._shared.put, netloc, b"")  # no robots.txt: allow all
        else:  # 5xx (or an unfollowed redirect): not an answer to keep for a TTL
            await self._redis(self._shared.drop_claim, netloc, _holder)

    async def _redis(self, call, *args: object) -> None:
        """A store or a claim release, in a thread; a failure only costs other processes a fetch."""
        try:
            await asyncio.to_thread(call, *args)
        except self._redis_error as exc:
            _outage.failed(exc)
