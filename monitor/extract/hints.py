"""Per-source extraction hints (config `hints:`): a few selectors that beat
heuristics on a site whose layout defeats them."""

from __future__ import annotations

import logging
import re

import lxml.html

from monitor.config import ExtractHints
from monitor.text.dates import find_numeric_date

log = logging.getLogger(__name__)


def select(tree: lxml.html.HtmlElement, selector: str) -> list:
    """CSS selection that logs and ignores an invalid selector instead of failing the page."""
    try:
        return tree.cssselect(selector)
    except Exception as exc:  # cssselect raises its own SelectorError types
        log.warning("extraction hint selector %r is invalid: %s", selector, exc)
        return []


def apply_hints(tree: lxml.html.HtmlElement, hints: ExtractHints, drop) -> None:
    """Drop `drop_selectors`; with `content_selector`, keep only what it selects
    (when it selects anything: a changed layout falls back to heuristics)."""
    for selector in hints.drop_selectors:
        for element in select(tree, selector):
            drop(element)
    if hints.content_selector:
        found = select(tree, hints.content_selector)
        body = tree.find("body")
        if found and body is not None:
            kept = [e for e in found if not any(a in found for a in e.iterancestors())]
            for child in list(body):
                body.remove(child)
            for element in kept:
                body.append(element)


def hinted_date(tree: lxml.html.HtmlElement, hints: ExtractHints) -> str | None:
    """The date from `date_selector`'s text and/or `date_pattern` (a regex whose
    last group, or whole match, is the date), normalized to YYYY-MM-DD."""
    text = ""
    if hints.date_selector:
        text = " ".join(e.text_content() for e in select(tree, hints.date_selector))
    if hints.date_pattern:
        try:
            match = re.search(hints.date_pattern, text or tree.text_content())
        except re.error as exc:
            log.warning("extraction hint date_pattern %r is invalid: %s", hints.date_pattern, exc)
            match = None
        text = (match.group(match.lastindex or 0) or "") if match else ""
    text = " ".join(text.split())
    if not text:
        return None
    return find_numeric_date(text)  # the date may sit inside the text: "Published 2024-03-09"
