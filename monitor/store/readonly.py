"""Running one read-only statement on the archive for `newsmon query`, rows streamed.

Layers, each enough against what the one before misses:
- statement.check_read_statement: one statement, of a reading kind, no denied functions;
- SQLite: a guarded read-only connection (sqlite_guard), one statement per execute;
- PostgreSQL: the extended protocol (one statement per message), a READ ONLY
  transaction, statement_timeout, and SET LOCAL ROLE to the archive's reader role
  (reader_role), refusing to go on as a superuser when there is none.
The SQL text is sent as written, with no parameters: `:name` and `%s` stay literals.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from monitor.errors import ArchiveError, ReadOnlyQueryError
from monitor.extras import import_extra
from monitor.store import reader_role, sqlite_guard
from monitor.store.session import make_readonly_engine, parse_database_url, sqlite_archive_path
from monitor.store.statement import READ_ONLY_HINT, StatementError, check_read_statement

FETCH_ROWS = 1000
_WRITE_HINTS = ("readonly", "read-only", "read only", "attempt to write", "not authorized",
                "too many attached databases")


class QueryTimeoutError(ArchiveError):
    """The query ran past its time limit."""


@dataclass
class QueryResult:
    headers: list[str] | None  # None: the statement returns no rows
    rows: Iterator[tuple]
    role: str | None = None  # PostgreSQL: the role the statement ran as


def format_seconds(seconds: float) -> str:
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _timed_out(timeout: float) -> QueryTimeoutError:
    return QueryTimeoutError(
        f"the query timed out after {format_seconds(timeout)}; give it longer with --timeout "
        f"(e.g. --timeout {format_seconds(timeout * 4)}) or query.timeout in newsmon.yaml, or narrow it "
        "(a WHERE clause, --limit)")


def _read_only(message: str) -> ReadOnlyQueryError:
    return ReadOnlyQueryError(
        f"{READ_ONLY_HINT}; this statement tries to write or to reach outside the archive ({message}). "
        "Change the archive with newsmon commands instead.")


@contextmanager
def read_only_query(database_url: str, sql: str, *, timeout: float) -> Iterator[QueryResult]:
    url = parse_database_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        with _sqlite_query(database_url, sql, timeout) as result:
            yield result
    elif backend == "postgresql":
        with _postgres_query(database_url, sql, timeout) as result:
            yield result
    else:
        raise ArchiveError(f"newsmon query supports SQLite and PostgreSQL archives, not {backend}")


# --- SQLite -------------------------------------------------------------------------


def _sqlite_error(exc: sqlite3.Error, timeout: float, deadline: float) -> ArchiveError:
    message = str(exc)
    if "interrupted" in message and time.monotonic() >= deadline:
        return _timed_out(timeout)
    if any(hint in message.lower() for hint in _WRITE_HINTS):
        return _read_only(message)
    if "one statement at a time" in message:
        return StatementError("newsmon query runs one statement only; run them one at a time")
    return ArchiveError(f"query failed: {message}")


@contextmanager
def _sqlite_query(database_url: str, sql: str, timeout: float) -> Iterator[QueryResult]:
    check_read_statement(sql, "sqlite")
    path = sqlite_archive_path(database_url)
    try:
        conn = sqlite_guard.connect_read_only(path)
    except sqlite3.Error as exc:
        raise ArchiveError(f"cannot open the archive {path} read-only: {exc}") from None
    deadline = time.monotonic() + timeout
    try:
        sqlite_guard.set_deadline(conn, timeout)
        try:
            cursor = conn.execute(sql)
        except sqlite3.Error as exc:
            raise _sqlite_error(exc, timeout, deadline) from None
        headers = [d[0] for d in cursor.description] if cursor.description else None

        def rows() -> Iterator[tuple]:
            try:
                while batch := cursor.fetchmany(FETCH_ROWS):
                    yield from batch
            except sqlite3.Error as exc:
                raise _sqlite_error(exc, timeout, deadline) from None

        yield QueryResult(headers, rows())
    finally:
        conn.close()


# --- PostgreSQL ---------------------------------------------------------------------


def _postgres_error(exc: Exception, timeout: float, role: str | None) -> ArchiveError:
    import psycopg.errors as pg

    message = str(exc).strip()
    if isinstance(exc, pg.QueryCanceled):
        return _timed_out(timeout)
    if isinstance(exc, (pg.ReadOnlySqlTransaction,)):
        return _read_only(message)
    if isinstance(exc, pg.InsufficientPrivilege):
        as_role = f" as {role}, a role that may only read the archive's tables" if role else ""
        return ReadOnlyQueryError(f"{READ_ONLY_HINT} and runs{as_role}: {message}")
    if "multiple commands" in message:
        return StatementError("newsmon query runs one statement only; run them one at a time")
    return ArchiveError(f"query failed: {message}")


def _describe(conn, sql: str) -> list[str]:  #- psycopg.Connection
    """Column names of a statement without running it (a stream of no rows carries none)."""
    from psycopg import pq

    encoding = conn.info.encoding
    prepared = conn.pgconn.prepare(b"", sql.encode(encoding))
    if prepared.status != pq.ExecStatus.COMMAND_OK:
        raise ArchiveError(f"query failed: {prepared.error_message.decode(encoding, 'replace').strip()}")
    described = conn.pgconn.describe_prepared(b"")
    return [described.fname(i).decode(encoding) for i in range(described.nfields)]


@contextmanager
def _postgres_query(database_url: str, sql: str, timeout: float) -> Iterator[QueryResult]:
    psycopg = import_extra("psycopg")
    from psycopg import capabilities
    from sqlalchemy.exc import DBAPIError

    check_read_statement(sql, "postgresql")
    engine = make_readonly_engine(database_url)
    try:
        try:
            raw = engine.raw_connection()
        except DBAPIError as exc:
            raise ArchiveError(f"cannot connect to the archive {engine.url.render_as_string(hide_password=True)}: "
                               f"{str(exc.orig).strip()}") from None
        conn: psycopg.Connection = raw.driver_connection
        role = None
        try:
            try:
                conn.execute("SET TRANSACTION READ ONLY")
                conn.execute(f"SET LOCAL statement_timeout = {max(1, round(timeout * 1000))}")
                conn.execute("SET LOCAL standard_conforming_strings = on")  # as statement.py reads strings
                role = reader_role.become_reader(conn)
            except psycopg.Error as exc:
                raise ArchiveError(f"cannot prepare the read-only query: {str(exc).strip()}") from None
            cursor = conn.cursor()
            size = FETCH_ROWS if capabilities.has_stream_chunked() else 1
            stream = cursor.stream(sql, size=size)  # stream(): the extended protocol even without parameters
            try:
                first = next(stream, None)
                headers = [d.name for d in cursor.description] if cursor.description else None
                if first is None and headers is None:
                    headers = _describe(conn, sql) or None
            except psycopg.Error as exc:
                raise _postgres_error(exc, timeout, role) from None

            def rows() -> Iterator[tuple]:
                if first is None:
                    return
                yield first
                try:
                    yield from stream
                except psycopg.Error as exc:
                    raise _postgres_error(exc, timeout, role) from None

            try:
                yield QueryResult(headers, rows(), role)
            finally:
                stream.close()
        finally:
            try:
                conn.rollback()
            finally:
                raw.close()
    finally:
        engine.dispose()
