"""Deduplication: canonical URLs and content hashes (pure functions)."""

from monitor.dedup.canonical import canonical_url
from monitor.dedup.hashing import content_hash, normalize_text

__all__ = ["canonical_url", "content_hash", "normalize_text"]
