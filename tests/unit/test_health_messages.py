"""What the channels send for an operator alert (a HealthMessage), built without a network."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json

import pytest

from monitor.channels import AlertMessage, HealthMessage, WebhookChannel
from monitor.channels.email import compose
from monitor.channels.webhook import encode_payload
from monitor.config import EmailChannelConfig, WebhookChannelConfig

KEY = "0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"
SINCE = dt.datetime(2024, 3, 1, 8, 0, tzinfo=dt.timezone.utc)


def health(state: str = "failing", **extra) -> HealthMessage:
    return HealthMessage(alert_id=7, delivery_key=KEY, source="xinhua_english", state=state, since=SINCE,
                         detail="3 consecutive checks failed (health.failing_after: 3); last error: HTTP 500",
                         previous="ok", facts={"consecutive_failures": 3, "last_success_at": None,
                                               "last_error": "HTTP 500 from server"}, **extra)


def email_config() -> EmailChannelConfig:
    return EmailChannelConfig.model_validate({"type": "email", "host": "smtp.example.org",
                                              "from": "Newsmon <alerts@example.org>", "to": ["ops@example.org"]})


def reparse(message) -> email.message.EmailMessage:
    return email.message_from_bytes(message.as_bytes(), policy=email.policy.default)


def test_webhook_body_says_kind_source_state_since_and_detail():
    body = json.loads(encode_payload(health()))
    assert body == {
        "kind": "health", "alert_id": 7, "delivery_key": KEY, "source": "xinhua_english", "state": "failing",
        "previous": "ok", "since": "2024-03-01T08:00:00+00:00",
        "detail": "3 consecutive checks failed (health.failing_after: 3); last error: HTTP 500",
        "consecutive_failures": 3, "last_success_at": None, "last_error": "HTTP 500 from server",
    }


def test_webhook_headers_are_the_same_protocol():
    channel = WebhookChannel("ops-hook", WebhookChannelConfig.model_validate(
        {"type": "webhook", "url": "https://hooks.example.org/x", "secret": "k"}))
    _body, headers = channel.request_for(health(), timestamp="1700000000")
    assert headers["X-Newsmon-Delivery"] == KEY and headers["X-Newsmon-Alert-Id"] == "7"
    assert headers["X-Newsmon-Signature"].startswith("sha256=")


def test_an_article_alert_has_no_kind_key():
    article = AlertMessage(alert_id=1, delivery_key=KEY, rule="r", title="t", url="http://x/", source="s",
                           published_at=None, snippet="")
    assert "kind" not in json.loads(encode_payload(article))


@pytest.mark.parametrize("state, subject", [
    ("failing", "[newsmon] health: xinhua_english is failing"),
    ("silent", "[newsmon] health: xinhua_english is silent"),
    ("drifting", "[newsmon] health: xinhua_english is drifting"),
    ("recovered", "[newsmon] health: xinhua_english recovered"),
])
def test_email_subject_names_the_source_and_the_state(state, subject):
    sent = reparse(compose(health(state), email_config()))
    assert sent["Subject"] == subject
    assert sent["Message-ID"] == f"<newsmon-{KEY}@example.org>" and sent["X-Newsmon-Alert-Id"] == "7"
    assert sent["X-Newsmon-Health"] == f"xinhua_english {state}" and sent["X-Newsmon-Rule"] is None
    assert sent["Auto-Submitted"] == "auto-generated"


def test_email_body_gives_the_facts_and_what_to_look_at():
    sent = reparse(compose(health(), email_config()))
    text = sent.get_body(("plain",)).get_content()
    assert "Source:           xinhua_english" in text and "Since:            2024-03-01 08:00 UTC" in text
    assert "Failed checks:    3" in text and "HTTP 500 from server" in text
    assert "see the last error" in text
    html = sent.get_body(("html",)).get_content()
    assert "<h2>xinhua_english is failing</h2>" in html
