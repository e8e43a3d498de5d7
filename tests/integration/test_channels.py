"""Email and webhook channels against real servers on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from monitor.channels import AlertMessage, EmailChannel, WebhookChannel
from monitor.config import EmailChannelConfig, WebhookChannelConfig
from monitor.errors import DeliveryError
from replay.sinks import SmtpSink, WebhookReceiver

MESSAGE = AlertMessage(alert_id=42, rule="new_quality", title="科技创新开启“新质生产力”之门", url="http://x/a.html",
                       source="jjckb", published_at=dt.datetime(2023, 12, 8, tzinfo=dt.timezone.utc),
                       snippet="加快形成新质生产力……", language="zh", also_in=("xinhua_english",))


def email_config(port: int, **extra) -> EmailChannelConfig:
    return EmailChannelConfig.model_validate({"type": "email", "host": "127.0.0.1", "port": port,
                                              "security": "none", "from": "alerts@example.org",
                                              "to": ["desk@example.org"], "timeout": 5, **extra})


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_email_plain_smtp_keeps_chinese_and_stable_message_id():
    with SmtpSink() as smtp:
        EmailChannel("mail", email_config(smtp.port)).send(MESSAGE)
        (received,) = smtp.wait_for(1)
    assert received.rcpt_tos == ["desk@example.org"]
    assert received["Subject"] == "[newsmon] new_quality: 科技创新开启“新质生产力”之门"
    assert received["Message-ID"] == "<newsmon-alert-42@example.org>"
    body = received.message.get_body(("plain",)).get_content()
    assert "加快形成新质生产力" in body and "http://x/a.html" in body and "Also in: xinhua_english" in body


def test_email_starttls_with_login(tls_files):
    cert_file, key_file = tls_files
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert_file, key_file)
    client_ctx = ssl.create_default_context(cafile=str(cert_file))
    with SmtpSink(tls_context=server_ctx, credentials=("alerts", "s3cret")) as smtp:
        config = email_config(smtp.port, security="starttls", username="alerts", password="s3cret")
        EmailChannel("mail", config, ssl_context=client_ctx).send(MESSAGE)
        assert len(smtp.wait_for(1)) == 1
        bad = config.model_copy(update={"password": config.password.__class__("wrong")})
        with pytest.raises(DeliveryError) as info:
            EmailChannel("mail", bad, ssl_context=client_ctx).send(MESSAGE)
    assert info.value.permanent and "login" in str(info.value) and "wrong" not in str(info.value)


def test_email_server_down_is_transient():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DeliveryError) as info:
        EmailChannel("mail", email_config(port)).send(MESSAGE)
    assert not info.value.permanent and f"127.0.0.1:{port}" in str(info.value)


def test_email_recipient_refused_is_permanent():
    with SmtpSink(refuse=("desk@example.org",)) as smtp:
        with pytest.raises(DeliveryError) as info:
            EmailChannel("mail", email_config(smtp.port)).send(MESSAGE)
    assert info.value.permanent and "550" in str(info.value)


def hook(url: str, **extra) -> WebhookChannel:
    return WebhookChannel("hook", WebhookChannelConfig.model_validate({"type": "webhook", "url": url, **extra}))


def test_webhook_payload_and_signature():
    with WebhookReceiver() as receiver:
        with hook(receiver.url, secret="k", headers={"X-Team": "desk"}) as channel:
            channel.send(MESSAGE)
        (request,) = receiver.wait_for(1)
    assert request.json == {**MESSAGE.as_payload(), "published_at": "2023-12-08T00:00:00+00:00"}
    assert request.headers["X-Newsmon-Delivery"] == "42" and request.headers["X-Team"] == "desk"
    assert WebhookReceiver.verify(request, "k") and not WebhookReceiver.verify(request, "other")
    assert json.loads(request.body)["title"] == MESSAGE.title


@pytest.mark.parametrize("status, permanent", [(500, False), (503, False), (429, False), (410, True), (400, True)])
def test_webhook_errors_classified(status, permanent):
    with WebhookReceiver() as receiver:
        receiver.fail_next(1, status=status)
        with pytest.raises(DeliveryError) as info:
            hook(receiver.url).send(MESSAGE)
    assert info.value.permanent is permanent and f"HTTP {status}" in str(info.value)


def test_webhook_down_and_timeout_are_transient():
    with WebhookReceiver() as receiver:
        url = receiver.url
    with pytest.raises(DeliveryError) as down:
        hook(url).send(MESSAGE)
    assert not down.value.permanent and "cannot reach" in str(down.value)
    with WebhookReceiver() as receiver:
        receiver.delay = 2
        with pytest.raises(DeliveryError) as slow:
            hook(receiver.url, timeout=0.5).send(MESSAGE)
    assert not slow.value.permanent and "timed out" in str(slow.value)
