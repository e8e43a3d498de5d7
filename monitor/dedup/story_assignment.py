"""Putting stored articles in stories: the one path production, tests and benchmarks take.

The decision (which story) is `best_story`, pure, in monitor.dedup.stories; the
rows are read and written by monitor.store. This module runs them in order:
under the story lock, so two writers' copies of one story never found two stories.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy.orm import Session

from monitor.dedup.signatures import band_keys
from monitor.dedup.stories import best_story
from monitor.store import repo


class Stored(NamedTuple):
    article_id: int
    story_id: int


def assign_story(session: Session, article_id: int, signature: bytes | None, *, title: str | None, source: str,
                 when: datetime) -> int:
    """Put a stored article in the story of its nearest near-duplicate, or a new story; the
    caller holds the story lock (`repo.lock_story_assignment`) in this transaction."""
    keys = band_keys(signature) if signature else []
    story_id = None
    if signature:
        story_id, _score = best_story(signature, repo.story_candidates(session, keys, exclude=article_id))
    if story_id is None:
        story_id = repo.new_story(session, article_id, title, when)
    else:
        repo.join_story(session, article_id, story_id, source, when)
    repo.add_bands(session, article_id, keys)
    return story_id


def store_in_stories(session: Session, rows: Sequence[dict]) -> dict[str, Stored]:
    """Insert articles (`repo.add_articles` rows: `minhash` is the signature, `fetched_at`
    the time their stories see) and put each in its story, in row order.
    {canonical URL: (article id, story id)} of those inserted; a URL another writer stored
    first is absent. Takes the story lock: harmless when the caller took it already."""
    repo.lock_story_assignment(session)
    ids = repo.add_articles(session, rows)
    stored: dict[str, Stored] = {}
    for row in rows:
        article_id = ids.get(row["canonical_url"])
        if article_id is None or row["canonical_url"] in stored:
            continue
        story_id = assign_story(session, article_id, row.get("minhash"), title=row.get("title"),
                                source=row["source"], when=row["fetched_at"])
        stored[row["canonical_url"]] = Stored(article_id, story_id)
    return stored
