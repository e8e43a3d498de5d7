"""What the channels send, built without a network: the email, the webhook
request, the signature, and how failures are classified."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import hmac
import json

import pytest

from monitor.channels import AlertMessage, EmailChannel, WebhookChannel, build_channel
from monitor.channels.email import compose
from monitor.channels.webhook import encode_payload, is_permanent, origin, sign
from monitor.config import EmailChannelConfig, WebhookChannelConfig
from monitor.errors import DeliveryError

CHINA = dt.timezone(dt.timedelta(hours=8))
KEY = "5f0c2b7e9d3a4e61b8c0f1a2d3e4b5c6"
MESSAGE = AlertMessage(alert_id=42, delivery_key=KEY, rule="new_quality", title="科技创新开启“新质生产力”之门",
                       url="http://x/a.html?id=1&p=2", source="jjckb",
                       published_at=dt.datetime(2023, 12, 8, 8, 30, tzinfo=CHINA),
                       snippet="加快形成新质生产力……", language="zh", also_in=("xinhua_english", "gzgov_portal"))


def email_config(**extra) -> EmailChannelConfig:
    return EmailChannelConfig.model_validate({"type": "email", "host": "smtp.example.org",
                                              "from": "Newsmon Alerts <alerts@example.org>",
                                              "to": ["desk@example.org", "Night Desk <night@example.org>"], **extra})


def webhook_config(**extra) -> WebhookChannelConfig:
    return WebhookChannelConfig.model_validate({"type": "webhook", "url": "https://hooks.example.org/T1/s3cr3t", **extra})


def reparse(message) -> email.message.EmailMessage:
    return email.message_from_bytes(message.as_bytes(), policy=email.policy.default)


# --- email -----------------------------------------------------------------------


def test_email_headers_identify_the_alert():
    sent = reparse(compose(MESSAGE, email_config()))
    assert sent["Subject"] == "[newsmon] new_quality: 科技创新开启“新质生产力”之门"
    assert sent["From"] == "Newsmon Alerts <alerts@example.org>"
    assert sent["To"] == "desk@example.org, Night Desk <night@example.org>"
    # From the delivery key (unique across archives); the domain from the address, not the display name.
    assert sent["Message-ID"] == f"<newsmon-{KEY}@example.org>"
    assert sent["X-Newsmon-Alert-Id"] == "42" and sent["X-Newsmon-Rule"] == "new_quality"
    assert sent["Auto-Submitted"] == "auto-generated" and sent["Content-Language"] == "zh"
    assert sent["Date"]


def test_email_message_id_is_the_same_on_a_resend():
    first, again = compose(MESSAGE, email_config()), compose(MESSAGE, email_config())
    assert first["Message-ID"] == again["Message-ID"]
    other = AlertMessage(**{**MESSAGE.__dict__, "delivery_key": "9" * 32})
    assert compose(other, email_config())["Message-ID"] != first["Message-ID"]


def test_email_is_seven_bit_on_the_wire_and_keeps_chinese():
    raw = compose(MESSAGE, email_config()).as_bytes()
    raw.decode("ascii")  # no 8-bit bytes: relays without 8BITMIME pass it unchanged
    sent = reparse(compose(MESSAGE, email_config()))
    assert sent.get_content_type() == "multipart/alternative"
    text = sent.get_body(("plain",)).get_content()
    html = sent.get_body(("html",)).get_content()
    for body in (text, html):
        assert "科技创新开启“新质生产力”之门" in body and "加快形成新质生产力" in body
        assert "jjckb" in body and "xinhua_english" in body and "gzgov_portal" in body
    assert "Also in: xinhua_english, gzgov_portal" in text
    assert "http://x/a.html?id=1&p=2" in text and 'href="http://x/a.html?id=1&amp;p=2"' in html
    # 08:30 in Beijing is 00:30 UTC.
    assert "2023-12-08 00:30 UTC" in text and "2023-12-08 00:30 UTC" in html


def test_email_flattens_newlines_and_escapes_html():
    scraped = AlertMessage(alert_id=7, delivery_key=KEY, rule="r", title="Line one\nBcc: victim@example.org <b>", url="http://x/",
                           source="s", published_at=None, snippet="a < b")
    sent = reparse(compose(scraped, email_config(subject_prefix="")))
    assert sent["Subject"] == "r: Line one Bcc: victim@example.org <b>"
    assert sent["Bcc"] is None
    html = sent.get_body(("html",)).get_content()
    assert "Line one Bcc: victim@example.org &lt;b&gt;" in html and "a &lt; b" in html
    text = sent.get_body(("plain",)).get_content()
    assert "Date:    unknown" in text and "Also in" not in text


def test_naive_published_at_is_taken_as_utc():
    naive = AlertMessage(**{**MESSAGE.__dict__, "published_at": dt.datetime(2023, 12, 8, 0, 30)})
    assert naive.as_payload()["published_at"] == "2023-12-08T00:30:00+00:00"
    assert MESSAGE.as_payload()["published_at"] == "2023-12-08T00:30:00+00:00"
    assert AlertMessage(**{**MESSAGE.__dict__, "published_at": None}).as_payload()["published_at"] is None


# --- webhook ---------------------------------------------------------------------


def test_webhook_body_is_the_documented_json():
    body = encode_payload(MESSAGE)
    assert "科技创新".encode() in body  # UTF-8, not \u escapes
    assert json.loads(body) == {
        "alert_id": 42, "delivery_key": KEY, "rule": "new_quality", "title": "科技创新开启“新质生产力”之门",
        "url": "http://x/a.html?id=1&p=2", "source": "jjckb", "published_at": "2023-12-08T00:30:00+00:00",
        "snippet": "加快形成新质生产力……", "language": "zh", "also_in": ["xinhua_english", "gzgov_portal"],
    }


def test_webhook_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"a":1}'
    expected = hmac.new(b"key", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("key", "1700000000", body) == "sha256=" + expected
    assert sign("key", "1700000001", body) != sign("key", "1700000000", body)


def test_webhook_headers_cannot_be_overridden_by_config():
    channel = WebhookChannel("hook", webhook_config(secret="key", headers={
        "Authorization": "Bearer t", "content-type": "text/plain", "x-newsmon-delivery": "999"}))
    body, headers = channel.request_for(MESSAGE, timestamp="1700000000")
    assert headers["Authorization"] == "Bearer t"
    assert headers.get_list("Content-Type") == ["application/json"]
    assert headers.get_list("X-Newsmon-Delivery") == [KEY]
    assert headers["X-Newsmon-Alert-Id"] == "42"
    assert headers["X-Newsmon-Timestamp"] == "1700000000"
    assert headers["X-Newsmon-Signature"] == sign("key", "1700000000", body)


def test_webhook_without_secret_is_unsigned():
    _body, headers = WebhookChannel("hook", webhook_config()).request_for(MESSAGE)
    assert "X-Newsmon-Signature" not in headers and headers["X-Newsmon-Timestamp"].isdigit()


@pytest.mark.parametrize("status, permanent", [
    (500, False), (502, False), (503, False), (504, False), (408, False), (425, False), (429, False),
    (400, True), (401, True), (403, True), (404, True), (410, True), (422, True),
    (301, True), (308, True), (302, False), (307, False),
])
def test_webhook_failure_classification(status, permanent):
    assert is_permanent(status) is permanent


def test_error_messages_show_only_the_origin_of_webhook_urls():
    assert origin("https://hooks.example.org/T1/s3cr3t?token=abc") == "https://hooks.example.org"
    assert origin("http://user:pw@127.0.0.1:8766/x") == "http://127.0.0.1:8766"


# --- the factory -----------------------------------------------------------------


def test_build_channel_picks_the_class_from_the_config():
    with build_channel("desk-email", email_config()) as mail, build_channel("desk-hook", webhook_config()) as hook:
        assert isinstance(mail, EmailChannel) and mail.name == "desk-email"
        assert isinstance(hook, WebhookChannel) and hook.name == "desk-hook"
    assert "desk-email" in repr(mail)


def test_delivery_errors_name_the_channel():
    error = DeliveryError("desk-hook", "https://hooks.example.org answered HTTP 410 Gone", permanent=True)
    assert str(error).startswith("channel 'desk-hook': ") and error.permanent


def test_email_html_marks_the_matched_terms_and_escapes_around_them():
    marked = AlertMessage(alert_id=8, delivery_key=KEY, rule="r", title="t", url="http://x/", source="s",
                          published_at=None, snippet=" <i> new chip plant", highlights=((9, 13),))
    sent = reparse(compose(marked, email_config()))
    assert "&lt;i&gt; new <mark>chip</mark> plant" in sent.get_body(("html",)).get_content()
    assert "<i> new chip plant" in sent.get_body(("plain",)).get_content()
