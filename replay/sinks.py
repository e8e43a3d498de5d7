"""Local receivers for alerts, used by the demo and the tests: a real SMTP
server (aiosmtpd) and a real HTTP webhook receiver, both on 127.0.0.1, each
on a port the system picks unless one is given.

    with SmtpSink() as smtp:                       # smtp.port
        ...
        (mail,) = smtp.wait_for(1)                 # mail["Subject"], mail.message, mail.rcpt_tos

    with WebhookReceiver() as hook:                # hook.url
        hook.fail_next(2, status=503)              # the next two POSTs get 503
        hook.hold()                                # record POSTs but answer none until release()
        ...
        (request,) = hook.wait_for(1)              # request.json, request.headers, request.body
        WebhookReceiver.verify(request, secret)

As a command, printing one line per thing received:

    python -m replay.sinks smtp --port 2525
    python -m replay.sinks webhook --port 8766 [--secret KEY]
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import hmac
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from monitor.channels.webhook import sign

T = TypeVar("T")


def _wait_for(items: list[T], n: int, timeout: float, lock: threading.Lock) -> list[T]:
    """A copy of `items` once it has n entries, or whatever it has after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        with lock:
            if len(items) >= n or time.monotonic() >= deadline:
                return list(items)
        time.sleep(0.01)


# --- SMTP ----------------------------------------------------------------------


@dataclass
class ReceivedEmail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage  # parsed with email.policy.default
    peer: tuple[str, int]  # the client's address: one per SMTP connection

    def __getitem__(self, header: str) -> str | None:
        return self.message[header]

    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()


class _AnyPortController(Controller):
    """aiosmtpd's Controller, able to listen on port 0 (a port the system picks)."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class _SmtpHandler:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.sink.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        sink = self.sink
        if sink.delay:
            await asyncio.sleep(sink.delay)
        failure = sink._next_failure()
        if failure:
            return failure
        parsed = email.message_from_bytes(envelope.original_content or envelope.content,
                                          policy=email.policy.default)
        received = ReceivedEmail(envelope.mail_from, list(envelope.rcpt_tos), parsed, tuple(session.peer[:2]))
        with sink.lock:
            sink.messages.append(received)
        if sink.echo:
            print(f"[smtp] {envelope.mail_from} -> {', '.join(envelope.rcpt_tos)}: {parsed['Subject']}", flush=True)
        return "250 2.0.0 Message accepted for delivery"


class SmtpSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives.

    tls_context: offer and require STARTTLS with it; with implicit_tls=True,
        speak TLS from the first byte instead (the client's security: ssl).
    credentials: (username, password) to require AUTH with; over STARTTLS only
        after the upgrade, otherwise on the plain connection too.
    refuse: recipient addresses answered with 550.
    fail_next(n, reply) / delay: make the next DATA commands fail or be slow.
    """

    def __init__(self, port: int = 0, *, tls_context: ssl.SSLContext | None = None, implicit_tls: bool = False,
                 credentials: tuple[str, str] | None = None, refuse: tuple[str, ...] = (), echo: bool = False):
        self.messages: list[ReceivedEmail] = []
        self.lock = threading.Lock()
        self.refuse = set(refuse)
        self.echo = echo
        self.delay = 0.0  # seconds to wait before answering DATA
        self._failures: list[str] = []
        options: dict[str, Any] = {}
        if tls_context is not None and implicit_tls:
            options["ssl_context"] = tls_context
        elif tls_context is not None:
            options.update(tls_context=tls_context, require_starttls=True)
        if credentials is not None:
            # Over STARTTLS, AUTH waits for TLS as real servers do. Without it, and
            # with implicit TLS (which aiosmtpd does not count), AUTH is allowed as
            # is; aiosmtpd then warns "Requiring AUTH while not requiring TLS".
            starttls = tls_context is not None and not implicit_tls
            options.update(authenticator=_authenticator(*credentials), auth_required=True,
                           auth_require_tls=starttls)
        self.controller = _AnyPortController(_SmtpHandler(self), hostname="127.0.0.1", port=port, **options)

    @property
    def port(self) -> int:
        """The listening port (known once started when 0 was asked for)."""
        return self.controller.port

    def fail_next(self, n: int, reply: str = "451 4.3.0 Try again later") -> None:
        """Answer the next n DATA commands with `reply` instead of accepting the message."""
        with self.lock:
            self._failures = [reply] * n

    def _next_failure(self) -> str | None:
        with self.lock:
            return self._failures.pop() if self._failures else None

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
        return _wait_for(self.messages, n, timeout, self.lock)


def _authenticator(username: str, password: str):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and hmac.compare_digest(auth_data.login, username.encode("utf-8"))
              and hmac.compare_digest(auth_data.password, password.encode("utf-8")))
        return AuthResult(success=ok, handled=False)

    return authenticate


# --- webhook -------------------------------------------------------------------


@dataclass
class ReceivedRequest:
    path: str
    headers: httpx.Headers  # case-insensitive
    body: bytes  # raw, as signed
    status: int  # what the receiver answered
    json: Any = field(default=None)  # the parsed body, None when it is not JSON
    peer: tuple[str, int] = ("", 0)  # the client's address: one per connection


class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 that records every POST and answers 200,
    or what `fail_next` asks for; `delay` makes it slow to answer, and `hold()`
    keeps every answer back until `release()` (a receiver that hangs, e.g. to
    kill the sender mid-send). With `tls_context` it speaks HTTPS (tests give
    it a certificate of their own CA)."""

    def __init__(self, port: int = 0, echo: bool = False, secret: str | None = None,
                 tls_context: ssl.SSLContext | None = None):
        self.requests: list[ReceivedRequest] = []
        self.lock = threading.Lock()
        self.echo = echo
        self.secret = secret  # only for the echo line's "signature ok"
        self.delay = 0.0  # seconds to wait before answering
        self._answers: list[tuple[int, dict[str, str], bytes | None]] = []
        self._answering = threading.Event()
        self._answering.set()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        if tls_context is not None:
            self.server.socket = tls_context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"{'https' if tls_context else 'http'}://127.0.0.1:{self.port}/newsmon"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"webhook-receiver-{self.port}", daemon=True)

    def fail_next(self, n: int, status: int = 500, headers: dict[str, str] | None = None,
                  body: bytes | None = None) -> None:
        """Answer the next n POSTs with `status` (and `headers`, e.g. a Location, and `body`
        instead of a short JSON error); n=0 cancels."""
        with self.lock:
            self._answers = [(status, dict(headers or {}), body)] * n

    def hold(self) -> None:
        """Record the POSTs that arrive from now on but answer none of them until release()."""
        self._answering.clear()

    def release(self) -> None:
        """Answer the held POSTs (as fail_next or 200 says) and the later ones at once."""
        self._answering.set()

    def _next_answer(self) -> tuple[int, dict[str, str], bytes | None]:
        with self.lock:
            return self._answers.pop() if self._answers else (200, {}, None)

    def _record(self, request: ReceivedRequest) -> None:
        with self.lock:
            self.requests.append(request)
        if self.echo:
            print(self._echo_line(request), flush=True)

    def _echo_line(self, request: ReceivedRequest) -> str:
        body = request.json if isinstance(request.json, dict) else {}
        signed = ""
        if self.secret is not None:
            signed = "  signature ok" if self.verify(request, self.secret) else "  BAD SIGNATURE"
        return (f"[webhook] {request.status} alert={request.headers.get('X-Newsmon-Alert-Id')} "
                f"delivery={request.headers.get('X-Newsmon-Delivery')} "
                f"rule={body.get('rule')} source={body.get('source')} {body.get('title')!r}{signed}")

    @property
    def delivered(self) -> list[ReceivedRequest]:
        """The requests answered with 2xx."""
        with self.lock:
            return [r for r in self.requests if 200 <= r.status < 300]

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()  # held handler threads finish instead of hanging on
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for(self, n: int, timeout: float = 5.0) -> list[ReceivedRequest]:
        return _wait_for(self.requests, n, timeout, self.lock)

    @staticmethod
    def verify(request: ReceivedRequest, secret: str, max_age: float | None = None) -> bool:
        """Check X-Newsmon-Signature as a receiver should (see monitor.channels.webhook)."""
        timestamp = request.headers.get("X-Newsmon-Timestamp", "")
        if not timestamp.isdigit():
            return False
        if max_age is not None and abs(time.time() - int(timestamp)) > max_age:
            return False
        expected = sign(secret, timestamp, request.body)
        return hmac.compare_digest(expected.encode(), request.headers.get("X-Newsmon-Signature", "").encode())


def _handler_for(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, extra_headers, answer = receiver._next_answer()
            try:
                parsed = json.loads(body.decode("utf-8"))
            except ValueError:
                parsed = None
            receiver._record(ReceivedRequest(self.path, httpx.Headers(list(self.headers.items())), body, status,
                                             parsed, tuple(self.client_address[:2])))
            if receiver.delay:
                time.sleep(receiver.delay)
            receiver._answering.wait()
            if answer is None:
                answer = b'{"ok":true}' if status < 300 else b'{"error":"told to fail"}'
            try:
                self.send_response(status)
                for name, value in extra_headers.items():
                    # Raw UTF-8 bytes, as a hostile receiver may send (send_header allows latin-1 only).
                    self._headers_buffer.append(f"{name}: {value}\r\n".encode())
                if "content-type" not in {name.lower() for name in extra_headers}:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (timeout tests)

        def log_message(self, *args: object) -> None:
            pass  # requests are recorded, not logged

    return Handler


# --- command line --------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m replay.sinks",
                                     description="Receive newsmon alerts locally and print one line each.")
    parser.add_argument("kind", choices=("smtp", "webhook"))
    parser.add_argument("--port", type=int, default=0, help="default: a free port, printed at start")
    parser.add_argument("--secret", help="webhook: check each request's signature with this key")
    args = parser.parse_args(argv)
    if args.kind == "smtp":
        sink: SmtpSink | WebhookReceiver = SmtpSink(args.port, echo=True)
    else:
        sink = WebhookReceiver(args.port, echo=True, secret=args.secret)
    with sink:
        where = sink.url if isinstance(sink, WebhookReceiver) else f"127.0.0.1:{sink.port}"
        print(f"{args.kind} sink listening on {where}; Ctrl-C to stop", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
