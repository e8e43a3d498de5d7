"""The statement check before `newsmon query` sends SQL: one statement, a reading kind,
no denied functions, and literals, quoted names and comments read the way the database reads them."""

from __future__ import annotations

import pytest

from monitor.store.session import redact_url_text
from monitor.store.statement import StatementError, check_read_statement

BOTH = ("sqlite", "postgresql")

ALLOWED = [
    ("SELECT 1", BOTH),
    ("  select 1;  ", BOTH),
    ("SELECT 1; -- a trailing comment", BOTH),
    ("(SELECT 1) UNION (SELECT 2)", BOTH),
    ("WITH t AS (SELECT 1 AS x) SELECT x FROM t", BOTH),
    ("VALUES (1), (2)", BOTH),
    ("EXPLAIN SELECT 1", BOTH),
    ("SELECT ';' AS semicolon, 'DELETE' AS word, 'it''s' AS quote", BOTH),
    ('SELECT 1 AS "a;b", 2 AS "delete"', BOTH),
    ("SELECT 1 /* ; DELETE FROM articles */", BOTH),
    ("SELECT replace(title, 'a', 'b') FROM articles", BOTH),
    ("SELECT ':80', '%s', 'a%b'", BOTH),
    ("PRAGMA table_info(articles)", ("sqlite",)),
    ("SELECT 1 AS [x;y], 2 AS `z;w`", ("sqlite",)),
    ("SELECT $$;DELETE$$ AS d", ("postgresql",)),
    ("SELECT $tag$ ; $$ ; $tag$ AS d", ("postgresql",)),
    ("SELECT E'\\';' AS e", ("postgresql",)),
    ("SELECT 1 /* nested /* ; */ still comment ; */", ("postgresql",)),
    ("TABLE articles", ("postgresql",)),
    ("SHOW server_version", ("postgresql",)),
    ("SELECT * FROM articles FOR SHARE", ("postgresql",)),
]

REFUSED = [
    # (sql, dialects, words the message must contain)
    ("", BOTH, "no SQL statement"),
    ("-- only a comment", BOTH, "no SQL statement"),
    ("SELECT 1; SELECT 2", BOTH, "one statement only"),
    ("COMMIT; BEGIN READ WRITE; DELETE FROM articles", BOTH, "one statement only"),
    ("SELECT 'a;b'; DELETE FROM articles", BOTH, "one statement only"),
    ("SELECT 1 -- comment\n; DELETE FROM articles", BOTH, "one statement only"),
    ("DELETE FROM articles", BOTH, "read-only"),
    ("INSERT INTO source_state (source) VALUES ('x')", BOTH, "read-only"),
    ("UPDATE articles SET title = 'x'", BOTH, "read-only"),
    ("CREATE TABLE t (x int)", BOTH, "read-only"),
    ("DROP TABLE alerts", BOTH, "read-only"),
    ("ATTACH DATABASE '/tmp/x.db' AS x", BOTH, "read-only"),
    ("VACUUM INTO '/tmp/copy.db'", BOTH, "read-only"),
    ("WITH d AS (DELETE FROM articles RETURNING id) SELECT * FROM d", BOTH, "tries to write"),
    ("EXPLAIN ANALYZE DELETE FROM articles", BOTH, "tries to write"),
    ("SELECT * FROM articles FOR UPDATE", ("postgresql",), "tries to write"),
    ("COPY (SELECT 1) TO PROGRAM 'touch /tmp/x'", ("postgresql",), "read-only"),
    ("RESET ROLE", ("postgresql",), "read-only"),
    ("SET ROLE postgres", ("postgresql",), "read-only"),
    ("SET SESSION AUTHORIZATION postgres", ("postgresql",), "read-only"),
    ("DO $$ BEGIN PERFORM 1; END $$", ("postgresql",), "read-only"),
    ("SELECT set_config('role', 'postgres', false)", ("postgresql",), "set_config"),
    ("SELECT pg_catalog.SET_CONFIG('role', 'none', true)", ("postgresql",), "set_config"),
    ('SELECT "set_config"(\'role\', \'postgres\', false)', ("postgresql",), "set_config"),
    ("SELECT query_to_xml('select 1', true, false, '')", ("postgresql",), "query_to_xml"),
    ('SELECT U&"set\\005fconfig"(\'role\', \'postgres\', false)', ("postgresql",), "U&"),
    ("PRAGMA journal_mode = DELETE", ("sqlite",), "tries to write"),
    ("SELECT load_extension('/tmp/evil.so')", ("sqlite",), "load_extension"),
    ("SELECT writefile('/tmp/x', 'y')", ("sqlite",), "writefile"),
    ("SELECT 'unterminated", BOTH, "unterminated string"),
    ("SELECT 1 /* unterminated", BOTH, "unterminated"),
    ("SELECT $$ unterminated", ("postgresql",), "unterminated dollar-quoted"),
]


def _cases(table):
    return [pytest.param(row[0], dialect, *row[2:], id=f"{dialect}:{row[0][:40]}")
            for row in table for dialect in row[1]]


@pytest.mark.parametrize(("sql", "dialect"), _cases(ALLOWED))
def test_allowed(sql, dialect):
    check_read_statement(sql, dialect)


@pytest.mark.parametrize(("sql", "dialect", "says"), _cases(REFUSED))
def test_refused(sql, dialect, says):
    with pytest.raises(StatementError) as refused:
        check_read_statement(sql, dialect)
    assert says in str(refused.value)


def test_escape_string_is_read_as_postgresql_reads_it():
    # With backslash escapes, \' does not end the string: the DELETE is inside the literal.
    check_read_statement("SELECT E'it\\'s; DELETE FROM articles' AS s", "postgresql")
    # The same text in SQLite ends the string at \' and the DELETE is code.
    with pytest.raises(StatementError):
        check_read_statement("SELECT E'it\\'s; DELETE FROM articles' AS s", "sqlite")


@pytest.mark.parametrize(("text", "shown"), [
    ("postgresql+psycopg://bob:hunter2@db.example.org:5432/news", "postgresql+psycopg://***@db.example.org:5432/news"),
    ("postgresql://bob:p@ss@host/db", "postgresql://***@host/db"),
    ("postgresql://host/db?sslmode=require&password=hunter2", "postgresql://host/db?sslmode=require&password=***"),
    ("bob:hunter2@localhost/news", "***@localhost/news"),
    ("sqlite:///data/newsmon.sqlite3", "sqlite:///data/newsmon.sqlite3"),
])
def test_database_url_text_without_credentials(text, shown):
    assert redact_url_text(text) == shown
