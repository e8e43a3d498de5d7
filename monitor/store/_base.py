"""What every query module of the store shares: the clock and the dialect-specific INSERTs."""

from __future__ import annotations

import functools
from datetime import datetime, timezone

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# The dialects whose INSERT has ON CONFLICT DO NOTHING; others use a savepoint per row.
_CONFLICT_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def conflict_insert(session: Session):
    """The dialect's `insert` construct with ON CONFLICT support, or None."""
    return _CONFLICT_INSERTS.get(session.get_bind().dialect.name)


def insert_ignoring_conflicts(session: Session, table, values: dict):
    """INSERT … ON CONFLICT DO NOTHING; the new row's primary key, or None when nothing was inserted."""
    insert = conflict_insert(session)
    if insert is not None:
        # Values as parameters, not in the statement: the compiled statement is cached and reused.
        return session.connection().execute(_insert_or_ignore(table, insert), values).first()
    else:  # portable fallback: a savepoint absorbs the unique violation
        try:
            with session.begin_nested():
                return session.execute(table.insert().values(**values).returning(*table.primary_key.columns)).first()
        except IntegrityError:
            return None


@functools.cache
def _insert_or_ignore(table, insert):
    return insert(table).on_conflict_do_nothing().returning(*table.primary_key.columns)
