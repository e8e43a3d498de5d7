"""robots.txt Crawl-delay, which Scrapy's RobotsTxtMiddleware reads but does
not apply: when a site's robots.txt passes through, its delay for our user
agent becomes the minimum delay of that site's download slot."""

from __future__ import annotations

from urllib.parse import urlsplit

from protego import Protego
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response


class CrawlDelayMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.user_agent = crawler.settings.get("USER_AGENT", "*")
        self.delays: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlDelayMiddleware:
        middleware = cls(crawler)
        # AutoThrottle lowers slot delays on every response; this runs after it and restores the floor.
        crawler.signals.connect(middleware._enforce, signal=signals.response_downloaded)
        return middleware

    def _enforce(self, request: Request, **_signal_args: object) -> None:
        host = urlsplit(request.url).hostname or ""
        delay = self.delays.get(host)
        if delay:
            slot = self.crawler.engine.downloader.slots.get(request.meta.get("download_slot", host))
            if slot is not None and slot.delay < delay:
                slot.delay = delay
                slot.randomize_delay = False

    def process_request(self, request: Request) -> None:
        self._enforce(request)
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        spider = self.crawler.spider
        if urlsplit(request.url).path == "/robots.txt" and response.status == 200:
            try:
                robots = Protego.parse(response.text if hasattr(response, "text") else response.body.decode())
                delay = robots.crawl_delay(self.user_agent)
            except Exception:  # an unparsable robots.txt only loses the delay, never the crawl
                spider.logger.warning("could not read Crawl-delay from %s", request.url)
                delay = None
            if delay:
                self.delays[urlsplit(request.url).hostname or ""] = float(delay)
                spider.logger.info("Crawl-delay %ss for %s", delay, urlsplit(request.url).hostname)
        return response
