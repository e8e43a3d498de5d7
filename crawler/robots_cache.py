"""What a long-lived crawl process remembers about hosts across checks: parsed
robots.txt files (for crawl.robots_txt_ttl) and robots.txt Crawl-delays, with one
pacer per host so concurrent checks of sources on one host share its delay.

Each check is its own Scrapy crawler, and Scrapy keeps robots.txt per crawler:
without this, every check of a feed would fetch robots.txt again.
"""

from __future__ import annotations

import time
from typing import Any

from twisted.internet.defer import Deferred

ERROR_TTL = 300.0  # a robots.txt that failed to download is tried again after this


class ExpiringParsers(dict):
    """RobotsTxtMiddleware's `netloc -> parser | Deferred | None` map, shared by every crawler
    in the process; a parser older than its TTL counts as absent, so it is fetched again.
    A Deferred (a fetch in progress) never expires: the crawlers waiting on it get its result."""

    def __init__(self) -> None:
        super().__init__()
        self.ttl = 3600.0
        self._stored_at: dict[str, float] = {}

    def __setitem__(self, netloc: str, value: Any) -> None:
        super().__setitem__(netloc, value)
        self._stored_at[netloc] = time.monotonic()

    def __contains__(self, netloc: object) -> bool:
        if not super().__contains__(netloc):
            return False
        value = dict.__getitem__(self, netloc)
        if isinstance(value, Deferred):
            return True
        ttl = self.ttl if value is not None else min(self.ttl, ERROR_TTL)
        if time.monotonic() - self._stored_at.get(netloc, 0.0) > ttl:
            del self[netloc]
            self._stored_at.pop(netloc, None)
            return False
        return True


class HostPacer:
    """At least `delay` seconds between the starts of requests to one host, across all the
    crawlers in this process (a Scrapy download slot belongs to one crawler)."""

    def __init__(self) -> None:
        self._next_at: dict[str, float] = {}

    def reserve(self, host: str, delay: float) -> float:
        """Seconds to wait before this request may go; the slot after it is taken."""
        now = time.monotonic()
        start = max(now, self._next_at.get(host, 0.0))
        self._next_at[host] = start + delay
        return start - now


parsers = ExpiringParsers()
crawl_delays: dict[str, float] = {}  # host -> robots.txt Crawl-delay for our user agent
pacer = HostPacer()
