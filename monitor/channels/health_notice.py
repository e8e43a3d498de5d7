"""An operator alert (HealthMessage) as people read it: a subject line and a plain and HTML body.
Shared by the channels that write for people (email); the webhook sends the JSON payload."""

from __future__ import annotations

from html import escape

from monitor.channels.base import HealthMessage

# What each state means and what to look at first.
_ADVICE = {
    "failing": "Its checks keep failing: see the last error, and `newsmon status` for the source.",
    "silent": "Its checks succeed but find no new article: is the feed or listing still updated, "
              "and does it still link to the articles?",
    "drifting": "Its pages now give much less text than they used to: the site's layout has probably "
                "changed; try `newsmon extract` on one of its recent pages.",
    "recovered": "No action needed.",
}


def _headline(message: HealthMessage) -> str:
    if message.state == "recovered":
        return f"{message.source} recovered"
    return f"{message.source} is {message.state}"


def subject(message: HealthMessage, prefix: str) -> str:
    return " ".join(f"{prefix} health: {_headline(message)}".split())


def _rows(message: HealthMessage) -> list[tuple[str, str]]:
    since = message.since.strftime("%Y-%m-%d %H:%M UTC") if message.since else "unknown"
    rows = [("Source", message.source), ("State", message.state), ("Since", since)]
    if message.previous:
        rows.append(("Before", message.previous))
    for key, label in (("consecutive_failures", "Failed checks"), ("last_success_at", "Last success"),
                       ("last_new_article_at", "Last new article"), ("last_error", "Last error")):
        value = message.facts.get(key)
        if value not in (None, "", 0):
            rows.append((label, str(value)))
    return rows


def plain_body(message: HealthMessage) -> str:
    lines = [_headline(message), ""]
    lines += [f"{label + ':':<18}{value}" for label, value in _rows(message)]
    lines += ["", message.detail, "", _ADVICE.get(message.state, ""), "", "-- ",
              f"newsmon health alert {message.alert_id}"]
    return "\n".join(lines) + "\n"


def html_body(message: HealthMessage) -> str:
    rows = "".join(f"<tr><th align='left'>{escape(label)}</th><td>{escape(value)}</td></tr>"
                   for label, value in _rows(message))
    return "\n".join([
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>',
        f"<h2>{escape(_headline(message))}</h2>",
        f"<table>{rows}</table>",
        f"<p>{escape(message.detail)}</p>",
        f"<p>{escape(_ADVICE.get(message.state, ''))}</p>",
        f'<p style="color:#888">newsmon health alert {message.alert_id}</p></body></html>',
    ]) + "\n"
