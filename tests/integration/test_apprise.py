"""Apprise channels against real local receivers: json:// and form:// to the webhook receiver,
mailto:// to aiosmtpd, ntfy:// to a small ntfy-compatible server; and through the outbox,
a json:// target failing three times before it accepts."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from monitor.errors import ConfigError
from tests.helpers.config import write_config
from tests.helpers.ntfy_receiver import NtfyReceiver
from tests.helpers.outbox import alerts, queue_alerts, sessions_for
from tests.helpers.services import IN_CI

try:
    import apprise  # noqa: F401
except ImportError:  # pragma: no cover
    if IN_CI:
        raise
    pytest.skip("apprise is not installed (pip install 'newsmon[apprise]')", allow_module_level=True)

from monitor.channels import AlertMessage, AppriseChannel, build_channel  # noqa: E402
from monitor.config import AppriseChannelConfig, load_config  # noqa: E402
from monitor.errors import DeliveryError  # noqa: E402
from monitor.outbox import Outbox  # noqa: E402
from monitor.store.session import migrate  # noqa: E402
from replay.sinks import SmtpSink, WebhookReceiver  # noqa: E402

MESSAGE = AlertMessage(alert_id=7, delivery_key="a" * 32, rule="new_quality", title="科技创新开启“新质生产力”之门",
                       url="http://x/a.html", source="jjckb", published_at=dt.datetime(2023, 12, 8, tzinfo=dt.timezone.utc),
                       snippet="加快形成新质生产力……", language="zh", also_in=("xinhua_english",))


def channel(*urls: str, **extra) -> AppriseChannel:
    return AppriseChannel("chat", AppriseChannelConfig.model_validate({"type": "apprise", "urls": list(urls),
                                                                       "timeout": 5, **extra}))


def test_json_and_form_reach_the_webhook_receiver():
    with WebhookReceiver() as receiver:
        base = f"127.0.0.1:{receiver.port}"
        note = channel(f"json://{base}/j", f"form://{base}/f").send(MESSAGE)
        received = receiver.wait_for(2)
    by_path = {r.path: r for r in received}
    assert by_path["/j"].json["title"] == "new_quality: 科技创新开启“新质生产力”之门"
    assert "http://x/a.html" in by_path["/j"].json["message"]
    assert "加快形成新质生产力" in by_path["/j"].json["message"]
    assert b"title=" in by_path["/f"].body
    assert "2 of 2 URLs" in note and "urls[0]" in note and "urls[1]" in note


def test_ntfy_reaches_an_ntfy_compatible_server():
    with NtfyReceiver() as ntfy:
        channel(f"ntfy://127.0.0.1:{ntfy.port}/newsdesk").send(MESSAGE)
    assert len(ntfy.published) == 1
    body = json.loads(ntfy.published[0].body)
    assert body["topic"] == "newsdesk"
    assert "新质生产力" in body["title"] and "http://x/a.html" in body["message"]


def test_mailto_reaches_the_smtp_sink():
    with SmtpSink() as sink:
        url = (f"mailto://127.0.0.1:{sink.port}?smtp=127.0.0.1&mode=insecure"
               "&from=alerts@example.org&to=desk@example.org")
        channel(url).send(MESSAGE)
        (mail,) = sink.wait_for(1)
    assert mail.rcpt_tos == ["desk@example.org"]
    assert "新质生产力" in str(mail.message["Subject"])


def test_a_failing_url_names_its_index_without_the_secret_and_a_retry_skips_the_one_that_took_it():
    with WebhookReceiver() as receiver:
        good = f"json://127.0.0.1:{receiver.port}/ok"
        bad = "json://user:tok-Secret-99@127.0.0.1:9/nothing-listens"
        chat = channel(good, bad)
        with pytest.raises(DeliveryError) as caught:
            chat.send(MESSAGE)
        text = str(caught.value)
        assert "urls[1]" in text and "tok-Secret-99" not in text
        assert "1 of 2 URLs already (urls[0])" in text
        assert len(receiver.wait_for(1)) == 1
        with pytest.raises(DeliveryError):
            chat.send(MESSAGE)
        time.sleep(0.2)
        assert len(receiver.requests) == 1  # urls[0] is not sent again


def test_templates_render_title_and_body():
    with WebhookReceiver() as receiver:
        channel(f"json://127.0.0.1:{receiver.port}/t", title_template="[{{ rule }}] {{ story.outlet }}",
                body_template="{{ story.title }} <{{ story.url }}> {{ articles|length }}").send(MESSAGE)
        (request,) = receiver.wait_for(1)
    assert request.json["title"] == "[new_quality] jjckb"
    assert request.json["message"].startswith("科技创新开启“新质生产力”之门 <http://x/a.html> 1")


def test_unknown_url_and_bad_template_are_config_errors(tmp_path: Path):
    write_config(tmp_path / "a", {"channels": {"chat": {"type": "apprise",
                                                        "urls": ["json://127.0.0.1:9/x", "nosuch://s3cr3t-token"]}}})
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "a", {})
    text = str(caught.value)
    assert "newsmon.yaml" in text and "chat" in text and "URL [1]" in text and "s3cr3t-token" not in text
    write_config(tmp_path / "b", {"channels": {"chat": {"type": "apprise", "urls": ["json://127.0.0.1:9/x"],
                                                        "body_template": "{{ story.title | nosuchfilter }}"}}})
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "b", {})
    assert "body_template" in str(caught.value) and "nosuchfilter" in str(caught.value)


def test_outbox_retries_a_failing_target_and_delivers_once(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    migrate(url)
    with WebhookReceiver() as receiver:
        receiver.fail_next(3, 500)
        write_config(tmp_path / "cfg", {"database_url": url, "channels": {"chat": {
            "type": "apprise", "urls": [f"json://127.0.0.1:{receiver.port}/hook"], "timeout": "5s"}},
            "delivery": {"backoff": "1s", "backoff_max": "1s"}})
        config = load_config(tmp_path / "cfg", {})
        assert isinstance(build_channel("chat", config.channels["chat"]), AppriseChannel)
        sessions = sessions_for(config)
        queue_alerts(sessions, 1, ["chat"])
        outbox = Outbox(config, sessions)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            outbox.deliver_due()
            (alert,) = alerts(sessions)
            if alert.status == "sent":
                break
            time.sleep(0.3)
        outbox.close()
    (alert,) = alerts(sessions)
    assert alert.status == "sent" and alert.attempts == 4
    assert [r.status for r in receiver.requests] == [500, 500, 500, 200]
    assert len(receiver.delivered) == 1
