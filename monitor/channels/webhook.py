"""Webhook alerts: one signed JSON POST per alert, with httpx.

The request
    POST <url>
    Content-Type: application/json
    X-Newsmon-Delivery: <delivery key: 32 hex digits, unique across archives>
    X-Newsmon-Alert-Id: <alert id in this archive>
    X-Newsmon-Timestamp: <unix seconds when signed>
    X-Newsmon-Signature: sha256=<hex>        (only when the channel has a `secret`)
    <headers from the channel's `headers`>

    {"alert_id": 42, "delivery_key": "9f1c...", "rule": "...", "title": "...", "url": "...", "source": "...",
     "published_at": "2023-12-08T00:00:00+00:00" | null, "snippet": "...",
     "language": "zh" | null, "also_in": ["other_source", ...]}

An operator alert about a source (monitor.health) has the same headers and this body:

    {"kind": "health", "alert_id": 43, "delivery_key": "...", "source": "...",
     "state": "failing" | "silent" | "drifting" | "recovered", "previous": "ok" | ..., "since": "<ISO 8601>",
     "detail": "3 consecutive checks failed (...)", "consecutive_failures": 3, "last_success_at": ... | null,
     "last_new_article_at": ... | null, "last_error": ... | null, "usual_gap_seconds": ... | null}

A digest (a rule with `digest:`, monitor.digest) is one POST for a period's alerts; its
X-Newsmon-Delivery is derived from (rule, channel, period, first alert), the same on a resend:

    {"kind": "digest", "alert_id": 44, "delivery_key": "...", "rule": "...",
     "period": {"start": "<ISO 8601>", "end": "<ISO 8601>", "timezone": "UTC" | "Asia/Shanghai" | ...},
     "count": 2, "alert_ids": [44, 45],
     "stories": [{"alert_id": 44, "title": "...", "url": "...", "source": "...", "published_at": ...,
                  "snippet": "...", "language": ..., "outlets": ["s1", "s2"], "outlet_count": 2,
                  "spread": null | {"story_id": 7, "threshold": 3, "outlets": [...]}}, ...]}

A spread alert (`on_spread`) is an article alert with "kind": "spread" and a "spread" object.

An article alert has no "kind" key; a health alert always has kind "health".

The body is UTF-8 JSON (non-ASCII characters are not escaped).

Signature scheme: hex HMAC-SHA256, keyed with the secret (UTF-8), over the
bytes `{timestamp}.{raw body}`. A receiver recomputes it from the raw body
before parsing, compares with hmac.compare_digest, and rejects timestamps more
than a few minutes old, which stops replays. replay.sinks.WebhookReceiver.verify
is a reference implementation.

Idempotency: X-Newsmon-Delivery is the alert's delivery key, a uuid4 set when
the alert is queued (not the alert id, which a rebuilt archive reuses). The
same key arrives twice only when newsmon retries a delivery it could not
confirm (a timeout, or a crash between sending and recording), so receivers
dedupe on it.

Answers: 2xx is success. 3xx is a failure (redirects are not followed, so an
alert never goes silently to another host). 408, 425, 429 and 5xx are retried;
other 4xx are permanent. A 429 or 503 with Retry-After is retried no earlier
than it asks, up to the channel's `max_retry_after`. Error messages show only the URL's scheme, host and
port: webhook URLs often carry a token in the path or query.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime, timezone

import httpx

from monitor import __version__
from monitor.channels.base import Channel, Message, printable_line, tls_context
from monitor.config import WebhookChannelConfig
from monitor.errors import DeliveryError
from monitor.retry_after import parse_retry_after

RETRYABLE_4XX = frozenset({408, 425, 429})  # timeout, too early, rate limited
PERMANENT_REDIRECTS = frozenset({301, 308})  # "moved for good": the config must change
HONOURS_RETRY_AFTER = frozenset({429, 503})  # rate limited, overloaded (RFC 9110 §10.2.3, RFC 6585)
# Bytes of an answer's body read (as sent, not decompressed): enough for an error message; a
# receiver sending more (or a small gzip expanding a thousandfold) cannot fill our memory.
MAX_ANSWER_BYTES = 4096


def encode_payload(message: Message) -> bytes:
    return json.dumps(message.as_payload(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Newsmon-Signature value for a body signed at `timestamp`."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def is_permanent(status: int) -> bool:
    """Whether an HTTP failure status means retrying cannot help."""
    if 300 <= status < 400:
        return status in PERMANENT_REDIRECTS
    return 400 <= status < 500 and status not in RETRYABLE_4XX


def read_prefix(response: httpx.Response, limit: int) -> bytes:
    """At most `limit` bytes of the body as sent. A short body is read to its end, which
    keeps the connection reusable; a longer one is cut off, and its connection closed."""
    data = bytearray()
    for chunk in response.iter_raw():
        data += chunk
        if len(data) >= limit:
            break
    return bytes(data[:limit])


def answer_text(response: httpx.Response, body: bytes) -> str:
    """The start of an error answer, for the message: one printable line."""
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        return f"({encoding}-encoded body not shown)"
    try:
        text = body.decode(response.encoding or "utf-8", "replace")
    except LookupError:  # a charset Python does not know
        text = body.decode("utf-8", "replace")
    return printable_line(text)


def origin(url: str | httpx.URL) -> str:
    """scheme://host[:port] only: paths and queries of webhook URLs often hold tokens."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "(invalid URL)"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}"


class WebhookChannel(Channel):
    def __init__(self, name: str, config: WebhookChannelConfig):
        super().__init__(name)
        self.config = config
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        # One client per channel: its connection pool keeps the receiver's connection alive.
        if self._client is None:
            verify = tls_context(self.config.ca_file) if self.config.ca_file else True
            self._client = httpx.Client(timeout=self.config.timeout, follow_redirects=False,
                                        verify=verify,
                                        headers={"User-Agent": f"newsmon/{__version__} (webhook)",
                                                 "Accept-Encoding": "identity"})
        return self._client

    def request_for(self, message: Message, timestamp: str | None = None) -> tuple[bytes, httpx.Headers]:
        """The body and headers for one alert (the headers signed at `timestamp`, default now)."""
        from monitor.channels.templates import source_for

        template = source_for(self.config, "body_template", message)
        body = encode_payload(message) if template is None else self._templated_body(message, template)
        timestamp = timestamp or str(int(time.time()))
        # Configured headers first, so they can never replace the protocol's own.
        headers = httpx.Headers(self.config.headers)
        headers["Content-Type"] = "application/json"
        headers["X-Newsmon-Delivery"] = message.delivery_key
        headers["X-Newsmon-Alert-Id"] = str(message.alert_id)
        headers["X-Newsmon-Timestamp"] = timestamp
        if self.config.secret is not None:
            headers["X-Newsmon-Signature"] = sign(self.config.secret.get_secret_value(), timestamp, body)
        return body, headers

    def _templated_body(self, message: Message, template: str) -> bytes:
        """The channel's `body_template` rendered; it must be JSON (else a permanent DeliveryError)."""
        from monitor.channels import templates

        text = templates.render_optional(template, message, "body_template") or ""
        try:
            json.loads(text)
        except ValueError as exc:
            raise DeliveryError(self.name, f"body_template rendered text that is not JSON ({exc}) for alert "
                                f"{message.alert_id}; use the tojson filter for values", permanent=True) from None
        return text.encode("utf-8")

    def deliver(self, message: Message) -> str | None:
        body, headers = self.request_for(message)
        where = origin(self.config.url)
        try:
            with self.client.stream("POST", self.config.url, content=body, headers=headers) as response:
                answer = read_prefix(response, MAX_ANSWER_BYTES)
        except httpx.TimeoutException:
            # The receiver may have got it: the retry carries the same X-Newsmon-Delivery.
            raise DeliveryError(self.name, f"timed out: no answer from {where} within "
                                f"{self.config.timeout:g}s; will retry") from None
        except httpx.HTTPError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                raise DeliveryError(self.name, f"the TLS certificate of {where} is not trusted ({exc}); check "
                                    "`url`'s host against the certificate's name, or set `ca_file` to the PEM "
                                    "certificate of the CA that signed it") from None
            raise DeliveryError(self.name, f"cannot reach {where} ({exc.__class__.__name__}: {exc}); "
                                "is the receiver running and is `url` right?") from None
        status = response.status_code
        if 200 <= status < 300:
            return None
        if 300 <= status < 400:
            raise DeliveryError(self.name, self._redirect_text(response), permanent=is_permanent(status))
        detail = answer_text(response, answer)
        reason = printable_line(response.reason_phrase, 100)
        text = f"{where} answered HTTP {status} {reason}" + (f": {detail}" if detail else "")
        retry_after = self._retry_after(response)
        if retry_after is not None:
            text += f"; it asked to wait {retry_after:g}s"
        raise DeliveryError(self.name, text, permanent=is_permanent(status), retry_after=retry_after)

    def _retry_after(self, response: httpx.Response) -> float | None:
        """The receiver's Retry-After in seconds, capped by `max_retry_after`; None when absent or unusable."""
        if response.status_code not in HONOURS_RETRY_AFTER:
            return None
        return parse_retry_after(response.headers.get("Retry-After"), datetime.now(timezone.utc),
                                 cap=self.config.max_retry_after)

    def _redirect_text(self, response: httpx.Response) -> str:
        where, location = origin(self.config.url), response.headers.get("Location")
        if not location:
            target = "without a Location"
        else:
            target_url = response.url.join(location)
            same = origin(target_url) == where
            target = "to another path on the same server" if same else f"to {origin(target_url)}"
        return (f"{where} answered HTTP {response.status_code} redirecting {target}; redirects are not "
                "followed (an alert must not go silently elsewhere): set `url` to the final address")

    def release(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
