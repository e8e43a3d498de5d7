"""Alert templates: Jinja2 in a sandbox (jinja2.sandbox.SandboxedEnvironment).

A channel's `*_template` fields, when set, replace its built-in rendering of that part. Variables:

    rule        the rule's name
    kind        "alert", "digest" or "health"
    story       {title, url, outlet, date, snippet, also_in, language, highlights}: the alert's article
                (a digest's first entry)
    articles    [story, ...]: the articles of the message (one for an alert, every entry of a digest)
    count       len(articles)
    period      a digest's {start, end, timezone} (ISO 8601), else None
    alert_id, delivery_key
    health      for an operator alert: {source, state, previous, since, detail, facts}

`date` is "YYYY-MM-DD HH:MM UTC" or None. `highlights`: character spans of the rule's matched terms
in `snippet` (digests carry them; single alerts may not). Filter `highlight`:
`{{ story.snippet | highlight(story.highlights) }}` wraps them in <mark> (HTML-escaped otherwise).
HTML templates (`html_template`) autoescape; others do not.
A template that does not compile (syntax error, unknown filter) is a config error at load, naming
the file, the field and the line (check()).
"""

from __future__ import annotations

from datetime import timezone
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from monitor.channels import base
from monitor.channels.base import AlertMessage, HealthMessage, Message


def highlight(text: str, spans: Any = ()) -> Markup:
    """`text` HTML-escaped, each (start, end) span wrapped in <mark>."""
    out, at = [], 0
    for start, end in sorted(tuple(s) for s in spans or ()):
        if start < at or end > len(text):
            continue
        out += [str(escape(text[at:start])), f"<mark>{escape(text[start:end])}</mark>"]
        at = end
    out.append(str(escape(text[at:])))
    return Markup("".join(out))


@lru_cache(maxsize=2)
def environment(html: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(autoescape=html, undefined=StrictUndefined, keep_trailing_newline=True)
    env.filters["highlight"] = highlight
    return env


def _date(moment: Any) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


@lru_cache(maxsize=256)
def _compiled(source: str, html: bool):
    return environment(html).from_string(source)


def check(source: str, html: bool = False, json_out: bool = False) -> str | None:
    """None when `source` compiles and renders against a sample alert (and, with json_out, the
    result parses as JSON), else the error (with its line)."""
    try:
        text = _compiled(source, html).render(variables(SAMPLE))
    except TemplateSyntaxError as exc:
        return f"line {exc.lineno}: {exc.message}"
    except TemplateError as exc:
        return f"does not render against a sample alert: {exc}"
    if json_out:
        import json

        try:
            json.loads(text)
        except ValueError as exc:
            return f"renders to text that is not JSON for a sample alert ({exc}); use the tojson filter for values"
    return None


def variables(message: Message) -> dict[str, Any]:
    if isinstance(message, HealthMessage):
        since = message.since.isoformat() if message.since else None
        health = {"source": message.source, "state": message.state, "previous": message.previous,
                  "since": since, "detail": message.detail, "facts": dict(message.facts)}
        return {"kind": "health", "rule": f"health:{message.state}", "story": None, "articles": [], "count": 0,
                "period": None, "health": health, "alert_id": message.alert_id, "delivery_key": message.delivery_key}
    digest = getattr(base, "DigestMessage", None)
    if digest is not None and isinstance(message, digest):
        entries = [{"title": e.title, "url": e.url, "outlet": e.source, "date": _date(e.published_at),
                    "snippet": e.snippet, "also_in": [o for o in e.outlets if o != e.source],
                    "language": e.language, "highlights": [list(h) for h in e.highlights]}
                   for e in message.entries]
        period = {"start": message.period_start.isoformat(), "end": message.period_end.isoformat(),
                  "timezone": message.timezone}
        return {"kind": "digest", "rule": message.rule, "story": entries[0] if entries else None,
                "articles": entries, "count": len(entries), "period": period, "health": None,
                "alert_id": message.alert_id, "delivery_key": message.delivery_key}
    story = {"title": message.title, "url": message.url, "outlet": message.source,
             "date": _date(message.published_at), "snippet": message.snippet, "also_in": list(message.also_in),
             "language": message.language, "highlights": [list(h) for h in message.highlights]}
    return {"kind": "alert", "rule": message.rule, "story": story, "articles": [story], "count": 1, "period": None,
            "health": None, "alert_id": message.alert_id, "delivery_key": message.delivery_key}


def source_for(config: Any, field: str, message: Message) -> str | None:
    """The template for `field` of one message: the rule's override, else the channel's, else None."""
    if isinstance(message, HealthMessage):
        return None  # operator alerts keep their built-in layout: templates are written for stories
    overrides = getattr(config, "_rule_templates", None) or {}
    rule = getattr(message, "rule", None)
    return overrides.get(rule, {}).get(field, getattr(config, field, None))


def render_field(config: Any, field: str, message: Message, html: bool = False) -> str | None:
    """`field` of a channel's config (or the message's rule override) rendered; None when not set."""
    return render_optional(source_for(config, field, message), message, field, html=html)


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
