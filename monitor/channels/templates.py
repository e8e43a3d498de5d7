"""Alert templates: Jinja2 in a sandbox (jinja2.sandbox.SandboxedEnvironment).

A channel's `*_template` fields, when set, replace its built-in rendering of that part. Variables:

    rule        the rule's name
    kind        "alert" or "health"
    story       {title, url, outlet, date, snippet, also_in, language}: the alert's article
    articles    [story]: the articles of the message (one for an alert)
    alert_id, delivery_key
    health      for an operator alert: {source, state, previous, since, detail, facts}

`date` is "YYYY-MM-DD HH:MM UTC" or None. HTML templates (`html_template`) autoescape; others do not.
A template that does not compile (syntax error, unknown filter) is a config error at load, naming
the file, the field and the line (check()).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from monitor.channels.base import AlertMessage, HealthMessage, Message


@lru_cache(maxsize=2)
def environment(html: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=html, undefined=StrictUndefined, keep_trailing_newline=True)


@lru_cache(maxsize=256)
def _compiled(source: str, html: bool):
    return environment(html).from_string(source)


def check(source: str, html: bool = False) -> str | None:
    """None when `source` compiles and renders against a sample alert, else the error (with its line)."""
    try:
        _compiled(source, html).render(variables(SAMPLE))
    except TemplateSyntaxError as exc:
        return f"line {exc.lineno}: {exc.message}"
    except TemplateError as exc:
        return f"does not render against a sample alert: {exc}"
    return None


def variables(message: Message) -> dict[str, Any]:
    if isinstance(message, HealthMessage):
        since = message.since.isoformat() if message.since else None
        health = {"source": message.source, "state": message.state, "previous": message.previous,
                  "since": since, "detail": message.detail, "facts": dict(message.facts)}
        return {"kind": "health", "rule": f"health:{message.state}", "story": None, "articles": [],
                "health": health, "alert_id": message.alert_id, "delivery_key": message.delivery_key}
    published = message.published_utc
    story = {"title": message.title, "url": message.url, "outlet": message.source,
             "date": published.strftime("%Y-%m-%d %H:%M UTC") if published else None,
             "snippet": message.snippet, "also_in": list(message.also_in), "language": message.language}
    return {"kind": "alert", "rule": message.rule, "story": story, "articles": [story], "health": None,
            "alert_id": message.alert_id, "delivery_key": message.delivery_key}


def render(source: str, message: Message, html: bool = False) -> str:
    return _compiled(source, html).render(variables(message))


def render_optional(source: str | None, message: Message, field: str, html: bool = False) -> str | None:
    """The rendered template, or None when none is configured. A failure at send time (a template
    using a variable absent from this kind of message) is a permanent DeliveryError."""
    if source is None:
        return None
    try:
        return render(source, message, html)
    except TemplateError as exc:
        from monitor.errors import DeliveryError

        raise DeliveryError("template", f"{field} failed to render: {exc}", permanent=True) from None


SAMPLE = AlertMessage(alert_id=1, delivery_key="0" * 32, rule="sample_rule", title="Sample title",
                      url="https://news.example/a.html", source="sample_outlet", published_at=None,
                      snippet="a sample snippet", language="en", also_in=("other_outlet",))
