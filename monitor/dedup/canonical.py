"""Canonical article URLs: the same article under two URLs is one article."""

from __future__ import annotations

import functools
import posixpath
from urllib.parse import urlsplit, urlunsplit

import courlan

from monitor.redaction import mask


@functools.lru_cache(maxsize=16384)  # a crawl asks for the same URL's key at discovery and again per item
def canonical_url(url: str) -> str:
    """Normalize with courlan (case, default ports, sorted query, tracking
    parameters dropped), then resolve dot segments and drop the fragment,
    which never names a different article."""
    normalized = courlan.normalize_url(url.strip(), strict=False) or url.strip()
    parts = urlsplit(normalized)
    netloc = parts.netloc
    if "@" in netloc:  # credentials never name a different article, and are never stored
        netloc = netloc.rpartition("@")[2]
    path = parts.path or "/"
    if "/." in path:
        resolved = posixpath.normpath(path)
        path = resolved + "/" if path.endswith("/") and resolved != "/" else resolved
    return mask(urlunsplit((parts.scheme, netloc, path, parts.query, "")))
