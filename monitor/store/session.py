"""Engines and sessions for the archive, and migrating it with Alembic."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from monitor.errors import ArchiveError

import migrations

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent


def _parse_url(database_url: str) -> URL:
    try:
        return make_url(database_url)
    except ArgumentError as exc:
        raise ArchiveError(f"database_url {database_url!r} is not a valid SQLAlchemy URL: {exc}") from None


def _sqlite_path(url: URL) -> Path | None:
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


BUSY_TIMEOUT_MS = 30_000


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        cursor = dbapi_connection.cursor()
        # WAL lets the CLI read while a crawl writes; busy_timeout waits for
        # the other writer instead of failing with "database is locked".
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        _use_wal(cursor)
        # With WAL, NORMAL never corrupts the archive; a power cut may lose the last commits only.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()


def _use_wal(cursor) -> None:  # noqa: ANN001
    """Switch to WAL once; WAL is stored in the file, so later connections find it set.
    Setting the mode can fail with "database is locked" without waiting (SQLite does not
    call the busy handler for it), as seen with four processes opening one archive at once:
    it is retried for as long as busy_timeout would have waited."""
    import sqlite3
    import time

    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def make_engine(database_url: str) -> Engine:
    url = _parse_url(database_url)
    path = _sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Pinging before each checkout guards against dropped server connections; a SQLite file has none.
        engine = create_engine(url, pool_pre_ping=url.get_backend_name() != "sqlite")
    except (SQLAlchemyError, ImportError) as exc:
        raise ArchiveError(f"cannot open archive {url.render_as_string(hide_password=True)}: {exc}") from None
    if url.get_backend_name() == "sqlite":
        _tune_sqlite(engine)
    return engine


def make_readonly_engine(database_url: str) -> Engine:
    """An engine on which any write fails, for `newsmon query`."""
    url = _parse_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        path = _sqlite_path(url)
        if path is None or not path.exists():
            raise ArchiveError(f"no archive at {path}: run `newsmon init` first")
        import sqlite3

        uri = f"file:{path.resolve()}?mode=ro"

        def connect() -> sqlite3.Connection:
            return sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30)

        return create_engine("sqlite://", creator=connect)
    if backend == "postgresql":
        return create_engine(
            url, connect_args={"options": "-c default_transaction_read_only=on"}, pool_pre_ping=True
        )
    engine = create_engine(url)

    @event.listens_for(engine, "begin")
    def _read_only(conn):  # noqa: ANN001
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction: commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(database_url: str):  # noqa: ANN201
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def migrate(database_url: str) -> None:
    """Create or upgrade the archive to the newest schema (Alembic upgrade head). Idempotent."""
    from alembic import command

    url = _parse_url(database_url)
    path = _sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        command.upgrade(alembic_config(database_url), "head")
    except SQLAlchemyError as exc:
        raise ArchiveError(
            f"cannot migrate archive {url.render_as_string(hide_password=True)}: {exc.__class__.__name__}: {exc}"
        ) from None


def schema_is_current(engine: Engine) -> bool:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(engine.url.render_as_string(hide_password=False)))
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    return set(current) == set(script.get_heads())
