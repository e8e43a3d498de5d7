"""robots.txt Crawl-delay, which Scrapy's RobotsTxtMiddleware reads but does
not apply: when a site's robots.txt passes through, its delay for our user
agent becomes the minimum delay of that site's download slot, and the gap the
process-wide pacer (crawler.robots_cache) keeps between any two requests to the
host, whichever of the worker's concurrent checks sends them.

Disabled (NotConfigured) when robots.txt is not obeyed: no robots.txt is
fetched then, so there is no delay to learn."""

from __future__ import annotations

import asyncio

from protego import Protego
from scrapy import Request, signals
from scrapy.core.downloader import Downloader
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached

from crawler import robots_cache


def raise_slot_delay(downloader: Downloader, request: Request, delay: float) -> None:
    """At least `delay` seconds between requests of the request's download slot, without jitter.

    Scrapy has no public way to change a slot's delay while crawling (DOWNLOAD_SLOTS is read
    when a slot is created, before robots.txt is read); AutoThrottle itself adjusts the slot
    objects, so this does the same, here only."""
    slot = downloader.slots.get(downloader.get_slot_key(request))
    if slot is not None and slot.delay < delay:
        slot.delay = delay
        slot.jitter = 0.0


class CrawlDelayMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.user_agent = crawler.settings.get("USER_AGENT", "*")
        self.delays = robots_cache.crawl_delays  # learned once per host, for every check in this process

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlDelayMiddleware:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            # robots.txt is not obeyed (crawl.obey_robots_txt): no Crawl-delay to apply. No message:
            # Scrapy would log it as a warning for every check a long-lived worker runs.
            raise NotConfigured
        middleware = cls(crawler)
        # AutoThrottle lowers slot delays on every response; this runs after it and restores the floor.
        crawler.signals.connect(middleware._enforce, signal=signals.response_downloaded)
        return middleware

    def _enforce(self, request: Request, **_signal_args: object) -> float | None:
        """The host's Crawl-delay, applied to the request's slot; None when it has none."""
        delay = self.delays.get(urlparse_cached(request).hostname or "")
        if delay:
            raise_slot_delay(self.crawler.engine.downloader, request, delay)
        return delay

    async def process_request(self, request: Request) -> None:
        delay = self._enforce(request)
        url = urlparse_cached(request)
        if delay and url.path != "/robots.txt":
            wait = robots_cache.pacer.reserve(url.hostname or "", delay)
            if wait > 0:
                await asyncio.sleep(wait)
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        spider = self.crawler.spider
        url = urlparse_cached(request)
        if url.path == "/robots.txt" and response.status == 200:
            try:
                robots = Protego.parse(response.text if hasattr(response, "text") else response.body.decode())
                delay = robots.crawl_delay(self.user_agent)
            except Exception:  # an unparsable robots.txt only loses the delay, never the crawl
                spider.logger.warning("could not read Crawl-delay from %s", request.url)
                delay = None
            if delay:
                self.delays[url.hostname or ""] = float(delay)
                spider.logger.info("Crawl-delay %ss for %s", delay, url.hostname)
        return response
