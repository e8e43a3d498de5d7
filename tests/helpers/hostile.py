"""A hostile HTTP server on loopback that a test programs route by route.

    with HostileServer() as site:                  # 127.0.0.1, a free port
        site.route("/feed.xml", b"/etc/passwd", content_type="application/rss+xml")
        site.route("/slow", b"...", delay=30)       # answers after 30 s
        site.route("/redir", status=302, headers={"Location": "file:///etc/passwd"})
        site.route("/huge", stream=lambda: iter([b"x" * 65536] * 10_000))
        url = site.url("/feed.xml")
        ...
        site.requests        # [(method, path, headers)] in arrival order

`host` may be any 127.x.y.z address (all of 127.0.0.0/8 is loopback on Linux),
so several servers act as distinct sites. Unrouted paths answer 404.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a hang, when long)
    stream: Callable[[], Iterable[bytes]] | None = None  # a body sent chunk by chunk, no Content-Length


class HostileServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return self._server.server_address[0]

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def route(self, path: str, body: bytes | str = b"", *, status: int = 200, content_type: str | None = None,
              headers: dict[str, str] | None = None, delay: float = 0.0,
              stream: Callable[[], Iterable[bytes]] | None = None) -> None:
        """What `path` (with its query string, if the request has one) answers from now on."""
        headers = dict(headers or {})
        if content_type:
            headers["Content-Type"] = content_type
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(data, status, headers, delay, stream)

    def paths(self) -> list[str]:
        with self._lock:
            return [path for _method, path, _headers in self.requests]

    def start(self) -> HostileServer:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()  # wakes routes that are sleeping
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler_for(server: HostileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            with server._lock:
                server.requests.append((self.command, self.path, dict(self.headers.items())))
            route = server.routes.get(self.path) or server.routes.get(self.path.split("?", 1)[0])
            if route is None:
                route = Route(b"not found", 404, {"Content-Type": "text/plain"})
            if route.delay and server._stop.wait(route.delay):
                return
            try:
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if route.stream is not None:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    for chunk in route.stream():
                        if server._stop.is_set():
                            return
                        self.wfile.write(chunk)
                    return
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(route.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up: that is what hostile tests provoke

        do_GET = do_HEAD = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
