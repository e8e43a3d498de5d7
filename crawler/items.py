"""The item a spider yields for each article page, filled in by the pipelines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class ArticleItem:
    # Set by the spider from the response and the feed entry.
    source: str
    url: str
    body: bytes
    content_type: str | None = None
    requested_url: str | None = None  # differs from url after a redirect
    declared_canonical: str | None = None  # the page's rel=canonical / og:url
    feed_title: str | None = None
    feed_author: str | None = None
    feed_published: datetime | None = None
    # Set by the pipelines.
    canonical_url: str | None = None
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    language: str | None = None
    outlet: str | None = None
    text: str = ""
    content_hash: str | None = None
    minhash: bytes | None = None  # near-duplicate signature (monitor.dedup.signatures)
    revision_of: int | None = None  # an archived article this page is a new version of
    captions: tuple[str, ...] = field(default_factory=tuple)
