"""A tiny ntfy-compatible server on 127.0.0.1: records every POST/PUT (path, headers, body) and
answers 200 with a JSON message object, as ntfy does. Apprise's ntfy://127.0.0.1:PORT/topic
(plain HTTP) publishes to it."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Published:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class NtfyReceiver:
    def __init__(self) -> None:
        self.published: list[Published] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _publish(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.published.append(Published(self.command, self.path, dict(self.headers.items()), body))
                answer = json.dumps({"id": str(len(receiver.published)), "time": int(time.time()),
                                     "event": "message", "topic": self.path.strip("/").split("/")[0]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_POST = do_PUT = _publish

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> NtfyReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
