"""What receivers answer and what the config allows: a webhook's Retry-After is
waited for (within the channel's cap), a mail server that refuses some of the
recipients leaves a note on the sent alert that `newsmon alerts` shows, and
values that would break a header or send a password in clear text are config
errors naming file and field. Real receivers, real archives, load_config on
temp config directories."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from monitor.cli import main
from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.outbox import Outbox
from monitor.store import repo
from replay.sinks import SmtpSink, WebhookReceiver
from tests.helpers.config import write_config
from tests.helpers.outbox import alerts, outbox_config, queue_alerts, sessions_for

# --- webhook Retry-After -----------------------------------------------------------


@pytest.mark.parametrize("status, retry_after, cap, at_least, at_most", [
    (429, "120", None, 120, 130),                    # as asked
    (503, "120", None, 120, 130),
    (429, "999999999", "10m", 600, 610),             # capped by the channel's max_retry_after
    (429, "Wed, 21 Oct 2099 07:28:00 GMT", "1h", 3600, 3610),  # a date far ahead: capped too
    (429, "soon", None, 1, 5),                       # not understood: the backoff alone
    (429, "١٢٠", None, 1, 5),                        # non-ASCII digits are not a number of seconds
    (500, "120", None, 1, 5),                        # only 429 and 503 ask for a wait
])
def test_retry_after_is_waited_for_within_the_cap(migrated_sqlite, tmp_path, status, retry_after, cap, at_least,
                                                   at_most):
    with WebhookReceiver() as hook:
        hook.fail_next(1, status=status, headers={"Retry-After": retry_after})
        config = outbox_config(tmp_path / "config", migrated_sqlite, hook_url=hook.url,
                               hook={"max_retry_after": cap} if cap else None)
        sessions = sessions_for(config)
        queue_alerts(sessions, 1, ["hook"])
        before = repo.utcnow()
        summary = Outbox(config, sessions).deliver_due()
        after = repo.utcnow()
    (alert,) = alerts(sessions)
    assert summary.failed == 1 and alert.status == "pending" and f"HTTP {status}" in alert.last_error
    assert alert.next_attempt_at >= before + timedelta(seconds=at_least)
    assert alert.next_attempt_at <= after + timedelta(seconds=at_most)


# --- partial recipient refusal ----------------------------------------------------


def test_partly_refused_recipients_are_recorded_on_the_sent_alert_and_shown(migrated_sqlite, tmp_path, capsys):
    with SmtpSink(refuse=("gone@example.org",)) as smtp:
        config = outbox_config(tmp_path / "config", migrated_sqlite, smtp_port=smtp.port,
                               mail={"to": ["gone@example.org", "desk@example.org"]})
        sessions = sessions_for(config)
        queue_alerts(sessions, 1, ["mail"])
        summary = Outbox(config, sessions).deliver_due()
        (received,) = smtp.wait_for(1)
    assert summary.sent == 1 and received.rcpt_tos == ["desk@example.org"]
    (alert,) = alerts(sessions)
    assert alert.status == "sent" and "gone@example.org (550" in alert.last_error and "`to`" in alert.last_error

    capsys.readouterr()
    assert main(["--config", str(tmp_path / "config"), "alerts", "--format", "json"]) == 0
    (shown,) = json.loads(capsys.readouterr().out)
    assert shown["status"] == "sent" and "gone@example.org" in shown["last_error"]
    assert main(["--config", str(tmp_path / "config"), "alerts"]) == 0
    assert "gone@example.org" in capsys.readouterr().out


# --- config errors ------------------------------------------------------------------

MAIL = {"type": "email", "host": "127.0.0.1", "port": 2525, "from": "alerts@example.org", "to": ["desk@example.org"]}
HOOK = {"type": "webhook", "url": "http://127.0.0.1:8766/newsmon"}
SECRET = "Zq7-s3cret-never-shown"


@pytest.mark.parametrize("channel, env, field, words", [
    ({**HOOK, "headers": {"Authorization": "Bearer ${TOKEN}"}}, {"TOKEN": SECRET + "\n"},
     "headers", ["header 'Authorization'", "line feed (LF) at its end"]),
    ({**HOOK, "headers": {"X-Team": "desk\r\nX-Injected: 1"}}, {}, "headers", ["carriage return (CR)"]),
    ({**HOOK, "headers": {"X Team": "desk"}}, {}, "headers", ["not a valid header name"]),
    ({**HOOK, "secret": "${WEBHOOK_SECRET}"}, {"WEBHOOK_SECRET": SECRET + "\r\n"}, "secret", ["the secret", "(CR)"]),
    ({**HOOK, "url": "http://127.0.0.1:8766/newsmon\n"}, {}, "url", ["the URL", "line feed"]),
    ({**HOOK, "url": "http://127.0.0.1:8766/news mon"}, {}, "url", ["white space"]),
    ({**MAIL, "security": "starttls", "username": "a", "password": "${SMTP_PASSWORD}"},
     {"SMTP_PASSWORD": SECRET + "\n"}, "password", ["the password", "line feed"]),
    ({**MAIL, "from": "alerts@example.org\r\nBcc: victim@example.org"}, {}, "from", ["carriage return"]),
    ({**MAIL, "to": ["desk@example.org\n"]}, {}, "to", ["address [0]"]),
    ({**MAIL, "security": "none", "username": "alerts", "password": "pw"}, {}, "username",
     ["clear text", "allow_insecure_auth: true"]),
    ({**MAIL, "username": "alerts", "password": "pw"}, {}, None, []),  # starttls is the default
    ({**MAIL, "security": "none", "username": "alerts", "password": "pw", "allow_insecure_auth": True}, {}, None, []),
    ({**MAIL, "security": "none"}, {}, None, []),  # no login, nothing sent in clear but the alert
], ids=["header value LF", "header value CRLF", "header name", "secret CRLF", "url LF", "url space",
        "password LF", "from CRLF", "to LF", "login without TLS", "login over starttls",
        "login without TLS allowed", "no login without TLS"])
def test_channel_values_that_break_a_header_or_leak_a_password(tmp_path, channel, env, field, words):
    root = write_config(tmp_path / "config", {"channels": {"desk": channel}})
    if field is None:
        assert "desk" in load_config(root, env).channels
        return
    with pytest.raises(ConfigError) as info:
        load_config(root, env)
    error = info.value
    assert error.file.endswith("newsmon.yaml") and error.field == f"channels.desk.{field}"
    for word in words:
        assert word in error.message
    assert SECRET not in str(error)
