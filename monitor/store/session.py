"""Engines and sessions for the archive, and migrating it with Alembic."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

import migrations
from monitor import redaction
from monitor.config.model import DatabasePoolConfig
from monitor.errors import ArchiveError
from monitor.extras import require_database_driver

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent


# scheme://user:password@host: all before the authority's last @ is credentials (an unparsable
# URL may hold a raw @ in its password). libpq also takes ?password=… as a parameter.
_PASSWORD_PARAMETER = re.compile(r"(?P<key>[?&;\s]password=)[^&\s]*", re.I)


def redact_url_text(text: str) -> str:
    """A URL (or a string that failed to parse as one) without its credentials."""
    if "://" not in text:  # user:password@host with the scheme left out
        return re.sub(r"^[^@\s]*@", f"{redaction.MASK}@", text)
    text = redaction.strip_userinfo(text)
    return _PASSWORD_PARAMETER.sub(lambda m: f"{m.group('key')}{redaction.MASK}", text)


def _parse_url(database_url: str) -> URL:
    try:
        return make_url(database_url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        # SQLAlchemy's message repeats the whole URL, password included: say it in our words.
        raise ArchiveError(
            f"database_url {redact_url_text(database_url)!r} is not a valid SQLAlchemy URL; write it as "
            "sqlite:///path/to/file.sqlite3 or postgresql+psycopg://USER:PASSWORD@HOST:5432/DATABASE"
        ) from None


parse_database_url = _parse_url


def sqlite_archive_path(database_url: str) -> Path:
    """The file of a SQLite archive, which must exist already."""
    path = _sqlite_path(_parse_url(database_url))
    if path is None or not path.exists():
        raise ArchiveError(f"no archive at {path}: run `newsmon init` first")
    return path


def _sqlite_path(url: URL) -> Path | None:
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


BUSY_TIMEOUT_MS = 30_000


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        # WAL lets the CLI read while a crawl writes; busy_timeout waits for
        # the other writer instead of failing with "database is locked".
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        _use_wal(cursor)
        # With WAL, NORMAL never corrupts the archive; a power cut may lose the last commits only.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()


def _use_wal(cursor) -> None:
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


def make_engine(database_url: str, pool: DatabasePoolConfig | None = None) -> Engine:
    """An engine on the archive; `pool` (database_pool in newsmon.yaml) sizes the connection
    pool of a server database. SQLite files keep SQLAlchemy's defaults."""
    url = _parse_url(database_url)
    path = _sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    require_database_driver(url.get_backend_name())
    server = url.get_backend_name() != "sqlite"
    options: dict = {}
    if server:
        pool = pool or DatabasePoolConfig()
        # Pinging before each checkout finds connections the server (or a restart) dropped and replaces
        # them, so a daemon outlives a database restart; recycle retires old ones before a proxy does.
        options = dict(pool_pre_ping=True, pool_size=pool.size, max_overflow=pool.max_overflow,
                       pool_timeout=pool.timeout, pool_recycle=int(pool.recycle))
    try:
        engine = create_engine(url, **options)
    except (SQLAlchemyError, ImportError) as exc:
        raise ArchiveError(f"cannot open archive {url.render_as_string(hide_password=True)}: {exc}") from None
    if url.get_backend_name() == "sqlite":
        _tune_sqlite(engine)
    return engine


def make_readonly_engine(database_url: str) -> Engine:
    """An engine on which any write fails, for `newsmon query` (monitor/store/readonly.py runs it).
    SQLite and PostgreSQL only: for others the read-only guarantees cannot be given."""
    from sqlalchemy.pool import NullPool

    from monitor.store import sqlite_guard

    url = _parse_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        path = sqlite_archive_path(database_url)
        return create_engine("sqlite://", creator=lambda: sqlite_guard.connect_read_only(path), poolclass=NullPool)
    if backend == "postgresql":
        require_database_driver(backend)
        try:
            return create_engine(url, poolclass=NullPool,
                                 connect_args={"options": "-c default_transaction_read_only=on"})
        except (SQLAlchemyError, ImportError) as exc:
            raise ArchiveError(f"cannot open archive {url.render_as_string(hide_password=True)}: {exc}") from None
    raise ArchiveError(f"newsmon query supports SQLite and PostgreSQL archives, not {backend}")


def make_reader_engine(database_url: str, pool: DatabasePoolConfig | None = None) -> Engine:
    """A pooled engine whose every transaction is read-only, for readers such as `newsmon web`: a bug or
    an injected statement in a page cannot change the archive. Its writes go through make_engine."""
    engine = make_engine(database_url, pool)

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA query_only = ON")
        else:
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            dbapi_connection.commit()
        cursor.close()

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


def alembic_config(database_url: str):
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
    require_database_driver(url.get_backend_name())
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


def ensure_query_role(database_url: str) -> str | None:
    """PostgreSQL: create (if allowed) and grant the role `newsmon query` reads as; a line for the user.
    A failure here is reported, not raised: the archive itself is ready."""
    url = _parse_url(database_url)
    if url.get_backend_name() != "postgresql":
        return None
    from monitor.store.reader_role import ensure_reader_role

    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            return ensure_reader_role(conn.connection.driver_connection)
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", exc)).strip()
        return f"note: could not set up the read-only query role ({detail}); `newsmon query` may refuse to run"
    finally:
        engine.dispose()
