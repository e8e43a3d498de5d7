"""Canonical article URLs: the same article under two URLs is one article."""

from __future__ import annotations

import functools
import posixpath
from urllib.parse import urlsplit, urlunsplit

import courlan


@functools.lru_cache(maxsize=16384)  # a crawl asks for the same URL's key at discovery and again per item
def canonical_url(url: str) -> str:
    """Normalize with courlan (case, default ports, sorted query, tracking
    parameters dropped), then resolve dot segments and drop the fragment,
    which never names a different article."""
    normalized = courlan.normalize_url(url.strip(), strict=False) or url.strip()
    parts = urlsplit(normalized)
    path = parts.path or "/"
    if "/." in path:
        resolved = posixpath.normpath(path)
        path = resolved + "/" if path.endswith("/") and resolved != "/" else resolved
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
