"""A SQLite connection that can only read the archive, for `newsmon query`.

`mode=ro` alone is not enough: ATTACH creates and writes other files, VACUUM INTO
writes a copy of the archive anywhere, and the temp schema stays writable. So the
connection also allows no attached databases, is `query_only`, and has an
authorizer that admits reading and nothing else. A deadline, checked by a progress
handler, stops a query that runs too long.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from monitor.store.statement import DENIED_FUNCTIONS

# PRAGMAs that only report. FTS5 reads data_version itself on every MATCH.
READ_ONLY_PRAGMAS = frozenset({
    "data_version", "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
    "foreign_key_list", "collation_list", "function_list", "module_list", "pragma_list", "compile_options",
    "database_list", "page_count", "page_size", "freelist_count", "encoding", "user_version",
    "application_id", "schema_version", "journal_mode", "foreign_keys", "query_only",
})
# PRAGMAs whose argument names a table or index instead of setting a value.
PRAGMAS_WITH_NAME_ARGUMENT = frozenset({
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo", "foreign_key_list",
})
_ALWAYS_ALLOWED = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE})
PROGRESS_EVERY_INSTRUCTIONS = 10_000
DENIED_MESSAGE = "not authorized"  # what SQLite says when the authorizer refuses


def _authorize(action: int, arg1: str | None, arg2: str | None, db: str | None, _trigger: str | None) -> int:
    if action in _ALWAYS_ALLOWED:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_FUNCTION:
        denied = arg2 is not None and arg2.lower() in DENIED_FUNCTIONS["sqlite"]
        return sqlite3.SQLITE_DENY if denied else sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master" and db == "main":
        # Asked when a virtual table (articles_fts) is first opened; the main file is opened
        # mode=ro and query_only, so nothing can be written there even if it were attempted.
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and arg1 is not None:
        name = arg1.lower()
        if name in READ_ONLY_PRAGMAS and (arg2 is None or name in PRAGMAS_WITH_NAME_ARGUMENT):
            return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def connect_read_only(path: Path, busy_timeout_s: float = 30.0) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True, check_same_thread=False,
                           timeout=busy_timeout_s)
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    conn.execute("PRAGMA query_only = ON")
    if hasattr(conn, "enable_load_extension"):  # absent when Python's sqlite3 was built without it
        conn.enable_load_extension(False)
    conn.set_authorizer(_authorize)
    return conn


def set_deadline(conn: sqlite3.Connection, seconds: float) -> None:
    """Interrupt any statement still running `seconds` from now (SQLite then raises 'interrupted')."""
    deadline = time.monotonic() + seconds

    def past_deadline() -> int:
        return 1 if time.monotonic() > deadline else 0

    conn.set_progress_handler(past_deadline, PROGRESS_EVERY_INSTRUCTIONS)
