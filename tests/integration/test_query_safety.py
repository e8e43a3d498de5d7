"""`newsmon query` cannot write, cannot reach outside the archive and cannot run away:
escapes tried through the real CLI on a real SQLite file and the real PostgreSQL server,
connected as its superuser (the common first set-up)."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from monitor.store import sqlite_guard
from monitor.store.reader_role import reader_role_name
from replay.environment import newsmon_executable
from tests.helpers.config import write_config
from tests.helpers.postgres import fresh_database
from tests.helpers.services import need_service

MEMORY_BOUND_KB = 150 * 1024


def newsmon(config: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([newsmon_executable(), "--config", str(config), *args], capture_output=True,
                          text=True, timeout=timeout, env=os.environ.copy())


def seed(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO source_state (source) VALUES ('alpha'), ('beta')"))
    engine.dispose()


def source_count(database_url: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM source_state")).scalar_one()
    engine.dispose()
    return count


# One archive per backend for the module: the escape tests only read, and each checks
# that the archive is unchanged afterwards.
@pytest.fixture(scope="module")
def sqlite_archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("sqlite_archive")
    config = write_config(root / "config", {"database_url": f"sqlite:///{root / 'archive.sqlite3'}"})
    assert newsmon(config, "init").returncode == 0
    seed(f"sqlite:///{root / 'archive.sqlite3'}")
    return config, root / "archive.sqlite3"


@pytest.fixture(scope="module")
def module_postgres_url():
    """A fresh database for this module (conftest's postgres_url is per test), and its reader role dropped after."""
    need_service("PostgreSQL", "127.0.0.1", 5432)
    with fresh_database() as url:
        yield url


@pytest.fixture(scope="module")
def pg_archive(tmp_path_factory, module_postgres_url):
    config = write_config(tmp_path_factory.mktemp("pg_archive") / "config", {"database_url": module_postgres_url})
    init = newsmon(config, "init")
    assert init.returncode == 0, init.stderr
    assert reader_role_name(module_postgres_url.rsplit("/", 1)[1]) in init.stdout
    seed(module_postgres_url)
    return config, module_postgres_url


@pytest.fixture(params=["sqlite", "postgres"])
def any_archive(request):
    name = "sqlite_archive" if request.param == "sqlite" else "pg_archive"
    return request.getfixturevalue(name)[0]


def sqlite_state(path: Path) -> tuple:
    """What a write would change: the main file's bytes, the schema, settings and rows."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        schema = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
        settings = [conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("journal_mode", "user_version")]
        rows = conn.execute("SELECT * FROM source_state ORDER BY source").fetchall()
    finally:
        conn.close()
    return hashlib.sha256(path.read_bytes()).hexdigest(), schema, settings, rows


# --- SQLite ------------------------------------------------------------------------------

SQLITE_ESCAPES = [
    # (statement, a file it would create, if any)
    ("ATTACH DATABASE '{tmp}/attached.db' AS x", "attached.db"),
    ("ATTACH 'file:{tmp}/uri.db?mode=rwc' AS x", "uri.db"),
    ("VACUUM INTO '{tmp}/copy.db'", "copy.db"),
    ("PRAGMA journal_mode = DELETE", None),
    ("PRAGMA user_version = 5", None),
    ("INSERT INTO source_state (source) VALUES ('x')", None),
    ("UPDATE source_state SET consecutive_failures = 9", None),
    ("DELETE FROM source_state", None),
    ("CREATE TABLE t (x)", None),
    ("CREATE TEMP TABLE t (x)", None),
    ("DROP TABLE alerts", None),
    ("SELECT load_extension('{tmp}/evil')", None),
    ("SELECT writefile('{tmp}/written', 'x')", "written"),
]


@pytest.mark.parametrize(("statement", "creates"), SQLITE_ESCAPES, ids=[s for s, _ in SQLITE_ESCAPES])
def test_sqlite_escape_is_refused(sqlite_archive, tmp_path, statement, creates):
    config, path = sqlite_archive
    before = sqlite_state(path)
    out = newsmon(config, "query", statement.format(tmp=tmp_path))
    assert out.returncode == 1, out.stdout
    assert "read-only" in out.stderr and "Traceback" not in out.stderr
    assert creates is None or not (tmp_path / creates).exists()
    assert sqlite_state(path) == before


GUARD_ESCAPES = [
    "ATTACH DATABASE '{tmp}/attached.db' AS x",
    "ATTACH 'file:{tmp}/uri.db?mode=rwc' AS x",
    "VACUUM INTO '{tmp}/copy.db'",
    "VACUUM",
    "PRAGMA journal_mode = DELETE",
    "PRAGMA user_version = 5",
    "PRAGMA writable_schema = ON",
    "CREATE TEMP TABLE t (x)",
    "DELETE FROM source_state",
    "SELECT load_extension('{tmp}/evil')",
]


@pytest.mark.parametrize("statement", GUARD_ESCAPES)
def test_sqlite_connection_refuses_even_what_the_statement_check_would_miss(sqlite_archive, tmp_path, statement):
    """The connection itself (authorizer, no attached databases, query_only) is the second wall."""
    _config, path = sqlite_archive
    before = sqlite_state(path)
    conn = sqlite_guard.connect_read_only(path)
    try:
        with pytest.raises(sqlite3.DatabaseError):
            conn.execute(statement.format(tmp=tmp_path)).fetchall()
    finally:
        conn.close()
    assert list(tmp_path.iterdir()) == []
    assert sqlite_state(path) == before


def test_sqlite_reads_that_must_keep_working(sqlite_archive):
    config, _path = sqlite_archive
    fts = newsmon(config, "query", "SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'x'")
    assert fts.returncode == 0, fts.stderr
    info = newsmon(config, "query", "PRAGMA table_info(source_state)", "--format", "json")
    assert info.returncode == 0 and json.loads(info.stdout)[0]["name"] == "source"


def test_sqlite_runaway_query_times_out(sqlite_archive):
    config, _path = sqlite_archive
    forever = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    out = newsmon(config, "query", forever, "--timeout", "1s")
    assert out.returncode == 1
    assert "timed out after 1s" in out.stderr and "--timeout" in out.stderr


# --- PostgreSQL, connected as the superuser ------------------------------------------------

PG_ESCAPES = [
    # (statement, what stderr must say)
    ("COMMIT; BEGIN READ WRITE; DELETE FROM source_state", "one statement only"),
    ("SELECT 1; DELETE FROM source_state", "one statement only"),
    ("COPY (SELECT 1) TO PROGRAM 'touch {marker}'", "read-only"),
    ("SELECT pg_read_file('/etc/hostname')", "permission denied"),
    ("SELECT pg_ls_dir('.')", "permission denied"),
    ("RESET ROLE", "read-only"),
    ("SET ROLE postgres", "read-only"),
    ("SET SESSION AUTHORIZATION postgres", "read-only"),
    ("SELECT set_config('role', 'postgres', false)", "set_config"),
    ("SELECT query_to_xml('SELECT set_config(''role'', ''postgres'', true)', true, false, '')", "query_to_xml"),
    ("CREATE TABLE t (x int)", "read-only"),
    ("INSERT INTO source_state (source) VALUES ('x')", "read-only"),
    ("WITH d AS (DELETE FROM source_state RETURNING source) SELECT * FROM d", "read-only"),
    ("SELECT * INTO copied FROM source_state", "read-only"),
    ("SELECT nextval('articles_id_seq')", "read-only"),
]


@pytest.mark.parametrize(("statement", "says"), PG_ESCAPES, ids=[s for s, _ in PG_ESCAPES])
def test_postgres_escape_is_refused(pg_archive, statement, says):
    config, url = pg_archive
    marker = Path("/tmp") / f"newsmon-pwned-{uuid.uuid4().hex}"  # where the server's own user could write
    out = newsmon(config, "query", statement.format(marker=marker))
    assert out.returncode == 1, out.stdout
    assert says in out.stderr and "Traceback" not in out.stderr
    assert not marker.exists()
    assert source_count(url) == 2


def test_postgres_query_runs_as_the_reader_role(pg_archive):
    config, url = pg_archive
    out = newsmon(config, "query", "SELECT current_user AS who", "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [{"who": reader_role_name(url.rsplit("/", 1)[1])}]


def test_postgres_runaway_query_times_out(pg_archive):
    config, _url = pg_archive
    out = newsmon(config, "query", "SELECT pg_sleep(600)", "--timeout", "1s")
    assert out.returncode == 1
    assert "timed out after 1s" in out.stderr and "query.timeout" in out.stderr


def test_postgres_superuser_without_reader_role_is_refused(tmp_path, postgres_url):
    from monitor.store.session import migrate

    migrate(postgres_url)  # the archive exists, but `newsmon init` never created the reader role
    config = write_config(tmp_path / "config", {"database_url": postgres_url})
    out = newsmon(config, "query", "SELECT 1")
    assert out.returncode == 1 and out.stdout == ""
    assert "refusing to run the query as postgres" in out.stderr and "newsmon init" in out.stderr


@pytest.fixture
def analyst_login(pg_archive):
    """A login of its own for analysts, member of the reader role (as docs/archive.md sets it up)."""
    _config, url = pg_archive
    database = url.rsplit("/", 1)[1]
    login = f"analyst_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{login}" LOGIN'))
        conn.execute(text(f'GRANT "{reader_role_name(database)}" TO "{login}"'))
    try:
        yield login
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS "{login}"'))
        admin.dispose()


def test_postgres_query_database_url_reads_through_its_own_login(pg_archive, analyst_login, tmp_path):
    _config, url = pg_archive
    database = url.rsplit("/", 1)[1]
    config = write_config(tmp_path / "analyst", {
        "database_url": url,
        "query_database_url": f"postgresql+psycopg://{analyst_login}@127.0.0.1:5432/{database}",
    })
    who = newsmon(config, "query", "SELECT session_user AS login, current_user AS reads_as", "--format", "json")
    assert who.returncode == 0, who.stderr
    assert json.loads(who.stdout) == [{"login": analyst_login, "reads_as": reader_role_name(database)}]
    chained = newsmon(config, "query", "COMMIT; DELETE FROM source_state")
    assert chained.returncode == 1 and source_count(url) == 2


# --- both backends -------------------------------------------------------------------------


def test_literals_are_not_parameters(any_archive):
    out = newsmon(any_archive, "query", "SELECT '%s' AS a, ':80' AS b, 'a%b' AS c, '%%' AS d", "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [{"a": "%s", "b": ":80", "c": "a%b", "d": "%%"}]


def test_no_rows_still_has_a_header(any_archive):
    out = newsmon(any_archive, "query", "SELECT source, total_failures FROM source_state WHERE 1 = 0",
                  "--format", "csv")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "source,total_failures\n"
    empty = newsmon(any_archive, "query", "SELECT source FROM source_state WHERE 1 = 0", "--format", "json")
    assert json.loads(empty.stdout) == []


COUNT_TO = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {n}) SELECT n FROM c"


@pytest.mark.parametrize(("fmt", "rows_in_stdout"), [("table", 2 + 3), ("csv", 1 + 3), ("json", 2 + 3)])
def test_limit_stops_early_and_table_says_so(any_archive, fmt, rows_in_stdout):
    out = newsmon(any_archive, "query", COUNT_TO.format(n=100000), "--limit", "3", "--format", fmt)
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) == rows_in_stdout
    assert ("(limit 3 reached" in out.stderr) == (fmt == "table")


def test_bad_limit_and_timeout_are_usage_errors(sqlite_archive):
    config, _path = sqlite_archive
    for option, value in (("--limit", "0"), ("--limit", "many"), ("--timeout", "soon")):
        out = newsmon(config, "query", "SELECT 1", option, value)
        assert out.returncode == 2 and "Traceback" not in out.stderr, (option, value)


def peak_rss_kb(command: list[str], stdout: Path) -> int:
    """The peak resident memory of `command`, run as the only child of a fresh Python."""
    probe = ("import resource, subprocess, sys\n"
             "with open(sys.argv[1], 'wb') as out:\n"
             "    code = subprocess.run(sys.argv[2:], stdout=out).returncode\n"
             "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    done = subprocess.run([sys.executable, "-c", probe, str(stdout), *command], capture_output=True, text=True,
                          timeout=900, check=True)
    code, peak = map(int, done.stdout.split())
    assert code == 0, done.stderr
    return peak


# A million rows as csv; fewer for json and table (slower to write), still far past what
# materialising them would need (1M rows took 587 MB before rows were streamed).
@pytest.mark.parametrize(("fmt", "rows"), [("csv", 1_000_000), ("json", 300_000), ("table", 300_000)])
def test_rows_stream_in_bounded_memory(any_archive, tmp_path, fmt, rows):
    sql = COUNT_TO.format(n=rows).replace("SELECT n FROM c", "SELECT n, 'row number ' || n AS label FROM c")
    out = tmp_path / f"rows.{fmt}"
    peak = peak_rss_kb([newsmon_executable(), "--config", str(any_archive), "query", sql, "--format", fmt], out)
    with out.open("rb") as f:
        lines = sum(1 for _ in f)
    assert lines == rows + {"csv": 1, "json": 2, "table": 2}[fmt]
    print(f"peak RSS {peak // 1024} MB for {rows} rows as {fmt}")
    assert peak < MEMORY_BOUND_KB, f"peak RSS {peak // 1024} MB for {rows} rows as {fmt}"


def test_unparsable_database_url_is_shown_without_its_password(tmp_path):
    config = write_config(tmp_path / "config", {"database_url": "postgresql+psycopg://bob:hunter2@db:port/news"})
    out = newsmon(config, "query", "SELECT 1")
    assert out.returncode == 1 and "not a valid SQLAlchemy URL" in out.stderr
    assert "hunter2" not in out.stderr and "bob" not in out.stderr
