"""Many RSS feeds on many loopback host names, for scale tests and benchmarks/scale.py.

    with FeedFarm(feeds=1000, hosts=30) as farm:
        farm.feed_url(7)          # http://127.0.0.9:PORT/feeds/7.xml
        farm.publish(7)           # a new article in feed 7 (distinct text, its own URL)
        farm.published            # {article URL: when it was published}
        farm.checks[7]            # feed requests answered for feed 7 (304s included)
        farm.article_hits[url]    # requests for that article page (more than 1: fetched twice)

    FeedFarm(feeds=100, keep_entries=50, article_latency=(0.2, 1.0))
        farm.publish_many(7, 50)  # 50 articles in feed 7 at once (all listed: keep_entries=50)

`keep_entries` is how many of its newest articles a feed lists (KEEP_ENTRIES, 20, unless
given). With `article_latency=(low, high)` each article page is answered after a delay
drawn uniformly from [low, high] seconds (feeds and robots.txt answer at once); every
connection has its own thread and each server's listen backlog is 1024, so hundreds of
slow requests in flight on one host are fine.

All of 127.0.0.0/8 is loopback on Linux, so 127.0.0.2, 127.0.0.3, ... are distinct
hosts to a crawler; one server listens on each, all on one port. Feeds answer
conditional requests (ETag) with 304 until something is published; robots.txt
allows everything.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEEP_ENTRIES = 20  # a feed lists its newest articles only, as real ones do (the default of keep_entries)
_WORDS = ("market council river policy harbour energy schools rail export budget court festival weather "
          "bridge vaccine satellite museum wheat drought election reform tariff youth coastal").split()


class FeedFarm:
    def __init__(self, feeds: int, hosts: int = 30, *, first_host: int = 2, seed: int = 11,
                 keep_entries: int = KEEP_ENTRIES, article_latency: tuple[float, float] | None = None):
        if keep_entries < 1:
            raise ValueError(f"keep_entries must be at least 1, not {keep_entries}")
        if article_latency is not None:
            low, high = article_latency
            if not 0 <= low <= high:
                raise ValueError(f"article_latency must be (low, high) with 0 <= low <= high, not {article_latency}")
        self.feed_count = feeds
        self.hosts = [f"127.0.0.{first_host + n}" for n in range(hosts)]
        self.keep_entries = keep_entries
        self.article_latency = article_latency
        self.published: dict[str, float] = {}
        self.checks: Counter[int] = Counter()
        self.article_hits: Counter[str] = Counter()  # article URL: GETs of it (counted on arrival, before any delay)
        self._entries: dict[int, list[tuple[str, str, float]]] = {n: [] for n in range(feeds)}  # url, title, when
        self._bodies: dict[str, tuple[str, bytes]] = {}  # path: (article URL, page)
        self._lock = threading.Lock()
        self._closing = threading.Event()  # wakes handlers sleeping out a latency when the farm stops
        self._rng = random.Random(seed)
        self._latency_rng = random.Random(seed + 1)  # apart from _rng: delays drawn never change the articles
        self._servers = self._bind_all()
        self.port = self._servers[0].server_address[1]

    # --- addresses ---------------------------------------------------------

    def host_of(self, feed: int) -> str:
        return self.hosts[feed % len(self.hosts)]

    def feed_url(self, feed: int) -> str:
        return f"http://{self.host_of(feed)}:{self.port}/feeds/{feed}.xml"

    # --- content -----------------------------------------------------------

    def publish(self, feed: int) -> str:
        """A new article at the top of `feed`; returns its URL."""
        with self._lock:
            return self._publish(feed, time.time())

    def publish_many(self, feed: int, count: int) -> list[str]:
        """`count` new articles in `feed` at once, all published now, oldest first (the last is at the top of
        the feed); returns their URLs. One lock for the lot. Only the newest `keep_entries` stay listed.
        To fill every feed: `for feed in range(farm.feed_count): farm.publish_many(feed, 50)`.
        """
        with self._lock:
            now = time.time()
            return [self._publish(feed, now) for _ in range(count)]

    def _publish(self, feed: int, now: float) -> str:
        """Under self._lock."""
        number = len(self.published)
        url = f"http://{self.host_of(feed)}:{self.port}/articles/{feed}/{number}.html"
        title = f"Report {number} from feed {feed}"
        words = [self._rng.choice(_WORDS) for _ in range(180)]
        paragraphs = "".join(f"<p>{' '.join(words[i:i + 30]).capitalize()} (item {number}-{i}).</p>"
                             for i in range(0, len(words), 30))
        self._bodies[url.split(f":{self.port}", 1)[1]] = url, (
            f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<nav><a href='/'>Home</a></nav><article><h1>{title}</h1>"
            f"<p>Story {number} of feed {feed}: officials said on day {number % 28 + 1} that it changed.</p>"
            f"{paragraphs}</article><footer>Farm News</footer></body></html>").encode()
        entries = self._entries[feed]
        entries.insert(0, (url, title, now))
        del entries[self.keep_entries:]
        self.published[url] = now
        return url

    def _feed(self, feed: int) -> tuple[bytes, str]:
        with self._lock:
            entries = list(self._entries[feed])
            etag = f'"{feed}-{len(entries) and entries[0][2]}"'
        items = "".join(
            f"<item><title>{title}</title><link>{url}</link>"
            f"<pubDate>{time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime(when))}</pubDate></item>"
            for url, title, when in entries)
        body = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Feed {feed}</title>'
                f"<link>http://{self.host_of(feed)}/</link><description>farm</description>{items}</channel></rss>")
        return body.encode(), etag

    # --- serving -----------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path.split("?", 1)[0]
        if path == "/robots.txt":
            return _answer(request, 200, b"User-agent: *\nAllow: /\n", "text/plain")
        if path.startswith("/feeds/") and path.endswith(".xml"):
            try:
                feed = int(path[len("/feeds/"):-len(".xml")])
            except ValueError:
                feed = -1
            if not 0 <= feed < self.feed_count:
                return _answer(request, 404, b"no such feed", "text/plain")
            body, etag = self._feed(feed)
            with self._lock:
                self.checks[feed] += 1
            if request.headers.get("If-None-Match") == etag:
                return _answer(request, 304, b"", None, {"ETag": etag})
            return _answer(request, 200, body, "application/rss+xml; charset=utf-8", {"ETag": etag})
        delay = 0.0
        with self._lock:
            article = self._bodies.get(path)
            if article is not None:
                self.article_hits[article[0]] += 1
                if self.article_latency is not None:
                    delay = self._latency_rng.uniform(*self.article_latency)
        if article is None:
            return _answer(request, 404, b"not found", "text/plain")
        if delay and self._closing.wait(delay):
            request.close_connection = True  # the farm is stopping: no answer, and the connection is closed
            return None
        return _answer(request, 200, article[1], "text/html; charset=utf-8")

    def _bind_all(self) -> list[ThreadingHTTPServer]:
        """One server per host name, all on one port (tries a few ports until every address binds)."""
        farm = self

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 1024  # the listen backlog; a class attribute since __init__ already listens

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                farm._handle(self)

            def log_message(self, *args) -> None:
                pass

        for _attempt in range(20):
            servers: list[ThreadingHTTPServer] = []
            try:
                first = Server((self.hosts[0], 0), Handler)
                servers.append(first)
                for host in self.hosts[1:]:
                    servers.append(Server((host, first.server_address[1]), Handler))
            except OSError:
                for server in servers:
                    server.server_close()
                continue
            return servers
        raise OSError(f"no free port on all of {self.hosts[0]}..{self.hosts[-1]}")

    def __enter__(self) -> FeedFarm:
        for server in self._servers:
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True,
                             name=f"feed-farm-{server.server_address[0]}").start()
        return self

    def __exit__(self, *exc) -> None:
        self._closing.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()


def _answer(request: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str | None,
            headers: dict[str, str] | None = None) -> None:
    request.send_response(status)
    if content_type:
        request.send_header("Content-Type", content_type)
    for name, value in (headers or {}).items():
        request.send_header(name, value)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    if body and request.command != "HEAD":
        request.wfile.write(body)
