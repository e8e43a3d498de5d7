"""Email and webhook channels against real servers on 127.0.0.1: aiosmtpd and
an HTTP receiver (replay.sinks), with a self-signed certificate for TLS."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from monitor.channels import AlertMessage, EmailChannel, WebhookChannel
from monitor.channels import email as email_module
from monitor.config import EmailChannelConfig, WebhookChannelConfig
from monitor.errors import DeliveryError
from replay.sinks import SmtpSink, WebhookReceiver

# aiosmtpd warns whenever AUTH is allowed without STARTTLS; the plain and
# implicit-TLS login tests do that on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

KEY = "5f0c2b7e9d3a4e61b8c0f1a2d3e4b5c6"
MESSAGE = AlertMessage(alert_id=42, delivery_key=KEY, rule="new_quality", title="科技创新开启“新质生产力”之门", url="http://x/a.html",
                       source="jjckb", published_at=dt.datetime(2023, 12, 8, tzinfo=dt.timezone.utc),
                       snippet="加快形成新质生产力……", language="zh", also_in=("xinhua_english",))
PASSWORD = "pw-Zq7-never-shown"


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def email_config(port: int, **extra) -> EmailChannelConfig:
    return EmailChannelConfig.model_validate({"type": "email", "host": "127.0.0.1", "port": port,
                                              "security": "none", "from": "alerts@example.org",
                                              "to": ["desk@example.org"], "timeout": 5, **extra})


def hook(url: str, **extra) -> WebhookChannel:
    return WebhookChannel("hook", WebhookChannelConfig.model_validate({"type": "webhook", "url": url, **extra}))


@pytest.fixture(scope="module")
def tls(tls_ca) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for a self-signed 127.0.0.1 certificate."""
    server, ca_file = tls_ca
    return server, ssl.create_default_context(cafile=str(ca_file))


@pytest.fixture(scope="module")
def tls_ca(tmp_path_factory) -> tuple[ssl.SSLContext, Path]:
    """(server context, the PEM file of the private CA that signed its certificate): the
    certificate for 127.0.0.1 is its own CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "newsmon test 127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    public = key.public_key()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    return server, cert_file


# --- email -----------------------------------------------------------------------


def test_email_over_plain_smtp_keeps_chinese_and_a_stable_message_id():
    with SmtpSink() as smtp, EmailChannel("mail", email_config(smtp.port)) as channel:
        channel.send(MESSAGE)
        (received,) = smtp.wait_for(1)
    assert received.mail_from == "alerts@example.org" and received.rcpt_tos == ["desk@example.org"]
    assert received["Subject"] == "[newsmon] new_quality: 科技创新开启“新质生产力”之门"
    assert received["Message-ID"] == f"<newsmon-{KEY}@example.org>"
    assert received["X-Newsmon-Alert-Id"] == "42"
    text, html = received.text(), received.html()
    assert "加快形成新质生产力" in text and "http://x/a.html" in text and "Also in: xinhua_english" in text
    assert "Source:  jjckb" in text and "2023-12-08 00:00 UTC" in text
    assert "科技创新开启“新质生产力”之门" in html and 'href="http://x/a.html"' in html


def test_email_over_starttls_with_login(tls):
    server_ctx, client_ctx = tls
    with SmtpSink(tls_context=server_ctx, credentials=("alerts", PASSWORD)) as smtp:
        config = email_config(smtp.port, security="starttls", username="alerts", password=PASSWORD)
        with EmailChannel("mail", config, ssl_context=client_ctx) as channel:
            channel.send(MESSAGE)
        (received,) = smtp.wait_for(1)
    assert received["Subject"].endswith("“新质生产力”之门")


def test_email_over_implicit_tls_with_login(tls):
    server_ctx, client_ctx = tls
    with SmtpSink(tls_context=server_ctx, implicit_tls=True, credentials=("alerts", PASSWORD)) as smtp:
        config = email_config(smtp.port, security="ssl", username="alerts", password=PASSWORD)
        with EmailChannel("mail", config, ssl_context=client_ctx) as channel:
            channel.send(MESSAGE)
        assert len(smtp.wait_for(1)) == 1


def test_email_login_on_a_plain_connection_when_allowed():
    with SmtpSink(credentials=("alerts", PASSWORD)) as smtp:
        config = email_config(smtp.port, username="alerts", password=PASSWORD, allow_insecure_auth=True)
        with EmailChannel("mail", config) as channel:
            channel.send(MESSAGE)
        assert len(smtp.wait_for(1)) == 1


def test_email_wrong_password_is_permanent_and_never_shown(tls):
    server_ctx, client_ctx = tls
    with SmtpSink(tls_context=server_ctx, credentials=("alerts", PASSWORD)) as smtp:
        config = email_config(smtp.port, security="starttls", username="alerts", password="wrong-Xy9")
        with pytest.raises(DeliveryError) as info:
            EmailChannel("mail", config, ssl_context=client_ctx).send(MESSAGE)
        assert smtp.messages == []
    error = info.value
    assert error.permanent and error.channel == "mail"
    assert "refused the login as 'alerts'" in str(error) and "535" in str(error)
    assert "wrong-Xy9" not in str(error) and "wrong-Xy9" not in repr(error.args)


def test_email_to_a_private_ca_server_with_ca_file(tls_ca):
    """The config's `ca_file` is what the channel trusts: no code-level context needed."""
    server_ctx, ca_file = tls_ca
    with SmtpSink(tls_context=server_ctx, credentials=("alerts", PASSWORD)) as smtp:
        config = email_config(smtp.port, security="starttls", username="alerts", password=PASSWORD,
                              ca_file=str(ca_file))
        with EmailChannel("mail", config) as channel:
            channel.send(MESSAGE)
        (received,) = smtp.wait_for(1)
    assert received["X-Newsmon-Alert-Id"] == "42"


def test_email_untrusted_certificate_is_reported(tls):
    server_ctx, _client_ctx = tls
    with SmtpSink(tls_context=server_ctx) as smtp:
        with pytest.raises(DeliveryError) as info:
            EmailChannel("mail", email_config(smtp.port, security="starttls")).send(MESSAGE)
    assert not info.value.permanent and "certificate" in str(info.value) and "not trusted" in str(info.value)


def test_email_starttls_asked_of_a_server_without_it_is_permanent():
    with SmtpSink() as smtp:
        with pytest.raises(DeliveryError) as info:
            EmailChannel("mail", email_config(smtp.port, security="starttls")).send(MESSAGE)
    assert info.value.permanent and "STARTTLS" in str(info.value) and "`security`" in str(info.value)


def test_email_implicit_tls_against_a_plain_server_points_at_security():
    with SmtpSink() as smtp:
        with pytest.raises(DeliveryError) as info:
            EmailChannel("mail", email_config(smtp.port, security="ssl")).send(MESSAGE)
    assert not info.value.permanent and "`security`" in str(info.value)


def test_email_server_down_is_transient_and_names_host_and_port():
    port = free_port()
    with pytest.raises(DeliveryError) as info:
        EmailChannel("mail", email_config(port)).send(MESSAGE)
    assert not info.value.permanent
    assert f"127.0.0.1:{port} refused the connection" in str(info.value)


def test_email_recipient_refused_is_permanent():
    with SmtpSink(refuse=("desk@example.org",)) as smtp:
        with pytest.raises(DeliveryError) as info:
            EmailChannel("mail", email_config(smtp.port)).send(MESSAGE)
    assert info.value.permanent and "550" in str(info.value) and "desk@example.org" in str(info.value)


def test_email_one_recipient_refused_still_delivers_to_the_others(caplog):
    with SmtpSink(refuse=("gone@example.org",)) as smtp:
        config = email_config(smtp.port, to=["gone@example.org", "desk@example.org"])
        EmailChannel("mail", config).send(MESSAGE)  # no error: a retry would duplicate it for desk@
        (received,) = smtp.wait_for(1)
    assert received.rcpt_tos == ["desk@example.org"]
    assert "gone@example.org" in caplog.text and "550" in caplog.text


@pytest.mark.parametrize("reply, permanent", [("451 4.3.0 Try again later", False),
                                              ("452 4.3.1 Insufficient storage", False),
                                              ("554 5.7.1 Message rejected as spam", True),
                                              ("552 5.3.4 Message too big", True)])
def test_email_data_refusals_are_classified_by_code(reply, permanent):
    with SmtpSink() as smtp:
        smtp.fail_next(1, reply)
        with EmailChannel("mail", email_config(smtp.port)) as channel:
            with pytest.raises(DeliveryError) as info:
                channel.send(MESSAGE)
            assert info.value.permanent is permanent and reply in str(info.value)
            channel.send(MESSAGE)  # the channel recovers: a new session, accepted
        assert len(smtp.wait_for(1)) == 1


def test_email_server_replies_are_stored_printable():
    with SmtpSink() as smtp, EmailChannel("mail", email_config(smtp.port)) as channel:
        smtp.fail_next(1, "451 4.3.0 \x1b]0;pwned\x07busy \u202eevil")
        with pytest.raises(DeliveryError) as info:
            channel.send(MESSAGE)
    text = str(info.value)
    assert "451" in text and "busy" in text and all(c.isprintable() for c in text), repr(text)


def test_email_slow_server_times_out_as_transient():
    with SmtpSink() as smtp:
        smtp.delay = 2
        with pytest.raises(DeliveryError) as info:
            EmailChannel("mail", email_config(smtp.port, timeout=0.5)).send(MESSAGE)
    assert not info.value.permanent and "within 0.5s" in str(info.value)


def test_email_batch_shares_one_connection_and_survives_a_server_restart():
    smtp = SmtpSink().start()
    with EmailChannel("mail", email_config(smtp.port)) as channel:
        try:
            channel.send(MESSAGE)
            channel.send(AlertMessage(**{**MESSAGE.__dict__, "alert_id": 43, "delivery_key": "4" * 32}))
            first, second = smtp.wait_for(2)
        finally:
            smtp.stop()
        assert first.peer == second.peer, "one SMTP connection for a batch"
        with SmtpSink(port=smtp.port) as restarted:
            channel.send(MESSAGE)  # the old connection is dead: NOOP fails, it reconnects
            assert len(restarted.wait_for(1)) == 1


def test_email_reconnects_after_idling(monkeypatch):
    monkeypatch.setattr(email_module, "REUSE_IDLE_SECONDS", 0.0)
    with SmtpSink() as smtp, EmailChannel("mail", email_config(smtp.port)) as channel:
        channel.send(MESSAGE)
        channel.send(MESSAGE)
        first, second = smtp.wait_for(2)
    assert first.peer != second.peer


# --- webhook ---------------------------------------------------------------------


def test_webhook_payload_headers_and_signature():
    with WebhookReceiver() as receiver:
        with hook(receiver.url, secret="k", headers={"X-Team": "desk"}) as channel:
            channel.send(MESSAGE)
        (request,) = receiver.wait_for(1)
    assert request.path == "/newsmon"
    assert request.json == {
        "alert_id": 42, "delivery_key": KEY, "rule": "new_quality", "title": "科技创新开启“新质生产力”之门",
        "url": "http://x/a.html",
        "source": "jjckb", "published_at": "2023-12-08T00:00:00+00:00", "snippet": "加快形成新质生产力……",
        "language": "zh", "also_in": ["xinhua_english"],
    }
    headers = request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Newsmon-Delivery"] == KEY and headers["X-Team"] == "desk"
    assert headers["X-Newsmon-Alert-Id"] == "42"
    assert headers["User-Agent"].startswith("newsmon/")
    assert headers["X-Newsmon-Signature"].startswith("sha256=")
    assert WebhookReceiver.verify(request, "k", max_age=60)
    assert not WebhookReceiver.verify(request, "other")
    tampered = type(request)(**{**request.__dict__, "body": request.body.replace(b"42", b"43")})
    assert not WebhookReceiver.verify(tampered, "k")


def test_webhook_without_secret_sends_no_signature():
    with WebhookReceiver() as receiver:
        hook(receiver.url).send(MESSAGE)
        (request,) = receiver.wait_for(1)
    assert "X-Newsmon-Signature" not in request.headers and not WebhookReceiver.verify(request, "k")


@pytest.mark.parametrize("status, permanent", [(500, False), (503, False), (429, False), (408, False),
                                               (410, True), (400, True), (401, True), (404, True)])
def test_webhook_failures_classified(status, permanent):
    with WebhookReceiver() as receiver, hook(receiver.url) as channel:
        receiver.fail_next(1, status=status)
        with pytest.raises(DeliveryError) as info:
            channel.send(MESSAGE)
        channel.send(MESSAGE)  # the receiver is fine again: so is the channel
        first, retry = receiver.wait_for(2)
    assert info.value.permanent is permanent and f"HTTP {status}" in str(info.value)
    assert first.headers["X-Newsmon-Delivery"] == retry.headers["X-Newsmon-Delivery"] == KEY


def test_webhook_any_2xx_is_success():
    with WebhookReceiver() as receiver:
        receiver.fail_next(1, status=204)
        hook(receiver.url).send(MESSAGE)
        assert len(receiver.delivered) == 1


@pytest.mark.parametrize("status, permanent", [(302, False), (307, False), (301, True), (308, True)])
def test_webhook_redirects_are_not_followed(status, permanent):
    with WebhookReceiver() as receiver:
        receiver.fail_next(1, status=status, headers={"Location": "https://elsewhere.example/steal?t=1"})
        with pytest.raises(DeliveryError) as info:
            hook(receiver.url).send(MESSAGE)
        assert len(receiver.requests) == 1
    message = str(info.value)
    assert info.value.permanent is permanent
    assert f"HTTP {status}" in message and "https://elsewhere.example" in message and "`url`" in message
    assert "steal" not in message


def test_webhook_errors_do_not_show_the_url_path_or_query():
    with WebhookReceiver() as receiver:
        receiver.fail_next(1, status=403)
        with pytest.raises(DeliveryError) as info:
            hook(receiver.url + "/T0001/token-abc?key=xyz").send(MESSAGE)
        (request,) = receiver.wait_for(1)
    assert request.path == "/newsmon/T0001/token-abc?key=xyz"
    assert f"http://127.0.0.1:{receiver.port}" in str(info.value)
    assert "token-abc" not in str(info.value) and "xyz" not in str(info.value)


HOSTILE_BODY = "\x1b[2J\x1b]0;pwned\x07 overloaded\u202e\r\nX-Fake: 1 ".encode() + b"A" * (8 * 1024 * 1024)


@pytest.mark.parametrize("headers, body, shown", [
    ({}, HOSTILE_BODY, "overloaded"),  # terminal escapes, a bidi override, 8 MiB: read 4 KiB of it
    ({"Content-Type": "text/plain; charset=no-such-charset"}, b"busy \xff", "busy"),
    ({"Content-Encoding": "gzip"}, b"\x1f\x8b" + b"\x00" * 64, "(gzip-encoded body not shown)"),
], ids=["escapes and megabytes", "unknown charset", "compressed"])
def test_webhook_error_answers_are_read_bounded_and_shown_printable(headers, body, shown):
    with WebhookReceiver() as receiver, hook(receiver.url) as channel:
        receiver.fail_next(1, status=503, headers=headers, body=body)
        with pytest.raises(DeliveryError) as info:
            channel.send(MESSAGE)
        channel.send(MESSAGE)  # a fresh connection works
        assert len(receiver.delivered) == 1
    text = str(info.value)
    assert shown in text and len(text) < 500
    assert all(c.isprintable() for c in text), repr(text)


def test_webhook_over_https_to_a_private_ca_with_ca_file(tls_ca):
    server_ctx, ca_file = tls_ca
    with WebhookReceiver(tls_context=server_ctx) as receiver:
        assert receiver.url.startswith("https://")
        with hook(receiver.url, ca_file=str(ca_file)) as channel:
            channel.send(MESSAGE)
        (request,) = receiver.wait_for(1)
    assert request.json["alert_id"] == 42


def test_webhook_untrusted_certificate_names_ca_file(tls_ca):
    server_ctx, _ca_file = tls_ca
    with WebhookReceiver(tls_context=server_ctx) as receiver, hook(receiver.url) as channel:
        with pytest.raises(DeliveryError) as info:
            channel.send(MESSAGE)
    assert not info.value.permanent and "not trusted" in str(info.value) and "`ca_file`" in str(info.value)


def test_webhook_receiver_down_is_transient():
    port = free_port()
    with pytest.raises(DeliveryError) as info:
        hook(f"http://127.0.0.1:{port}/newsmon").send(MESSAGE)
    assert not info.value.permanent
    assert "cannot reach" in str(info.value) and f"127.0.0.1:{port}" in str(info.value)


def test_webhook_timeout_is_transient():
    with WebhookReceiver() as receiver:
        receiver.delay = 2
        with pytest.raises(DeliveryError) as info:
            hook(receiver.url, timeout=0.5).send(MESSAGE)
        # It may well have arrived: the retry carries the same X-Newsmon-Delivery.
        assert len(receiver.requests) == 1
    assert not info.value.permanent and "timed out" in str(info.value) and "0.5s" in str(info.value)


def test_webhook_reuses_its_connection_until_closed():
    with WebhookReceiver() as receiver:
        channel = hook(receiver.url)
        channel.send(MESSAGE)
        channel.send(MESSAGE)
        channel.close()
        channel.send(MESSAGE)  # usable after close: a new client
        channel.close()
        first, second, third = receiver.wait_for(3)
    assert first.peer == second.peer != third.peer
