"""Learned site boilerplate: lines counted per source, read back once they are common.

What counts as a template line is monitor.extract.boilerplate's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.store._base import conflict_insert, insert_ignoring_conflicts
from monitor.store.models import BoilerplateLine


def count_template_lines(session: Session, source: str, lines: Mapping[tuple[str, str], int],
                         when: datetime) -> None:
    """Add article counts per (line hash, normalized line) for one source."""
    if not lines:
        return
    hashes = [line_hash for line_hash, _text in lines]
    existing = {row.line_hash: row for row in session.scalars(select(BoilerplateLine).where(
        BoilerplateLine.source == source, BoilerplateLine.line_hash.in_(hashes)))}
    new_rows = []
    for (line_hash, line_text), count in lines.items():
        row = existing.get(line_hash)
        if row is not None:
            row.article_count += count
            row.last_seen = when
        else:
            new_rows.append(dict(source=source, line_hash=line_hash, line_text=line_text, article_count=count,
                                 first_seen=when, last_seen=when))
    if new_rows:  # one multi-row INSERT; a concurrent crawl's rows win a tie (counts stay approximate)
        insert = conflict_insert(session)
        table = BoilerplateLine.__table__
        if insert is None:
            for row in new_rows:
                insert_ignoring_conflicts(session, table, row)
        else:
            for i in range(0, len(new_rows), 500):
                session.execute(insert(table).values(new_rows[i:i + 500]).on_conflict_do_nothing())


def learned_boilerplate(session: Session, source: str, min_articles: int) -> frozenset[str]:
    return frozenset(session.scalars(select(BoilerplateLine.line_text).where(
        BoilerplateLine.source == source, BoilerplateLine.article_count >= min_articles)))
