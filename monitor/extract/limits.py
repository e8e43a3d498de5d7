"""Guards that keep extraction bounded in time and memory on hostile input."""

from __future__ import annotations

MAX_BYTES = 5 * 1024 * 1024


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


def too_deep(tree, limit: int = 250) -> bool:  # noqa: ANN001
    """libxml2 stops building the tree at 256 levels; an element that deep
    means the page was cut off there (and no article needs such nesting)."""
    return bool(tree.xpath(f"boolean(//*[count(ancestor::*) >= {limit}])"))
