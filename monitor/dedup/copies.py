"""Is this article a copy of one we have? The decisions, as pure functions; the
crawler's pipelines and archive writer do the lookups around them.

Three kinds of copy, in the order a crawl meets them:

- a redirect copy: the page redirected to (or declares as its own) a URL the
  archive holds: dropped before extraction, unless the source revisits;
- a revisit: an archived URL fetched again under a `revisit` policy: an
  unchanged text is dropped, a changed one is a new revision;
- an exact copy: the same canonical URL, or the same text from the same
  source, as an archived article or an earlier one of the same batch.

The same text from another outlet is not a copy: it joins the story
(near-duplicate grouping, monitor.dedup.stories).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import NamedTuple
from urllib.parse import urlsplit

from monitor.dedup.canonical import canonical_url


def choose_canonical(url: str, declared: str | None) -> str:
    """The page's declared canonical URL when it is on the same site; a canonical
    pointing at another site (syndication) makes it a copy, which story grouping
    handles, not the same article."""
    if declared and urlsplit(declared).hostname == urlsplit(url).hostname:
        return canonical_url(declared)
    return canonical_url(url)


def needs_archive_check(canonical: str, requested_url: str) -> bool:
    """True when the article's canonical URL is not the one the spider checked against the
    archive before fetching it (a redirect, or a page naming another URL as its own)."""
    return canonical != canonical_url(requested_url)


def is_redirect_copy(archived: bool, revisit: bool) -> bool:
    """A page arriving under an archived URL is a copy, unless the source revisits its
    articles: then the revisit step compares the texts."""
    return archived and not revisit


class Revisit(Enum):
    NEW = "new"  # not archived under this URL
    UNCHANGED = "unchanged"  # archived with the same text: nothing to store
    REVISION = "revision"  # archived with another text: a new revision of it


def revisit_verdict(archived_hash: str | None, content_hash: str) -> Revisit:
    """What a fetched article is, given the content hash archived under its URL (None: none)."""
    if archived_hash is None:
        return Revisit.NEW
    return Revisit.UNCHANGED if archived_hash == content_hash else Revisit.REVISION


class Candidate(NamedTuple):
    """What exact-copy detection looks at in an article."""

    canonical_url: str
    source: str
    content_hash: str


def _text_key(candidate: Candidate) -> str:
    return f"{candidate.source}\0{candidate.content_hash}"


def exact_copies(batch: Sequence[Candidate], archived_original: Callable[[Candidate], str | None]) -> list[str | None]:
    """For each candidate, in batch order, the canonical URL of the article it copies, or None
    when it is new. An earlier new article of the batch wins over a later one; the archive
    (`archived_original`: the canonical URL of an archived article with the same URL, or the
    same text from the same source) is asked only about candidates with no earlier copy."""
    originals: list[str | None] = []
    first: dict[str, str] = {}  # canonical URLs and text keys of this batch's new articles -> canonical URL
    for candidate in batch:
        text_key = _text_key(candidate)
        original = first.get(candidate.canonical_url) or first.get(text_key) or archived_original(candidate)
        if original is None:
            first[candidate.canonical_url] = first[text_key] = candidate.canonical_url
        originals.append(original)
    return originals
