"""Exact-duplicate detection: a hash of the text with formatting removed."""

from __future__ import annotations

import hashlib

from monitor.text.normalize import normalize_text

__all__ = ["content_hash", "normalize_text"]


def content_hash(text: str) -> str:
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()
