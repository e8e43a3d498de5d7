"""Deduplication, every decision in one place: canonical URLs and content hashes,
copies (exact, redirected, revisited: copies.py), near-duplicate signatures and
which story an article joins (stories.py) are pure functions; story_assignment.py
applies the story decision to the archive through the store."""

from monitor.dedup.canonical import canonical_url
from monitor.dedup.hashing import content_hash, normalize_text

__all__ = ["canonical_url", "content_hash", "normalize_text"]
