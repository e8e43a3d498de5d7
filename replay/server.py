"""Serves replay/site on 127.0.0.1 like the real sites would, plus paths that
misbehave on purpose for failure tests.

    python -m replay.server --port 8765

Special paths:
    /broken/feed.xml        malformed XML served as RSS
    /broken/notxml.xml      an HTML page served as RSS
    /broken/entities.xml    a feed declaring nested entities (an expansion bomb)
    /slow/<path>?delay=N    waits N seconds (default: the server's slow_seconds, 3), then serves <path> (or 404)
    /status/<code>          answers that status code
    /throttle/<n>/<path>    the first n requests answer 429 Retry-After: 1, then <path> is served
    /throttle-long/<any>    429 with Retry-After: 3600
    /flaky/<n>/<path>       the first n requests answer 502, then <path> is served
    /loop/a, /loop/b        redirect to each other forever
    /bomb/feed.xml          a 50 MB response gzip-compressed to about 50 KB
Bodies have the placeholder http://replay.invalid rewritten to this server's
address (ASCII, so safe in GB18030 bytes too). ETag/Last-Modified are sent
and conditional requests get 304.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import hashlib
import signal
import threading
import time
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

SITE = Path(__file__).resolve().parent / "site"
PLACEHOLDER = b"http://replay.invalid"
# Sources whose real servers send no charset: the page's <meta> is all a client has.
NO_CHARSET_HEADER = ("jjckb", "gzgov_portal")
SITE_MTIME = 1709280000  # 2024-03-01: fixed so Last-Modified is stable across checkouts

BROKEN_FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Broken<item><title>x</title></channel>'
ENTITY_BOMB = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
               b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
               b'<rss version="2.0"><channel><title>&c;</title><item><title>x</title>'
               b'<link>http://replay.invalid/xinhua_english/20240226/9a8b7c6d5e4f/c.html</link></item></channel></rss>')
NOT_XML = b"<!DOCTYPE html><html><body><h1>Not a feed</h1><p>This is an HTML page.</p></body></html>"


@functools.lru_cache(maxsize=1)
def gzip_bomb(size: int = 50 * 1024 * 1024) -> bytes:
    return gzip.compress(b"<rss>" + b" " * size, compresslevel=9)


def content_type(path: Path, source: str) -> str:
    suffix = path.suffix.lower()
    if suffix == ".xml":
        text = path.read_bytes()[:300]
        return "application/atom+xml; charset=utf-8" if b"<feed" in text else "application/rss+xml; charset=utf-8"
    if suffix == ".json":
        return "application/json"
    if suffix in (".html", ".htm"):
        return "text/html" if source in NO_CHARSET_HEADER else "text/html; charset=utf-8"
    if suffix == ".txt":
        return "text/plain; charset=utf-8"
    return "application/octet-stream"


class ReplayServer:
    def __init__(self, root: Path = SITE, host: str = "127.0.0.1", port: int = 0, slow_seconds: float = 3.0):
        self.root = Path(root).resolve()
        self.slow_seconds = slow_seconds
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._handle(self, head=False)

            def do_HEAD(self) -> None:
                server._handle(self, head=True)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.host, self.port = self.httpd.server_address[:2]
        self.base_url = f"http://{self.host}:{self.port}"
        self.requests: list[tuple[str, int]] = []  # (path, status) served, for tests
        self.bytes_sent = 0
        self.request_times: list[float] = []  # monotonic arrival time of each request
        self._throttle_hits: dict[str, int] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # --- lifecycle ---------------------------------------------------------------

    def start(self) -> ReplayServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- requests ------------------------------------------------------------------

    def _send(self, handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", ctype: str = "text/plain",
              headers: dict[str, str] | None = None, head: bool = False) -> None:
        with self._lock:
            self.requests.append((handler.path, status))
            if not head and status != 304:
                self.bytes_sent += len(body)
        handler.send_response(status)
        if status != 304:  # a 304 has no body, so no type or length of one
            handler.send_header("Content-Type", ctype)
            handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        if not head and status != 304:
            handler.wfile.write(body)

    def _handle(self, handler: BaseHTTPRequestHandler, head: bool) -> None:
        with self._lock:
            self.request_times.append(time.monotonic())
        parts = urlsplit(handler.path)
        path = unquote(parts.path)
        query = parse_qs(parts.query)
        if path == "/broken/feed.xml":
            return self._send(handler, 200, BROKEN_FEED, "application/rss+xml", head=head)
        if path == "/broken/entities.xml":
            return self._send(handler, 200, ENTITY_BOMB, "application/rss+xml", head=head)
        if path == "/broken/notxml.xml":
            return self._send(handler, 200, NOT_XML, "application/rss+xml", head=head)
        if path.startswith("/slow/"):  # then served like any other path: the file, or 404
            try:
                delay = float(query.get("delay", [self.slow_seconds])[0])
            except ValueError:
                delay = self.slow_seconds
            time.sleep(max(0.0, min(delay, 600.0)))
            path = path[len("/slow"):]
        if path.startswith("/status/"):
            code = path.split("/")[2]
            if not (code.isdigit() and 200 <= int(code) <= 599):
                return self._send(handler, 400, b"use /status/<code>, 200-599", head=head)
            return self._send(handler, int(code), f"status {code}".encode(), head=head)
        if path.startswith("/throttle/"):
            _, _, count, rest = path.split("/", 3)
            with self._lock:
                seen = self._throttle_hits.get(path, 0)
                self._throttle_hits[path] = seen + 1
            if seen < int(count):
                return self._send(handler, 429, b"slow down", headers={"Retry-After": "1"}, head=head)
            path = "/" + rest
        if path.startswith("/flaky/"):  # /flaky/<n>/<path>: n times 502, then the file
            _, _, count, rest = path.split("/", 3)
            with self._lock:
                seen = self._throttle_hits.get(path, 0)
                self._throttle_hits[path] = seen + 1
            if seen < int(count):
                return self._send(handler, 502, b"bad gateway", head=head)
            path = "/" + rest
        if path.startswith("/throttle-long/"):
            return self._send(handler, 429, b"slow down", headers={"Retry-After": "3600"}, head=head)
        if path in ("/loop/a", "/loop/b"):
            other = "/loop/b" if path == "/loop/a" else "/loop/a"
            return self._send(handler, 302, b"", headers={"Location": other}, head=head)
        if path == "/bomb/feed.xml":
            return self._send(handler, 200, gzip_bomb(), "application/rss+xml",
                              headers={"Content-Encoding": "gzip"}, head=head)
        file = self._resolve(path)
        if file is None:
            return self._send(handler, 404, b"not found", head=head)
        body = file.read_bytes().replace(PLACEHOLDER, self.base_url.encode("ascii"))
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        modified = formatdate(SITE_MTIME, usegmt=True)
        headers = {"ETag": etag, "Last-Modified": modified}
        if self._not_modified(handler, etag):
            return self._send(handler, 304, headers=headers, head=head)
        source = path.strip("/").split("/")[0]
        return self._send(handler, 200, body, content_type(file, source), headers, head=head)

    def _resolve(self, path: str) -> Path | None:
        candidate = (self.root / path.lstrip("/")).resolve()
        if not candidate.is_relative_to(self.root):
            return None
        if candidate.is_dir():
            for index in ("index.html", "index.xml"):
                if (candidate / index).is_file():
                    return candidate / index
            return None
        return candidate if candidate.is_file() else None

    @staticmethod
    def _not_modified(handler: BaseHTTPRequestHandler, etag: str) -> bool:
        if_none_match = handler.headers.get("If-None-Match")
        if if_none_match is not None:
            return etag in [t.strip() for t in if_none_match.split(",")] or if_none_match.strip() == "*"
        if_modified_since = handler.headers.get("If-Modified-Since")
        if if_modified_since:
            try:
                return parsedate_to_datetime(if_modified_since).timestamp() >= SITE_MTIME
            except (TypeError, ValueError):
                return False
        return False


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m replay.server", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--slow", type=float, default=3.0, metavar="SECONDS",
                        help="how long /slow/... paths wait before answering (default 3; ?delay=N overrides)")
    args = parser.parse_args()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with ReplayServer(host=args.host, port=args.port, slow_seconds=args.slow) as server:
        print(f"replay site serving {server.root} at {server.base_url}/", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
