"""Guards that keep extraction bounded in time and memory on hostile input."""

from __future__ import annotations

import re

MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 2000

_TAG = re.compile(rb"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
_VOID = {b"area", b"base", b"br", b"col", b"embed", b"hr", b"img", b"input", b"link", b"meta", b"source",
         b"track", b"wbr", b"p", b"li", b"option", b"td", b"tr", b"th"}  # also tags with optional end tags


def looks_binary(body: bytes) -> bool:
    sample = body[:2048]
    if not sample:
        return False
    if sample.startswith((b"\x1f\x8b", b"PK\x03\x04", b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff")):
        return True
    # Text pages have almost no control bytes; binary formats are full of them.
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls > len(sample) // 20


def looks_truncated(body: bytes) -> bool:
    tail = body[-2048:].lower()
    return b"</html" not in tail and b"</body" not in tail


def too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """True when elements nest deeper than `limit`: lxml and trafilatura would
    recurse or crawl on such a page, and no article needs it."""
    depth = 0
    for match in _TAG.finditer(body):
        closing, name, self_closing = match.groups()
        name = name.lower()
        if self_closing or name in _VOID:
            continue
        if closing:
            depth = max(depth - 1, 0)
        else:
            depth += 1
            if depth > limit:
                return True
    return False
