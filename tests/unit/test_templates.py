"""Alert templates: sandboxed Jinja2, checked at load, applied by the email and webhook channels."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from monitor.channels import EmailChannel, WebhookChannel, templates
from monitor.channels.base import AlertMessage, DigestEntry, DigestMessage
from monitor.channels.email import compose
from monitor.config import EmailChannelConfig, WebhookChannelConfig, load_config
from monitor.errors import ConfigError
from tests.helpers.config import write_config

MESSAGE = AlertMessage(alert_id=3, delivery_key="b" * 32, rule="zh", title="新质生产力 <b>", url="http://x/a",
                       source="jjckb", published_at=dt.datetime(2023, 12, 8, tzinfo=dt.timezone.utc),
                       snippet="加快形成新质生产力", language="zh", also_in=("xinhua",))


def email_config(**extra) -> EmailChannelConfig:
    return EmailChannelConfig.model_validate({"type": "email", "host": "127.0.0.1", "port": 25, "security": "none",
                                              "from": "a@example.org", "to": ["d@example.org"], **extra})


def test_variables_of_an_alert():
    text = templates.render("{{ rule }}|{{ story.outlet }}|{{ story.date }}|{{ articles|length }}|"
                            "{{ story.also_in|join(',') }}", MESSAGE)
    assert text == "zh|jjckb|2023-12-08 00:00 UTC|1|xinhua"


def test_digest_variables_list_the_entries():
    entries = tuple(DigestEntry(alert_id=i, title=f"t{i}", url=f"http://x/{i}", source="s", published_at=None,
                                snippet="abc", outlets=("s", "o"), highlights=((0, 1),)) for i in range(2))
    digest = DigestMessage(alert_id=1, delivery_key="c" * 32, rule="zh", channel="mail",
                           period_start=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
                           period_end=dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc), timezone="UTC", entries=entries)
    text = templates.render("{{ kind }} {{ count }}:{% for a in articles %} {{ a.title }}/{{ a.also_in|join }}"
                            "{% endfor %} {{ articles[0].snippet|highlight(articles[0].highlights) }}", digest, html=True)
    assert text == "digest 2: t0/o t1/o <mark>a</mark>bc"


def test_the_sandbox_refuses_unsafe_attributes():
    with pytest.raises(Exception):  # noqa: B017 (jinja2's SecurityError)
        templates.render("{{ story.__class__.__mro__ }}", MESSAGE)


def test_html_templates_autoescape():
    assert templates.render("{{ story.title }}", MESSAGE, html=True) == "新质生产力 &lt;b&gt;"
    assert templates.render("{{ story.title }}", MESSAGE) == "新质生产力 <b>"


def test_email_templates_replace_subject_and_both_parts():
    config = email_config(subject_template="ALERT {{ rule }}", text_template="plain {{ story.url }}",
                          html_template="<p>{{ story.title }}</p>")
    mail = compose(MESSAGE, config)
    assert mail["Subject"] == "ALERT zh"
    parts = {p.get_content_type(): p.get_content() for p in mail.iter_parts()}
    assert parts["text/plain"].strip() == "plain http://x/a"
    assert parts["text/html"].strip() == "<p>新质生产力 &lt;b&gt;</p>"
    assert isinstance(EmailChannel("m", config), EmailChannel)


def test_email_without_templates_is_unchanged():
    assert "zh: 新质生产力" in compose(MESSAGE, email_config())["Subject"]


def test_webhook_body_template_renders_json():
    config = WebhookChannelConfig.model_validate({"type": "webhook", "url": "http://127.0.0.1:9/h",
                                                  "body_template": '{"text": {{ (story.title ~ " " ~ story.url)|tojson }}}'})
    body, headers = WebhookChannel("h", config).request_for(MESSAGE)
    assert json.loads(body) == {"text": "新质生产力 <b> http://x/a"}
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(("channel", "field", "expected"), [
    ({"type": "webhook", "url": "http://h/x", "body_template": "not json {{ rule }}"}, "body_template", "not JSON"),
    ({"type": "email", "host": "h", "from": "a@b", "to": ["c@d"], "subject_template": "{{ rule | nosuch }}"},
     "subject_template", "nosuch"),
    ({"type": "email", "host": "h", "from": "a@b", "to": ["c@d"], "html_template": "a\n{% for x in %}"},
     "html_template", "line 2"),
])
def test_template_errors_are_config_errors(tmp_path: Path, channel: dict, field: str, expected: str):
    write_config(tmp_path, {"channels": {"desk": channel}})
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, {})
    text = str(caught.value)
    assert "newsmon.yaml" in text and f"channels.desk.{field}" in text and expected in text


def _rule_config(tmp_path: Path, templates_: dict):
    write_config(tmp_path, {"channels": {
        "mail": {"type": "email", "host": "h", "from": "a@b", "to": ["c@d"], "subject_template": "channel {{ rule }}"},
        "hook": {"type": "webhook", "url": "http://127.0.0.1:9/h"}}},
        rules={"zh": {"query": "x", "channels": ["mail", "hook"], "templates": templates_},
               "other": {"query": "y", "channels": ["mail"]}})
    return load_config(tmp_path, {})


def test_rule_overrides_by_channel_name_and_type(tmp_path: Path):
    config = _rule_config(tmp_path, {"email": {"subject_template": "by type"},
                                     "mail": {"text_template": "by name {{ story.url }}"},
                                     "hook": {"body_template": '{"r": {{ rule|tojson }}}'}})
    mail = compose(MESSAGE, config.channels["mail"])
    assert mail["Subject"] == "by type"
    assert "by name http://x/a" in mail.get_body(("plain",)).get_content()
    other = compose(AlertMessage(**{**MESSAGE.__dict__, "rule": "other"}), config.channels["mail"])
    assert other["Subject"] == "channel other"
    body, _headers = WebhookChannel("hook", config.channels["hook"]).request_for(MESSAGE)
    assert json.loads(body) == {"r": "zh"}


@pytest.mark.parametrize(("templates_", "expected"), [
    ({"nosuch": {"subject_template": "x"}}, "templates.nosuch"),
    ({"mail": {"body_template": "x"}}, "templates.mail.body_template"),
    ({"hook": {"body_template": "not json"}}, "not JSON"),
    ({"email": {"subject_template": "{{ x | nofilter }}"}}, "nofilter"),
])
def test_bad_rule_overrides_are_config_errors(tmp_path: Path, templates_: dict, expected: str):
    with pytest.raises(ConfigError) as caught:
        _rule_config(tmp_path, templates_)
    assert "zh.yaml" in str(caught.value) and expected in str(caught.value)


def test_health_alerts_keep_their_built_in_layout():
    from monitor.channels.base import HealthMessage

    health = HealthMessage(alert_id=9, delivery_key="d" * 32, source="jjckb", state="failing", since=None,
                           detail="3 consecutive checks failed")
    mail = compose(health, email_config(subject_template="{{ story.title }}"))
    assert "jjckb" in mail["Subject"]
