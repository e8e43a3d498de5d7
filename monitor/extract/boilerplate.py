"""Learned site boilerplate: lines that recur across many articles of one
source are that site's template (a slogan, a standing notice, an editor's
sign-off), not article text. Pure functions; the store pipeline keeps the
counts in the archive and extraction receives the learned set.
"""

from __future__ import annotations

import hashlib

from monitor.text.normalize import normalize_text

MAX_LINE_CHARS = 160     # template lines are short; long recurring paragraphs are quotes
MIN_ARTICLES = 3         # seen in this many distinct articles of a source: template


def template_candidates(text: str) -> dict[str, str]:
    """{hash: normalized line} for each short line of an article's text."""
    found: dict[str, str] = {}
    for line in text.split("\n"):
        line = line.strip()
        if not line or len(line) > MAX_LINE_CHARS:
            continue
        key = normalize_text(line)
        if key:
            found[hashlib.sha1(key.encode("utf-8")).hexdigest()] = key
    return found
