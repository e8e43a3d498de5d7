"""Many RSS feeds on many loopback host names, for scale tests and benchmarks/scale.py.

    with FeedFarm(feeds=1000, hosts=30) as farm:
        farm.feed_url(7)          # http://127.0.0.9:PORT/feeds/7.xml
        farm.publish(7)           # a new article in feed 7 (distinct text, its own URL)
        farm.published            # {article URL: when it was published}
        farm.checks[7]            # feed requests answered for feed 7 (304s included)

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

KEEP_ENTRIES = 20  # a feed lists its newest articles only, as real ones do
_WORDS = ("market council river policy harbour energy schools rail export budget court festival weather "
          "bridge vaccine satellite museum wheat drought election reform tariff youth coastal").split()


class FeedFarm:
    def __init__(self, feeds: int, hosts: int = 30, *, first_host: int = 2, seed: int = 11):
        self.feed_count = feeds
        self.hosts = [f"127.0.0.{first_host + n}" for n in range(hosts)]
        self.published: dict[str, float] = {}
        self.checks: Counter[int] = Counter()
        self._entries: dict[int, list[tuple[str, str, float]]] = {n: [] for n in range(feeds)}  # url, title, when
        self._bodies: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
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
            number = len(self.published)
            url = f"http://{self.host_of(feed)}:{self.port}/articles/{feed}/{number}.html"
            title = f"Report {number} from feed {feed}"
            words = [self._rng.choice(_WORDS) for _ in range(180)]
            paragraphs = "".join(f"<p>{' '.join(words[i:i + 30]).capitalize()} (item {number}-{i}).</p>"
                                 for i in range(0, len(words), 30))
            self._bodies[url.split(f":{self.port}", 1)[1]] = (
                f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
                f"<nav><a href='/'>Home</a></nav><article><h1>{title}</h1>"
                f"<p>Story {number} of feed {feed}: officials said on day {number % 28 + 1} that it changed.</p>"
                f"{paragraphs}</article><footer>Farm News</footer></body></html>").encode()
            now = time.time()
            entries = self._entries[feed]
            entries.insert(0, (url, title, now))
            del entries[KEEP_ENTRIES:]
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
        with self._lock:
            page = self._bodies.get(path)
        if page is None:
            return _answer(request, 404, b"not found", "text/plain")
        return _answer(request, 200, page, "text/html; charset=utf-8")

    def _bind_all(self) -> list[ThreadingHTTPServer]:
        """One server per host name, all on one port (tries a few ports until every address binds)."""
        farm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                farm._handle(self)

            def log_message(self, *args) -> None:
                pass

        for _attempt in range(20):
            servers: list[ThreadingHTTPServer] = []
            try:
                first = ThreadingHTTPServer((self.hosts[0], 0), Handler)
                servers.append(first)
                for host in self.hosts[1:]:
                    servers.append(ThreadingHTTPServer((host, first.server_address[1]), Handler))
            except OSError:
                for server in servers:
                    server.server_close()
                continue
            for server in servers:
                server.daemon_threads = True
                server.request_queue_size = 256
            return servers
        raise OSError(f"no free port on all of {self.hosts[0]}..{self.hosts[-1]}")

    def __enter__(self) -> FeedFarm:
        for server in self._servers:
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True,
                             name=f"feed-farm-{server.server_address[0]}").start()
        return self

    def __exit__(self, *exc) -> None:
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
