"""What several commands need: the archive opened and checked."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import NewsmonConfig
from monitor.errors import ArchiveError
from monitor.store.session import make_engine, schema_is_current, session_factory


def open_archive(config: NewsmonConfig) -> tuple[Engine, sessionmaker[Session]]:
    """The archive, refusing one that `newsmon init` has not brought up to date."""
    engine = make_engine(config.database_url, config.database_pool)
    try:
        current = schema_is_current(engine)
    except SQLAlchemyError as exc:
        raise ArchiveError(f"cannot open the archive ({engine.url.render_as_string(hide_password=True)}): {exc}") from None
    if not current:
        raise ArchiveError(
            f"the archive at {engine.url.render_as_string(hide_password=True)} is not initialised or "
            "not up to date: run `newsmon init`"
        )
    return engine, session_factory(engine)
