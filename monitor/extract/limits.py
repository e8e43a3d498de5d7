"""Guards that keep extraction bounded in time and memory on hostile input."""

from __future__ import annotations

import re

MAX_BYTES = 5 * 1024 * 1024     # bodies are cut here before parsing
MAX_DEPTH = 1000                # container elements open at once; real pages stay under ~60
_SCAN_ABOVE_TAGS = 20_000       # only pages with this many tags are scanned for depth
# Container tags whose end tags pages do write (unlike p, li, td, which HTML closes implicitly).
_CONTAINER = re.compile(
    rb"<(/?)(div|span|section|article|main|blockquote|table|font|center|ul|ol|dl|form|header|footer|nav|aside|b|i|em|"
    rb"strong|a|small|big|u|s|sub|sup)\b[^>]{0,2000}?(/?)>",
    re.IGNORECASE)


def looks_binary(body: bytes) -> bool:
    sample = body[:2048]
    if not sample:
        return False
    if sample.startswith((b"\x1f\x8b", b"PK\x03\x04", b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff")):
        return True
    # UTF-16 text is full of NUL bytes but is text.
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    # Text pages have almost no control bytes; binary formats are full of them.
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls > len(sample) // 20


def looks_truncated(body: bytes) -> bool:
    tail = body[-2048:].lower()
    return b"</html" not in tail and b"</body" not in tail


def nesting_depth(html: bytes, stop_at: int = MAX_DEPTH) -> int:
    """How deeply container elements nest, read from the raw markup before any
    parser sees it (stops counting at `stop_at`). Cheap for ordinary pages:
    only pages with very many tags are scanned at all."""
    if html.count(b"<") < _SCAN_ABOVE_TAGS:
        return 0
    depth = deepest = 0
    for match in _CONTAINER.finditer(html):
        if match.group(3):  # <div/>
            continue
        if match.group(1):
            depth = max(depth - 1, 0)
        else:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest >= stop_at:
                    break
    return deepest


def too_deep(tree, limit: int = 250) -> bool:
    """libxml2 stops building the tree at 256 levels; an element that deep
    means the page was cut off there (and no article needs such nesting)."""
    return bool(tree.xpath(f"boolean(//*[count(ancestor::*) >= {limit}])"))
