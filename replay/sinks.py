"""Local receivers for alerts, used by the demo and the tests: a real SMTP
server (aiosmtpd) and a real HTTP webhook receiver, both on 127.0.0.1.

    python -m replay.sinks smtp --port 2525
    python -m replay.sinks webhook --port 8766
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from monitor.channels.webhook import sign


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(items: list, n: int, timeout: float, lock: threading.Lock) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with lock:
            if len(items) >= n:
                return list(items)
        time.sleep(0.02)
    with lock:
        return list(items)


# --- SMTP ----------------------------------------------------------------------


@dataclass
class ReceivedEmail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    def __getitem__(self, header: str) -> str | None:
        return self.message[header]


class _Handler:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802, ANN201
        parsed = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self.sink.lock:
            self.sink.messages.append(ReceivedEmail(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        if self.sink.echo:
            print(f"[smtp] {envelope.mail_from} -> {', '.join(envelope.rcpt_tos)}: {parsed['Subject']}", flush=True)
        return "250 Message accepted for delivery"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, N802, ANN201
        if address in self.sink.refuse:
            return "550 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"


class SmtpSink:
    """aiosmtpd on 127.0.0.1; optional STARTTLS (tls_context) and AUTH (credentials)."""

    def __init__(self, port: int = 0, *, tls_context: ssl.SSLContext | None = None,
                 credentials: tuple[str, str] | None = None, refuse: tuple[str, ...] = (), echo: bool = False):
        self.port = port or _free_port()
        self.messages: list[ReceivedEmail] = []
        self.lock = threading.Lock()
        self.refuse = set(refuse)
        self.echo = echo
        kwargs: dict = {}
        if tls_context is not None:
            kwargs.update(tls_context=tls_context, require_starttls=True)
        if credentials is not None:
            user, password = credentials

            def authenticate(server, session, envelope, mechanism, auth_data):  # noqa: ANN001, ANN202
                ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
                    and auth_data.password.decode() == password
                return AuthResult(success=ok, handled=False)

            kwargs.update(authenticator=authenticate, auth_required=True,
                          auth_require_tls=tls_context is not None)
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **kwargs)

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for(self, n: int, timeout: float = 5.0) -> list[ReceivedEmail]:
        return _wait(self.messages, n, timeout, self.lock)


# --- webhook -------------------------------------------------------------------


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered
    json: dict | None = field(default=None)


class WebhookReceiver:
    """Records POSTs; can be told to fail (`fail_next`) or to be slow (`delay`)."""

    def __init__(self, port: int = 0, echo: bool = False):
        self.requests: list[ReceivedRequest] = []
        self.lock = threading.Lock()
        self.echo = echo
        self.delay = 0.0
        self._failures_left = 0
        self._failure_status = 500
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status = receiver._next_status()
                if receiver.delay:
                    time.sleep(receiver.delay)
                try:
                    parsed = json.loads(body.decode("utf-8"))
                except ValueError:
                    parsed = None
                request = ReceivedRequest(self.path, dict(self.headers.items()), body, status, parsed)
                with receiver.lock:
                    receiver.requests.append(request)
                if receiver.echo and parsed:
                    print(f"[webhook] {status} rule={parsed.get('rule')} {parsed.get('title')}", flush=True)
                payload = b'{"ok": true}' if status < 300 else b'{"error": "told to fail"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/newsmon"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _next_status(self) -> int:
        with self.lock:
            if self._failures_left > 0:
                self._failures_left -= 1
                return self._failure_status
        return 200

    def fail_next(self, n: int, status: int = 500) -> None:
        with self.lock:
            self._failures_left = n
            self._failure_status = status

    @property
    def delivered(self) -> list[ReceivedRequest]:
        with self.lock:
            return [r for r in self.requests if r.status < 300]

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for(self, n: int, timeout: float = 5.0) -> list[ReceivedRequest]:
        return _wait(self.requests, n, timeout, self.lock)

    @staticmethod
    def verify(request: ReceivedRequest, secret: str) -> bool:
        timestamp = request.headers.get("X-Newsmon-Timestamp", "")
        expected = sign(secret, timestamp, request.body)
        return hmac_compare(expected, request.headers.get("X-Newsmon-Signature", ""))


def hmac_compare(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m replay.sinks")
    parser.add_argument("kind", choices=("smtp", "webhook"))
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    sink = SmtpSink(args.port, echo=True) if args.kind == "smtp" else WebhookReceiver(args.port, echo=True)
    with sink:
        print(f"{args.kind} sink listening on 127.0.0.1:{sink.port}; Ctrl-C to stop", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
