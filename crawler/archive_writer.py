"""Writing a batch of articles to the archive: what the store step's writer
thread runs (crawler.pipelines.store decides when; this decides what happens).

(A writer process instead of a thread was measured too: no faster, because the
crawl is bound by the CPUs, not by the GIL, and more to go wrong.)
"""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from crawler.items import ArticleItem
from monitor.dedup.copies import Candidate, exact_copies
from monitor.dedup.story_assignment import store_in_stories
from monitor.extract.boilerplate import template_candidates
from monitor.store import repo
from monitor.store.session import session_scope


class Outcome(NamedTuple):
    """What became of one article: stored, a duplicate (detail says of what), or failed (detail says why)."""

    kind: str  # "stored" | "duplicate" | "failed"
    detail: str | None = None


STORED = Outcome("stored")


def write_batch(sessions: sessionmaker[Session], source: str, batch: list[ArticleItem]) -> list[Outcome]:
    """The whole batch in one transaction, or, when that fails, each article alone, so one
    bad article costs only itself."""
    try:
        with session_scope(sessions) as session:
            outcomes = _write(session, batch)
            _count_template_lines(session, source, batch, outcomes)
        return outcomes
    except SQLAlchemyError:
        return [_write_alone(sessions, source, item) for item in batch]


def _write_alone(sessions: sessionmaker[Session], source: str, item: ArticleItem) -> Outcome:
    try:
        with session_scope(sessions) as session:
            outcome, = _write(session, [item])
            _count_template_lines(session, source, [item], [outcome])
            return outcome
    except SQLAlchemyError as exc:
        return Outcome("failed", f"archive write failed: {exc.__class__.__name__}: {exc}")


def _write(session: Session, batch: list[ArticleItem]) -> list[Outcome]:
    """Drop exact copies (monitor.dedup.copies decides: of the archive or of an earlier article
    in the batch), insert the rest in one statement, then put each in its story, in batch order."""
    repo.lock_story_assignment(session)

    def archived_original(candidate: Candidate) -> str | None:
        found = repo.find_duplicate(session, candidate.canonical_url, candidate.content_hash, candidate.source)
        return found.canonical_url if found is not None else None

    originals = exact_copies([Candidate(item.canonical_url, item.source, item.content_hash) for item in batch],
                             archived_original)
    outcomes = [STORED if original is None else Outcome("duplicate", f"duplicate of {original}")
                for original in originals]
    fresh = [(position, item) for position, (item, original) in enumerate(zip(batch, originals))
             if original is None]  # (position in the batch, article)
    now = repo.utcnow()
    stored = store_in_stories(session, [dict(
        url=item.url, canonical_url=item.canonical_url, source=item.source, title=item.title,
        author=item.author, published_at=item.published_at, language=item.language, outlet=item.outlet,
        text=item.text, content_hash=item.content_hash, minhash=item.minhash, fetched_at=now,
    ) for _, item in fresh])
    for position, item in fresh:
        if item.canonical_url not in stored:
            outcomes[position] = Outcome("duplicate", "already archived by another crawl")
    return outcomes


def _count_template_lines(session: Session, source: str, batch: list[ArticleItem], outcomes: list[Outcome]) -> None:
    """Lines seen in many of a source's articles become its learned template (monitor.extract.boilerplate)."""
    lines: Counter[tuple[str, str]] = Counter()
    for item, outcome in zip(batch, outcomes):
        if outcome.kind == "stored":
            lines.update(template_candidates(item.text).items())
    if lines:
        repo.count_template_lines(session, source, lines, repo.utcnow())
