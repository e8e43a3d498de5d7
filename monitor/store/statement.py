"""Is this SQL text one read-only statement? Checked before `newsmon query` sends it.

A small tokenizer that knows where string literals, quoted identifiers, dollar quotes
and comments begin and end, so that a `;`, a keyword or a function name inside them
is not mistaken for code, and one outside them is never missed. The database checks
again (a read-only transaction, a reading role, SQLite's authorizer, the extended
protocol's single statement); this check gives the clear message, and closes the
paths those cannot see (see DENIED_FUNCTIONS).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from monitor.errors import ReadOnlyQueryError

Dialect = Literal["sqlite", "postgresql"]

LEADING_KEYWORDS: dict[str, frozenset[str]] = {
    "sqlite": frozenset({"select", "with", "values", "explain", "pragma"}),
    "postgresql": frozenset({"select", "with", "values", "table", "explain", "show"}),
}
# Data-modifying keywords anywhere outside literals: a WITH … UPDATE, a SELECT … FOR UPDATE.
WRITE_KEYWORDS = frozenset({"insert", "update", "delete", "merge", "truncate"})
# Functions that change the session's role or run SQL given as a string (which this check
# cannot read). With a superuser session, set_config('role', …) undoes SET ROLE even in a
# read-only transaction; the others would run it unseen.
DENIED_FUNCTIONS: dict[str, frozenset[str]] = {
    "postgresql": frozenset({
        "set_config", "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema",
        "cursor_to_xml", "cursor_to_xmlschema", "ts_stat", "ts_rewrite",
        "dblink", "dblink_exec", "dblink_open", "dblink_send_query", "dblink_connect", "dblink_connect_u",
        "lo_import", "lo_export", "pg_reload_conf",
    }),
    "sqlite": frozenset({"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"}),
}
READ_ONLY_HINT = "newsmon query is read-only"


@dataclass(frozen=True)
class Token:
    kind: Literal["word", "identifier", "string", "semicolon", "other"]
    value: str  # words lower-cased; quoted identifiers as written between the quotes
    position: int


_WORD = re.compile(r"[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$")
_SPACE = re.compile(r"\s+")


class StatementError(ReadOnlyQueryError):
    """The SQL text is not one statement newsmon query may run."""


def _skip_block_comment(sql: str, start: int, nested: bool) -> int:
    depth, i = 1, start + 2
    while i < len(sql):
        if nested and sql.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif sql.startswith("*/", i):
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    raise StatementError(f"unterminated /* comment starting at character {start + 1}")


def _end_of_quoted(sql: str, start: int, quote: str, backslash_escapes: bool = False) -> int:
    """Index just past the closing quote; a doubled quote is one quote character."""
    i = start + 1
    while i < len(sql):
        ch = sql[i]
        if backslash_escapes and ch == "\\":
            i += 2
            continue
        if ch == quote:
            if sql.startswith(quote * 2, i):
                i += 2
                continue
            return i + 1
        i += 1
    what = "string" if quote == "'" else "quoted identifier"
    raise StatementError(f"unterminated {what} starting at character {start + 1}")


def tokenize(sql: str, dialect: Dialect) -> list[Token]:
    pg = dialect == "postgresql"
    tokens: list[Token] = []
    i = 0
    while i < len(sql):
        ch = sql[i]
        if space := _SPACE.match(sql, i):
            i = space.end()
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = len(sql) if end < 0 else end + 1
        elif sql.startswith("/*", i):
            i = _skip_block_comment(sql, i, nested=pg)
        elif ch == "'":
            end = _end_of_quoted(sql, i, "'")
            tokens.append(Token("string", sql[i + 1:end - 1], i))
            i = end
        elif ch == '"' or (not pg and ch == "`"):
            end = _end_of_quoted(sql, i, ch)
            tokens.append(Token("identifier", sql[i + 1:end - 1].replace(ch * 2, ch), i))
            i = end
        elif not pg and ch == "[":
            end = sql.find("]", i)
            if end < 0:
                raise StatementError(f"unterminated [identifier] starting at character {i + 1}")
            tokens.append(Token("identifier", sql[i + 1:end], i))
            i = end + 1
        elif pg and ch == "$" and (tag := _DOLLAR_TAG.match(sql, i)):
            end = sql.find(tag.group(0), tag.end())
            if end < 0:
                raise StatementError(f"unterminated dollar-quoted string starting at character {i + 1}")
            tokens.append(Token("string", sql[tag.end():end], i))
            i = end + len(tag.group(0))
        elif word := _WORD.match(sql, i):
            text, after = word.group(0), word.end()
            prefix = text.lower()
            if pg and prefix == "e" and sql.startswith("'", after):
                end = _end_of_quoted(sql, after, "'", backslash_escapes=True)
                tokens.append(Token("string", sql[after + 1:end - 1], i))
                i = end
            elif pg and prefix == "u" and sql.startswith('&"', after):
                # Unicode escapes could spell a denied name; nobody needs them in an archive query.
                raise StatementError(f'U&"…" identifiers are not supported (character {i + 1}); '
                                     'write the name plainly or in "double quotes"')
            else:
                tokens.append(Token("word", prefix, i))
                i = after
        elif ch == ";":
            tokens.append(Token("semicolon", ";", i))
            i += 1
        else:
            tokens.append(Token("other", ch, i))
            i += 1
    return tokens


def check_read_statement(sql: str, dialect: Dialect) -> None:
    """Raise StatementError unless `sql` is exactly one statement of an allowed kind."""
    tokens = tokenize(sql, dialect)
    statements: list[list[Token]] = [[]]
    for token in tokens:
        if token.kind == "semicolon":
            statements.append([])
        else:
            statements[-1].append(token)
    statements = [s for s in statements if s]
    if not statements:
        raise StatementError("no SQL statement given")
    if len(statements) > 1:
        raise StatementError(f"newsmon query runs one statement only; a second one starts at character "
                             f"{statements[1][0].position + 1}. Run them one at a time.")
    (statement,) = statements
    first = next((t for t in statement if t.value != "("), None)
    allowed = LEADING_KEYWORDS[dialect]
    if first is None or first.kind != "word" or first.value not in allowed:
        shown = first.value.upper() if first is not None else sql.strip()[:20]
        raise StatementError(f"{READ_ONLY_HINT}: it runs one {', '.join(sorted(k.upper() for k in allowed))} "
                             f"statement; {shown!r} is not allowed")
    for token in statement:
        name = token.value if token.kind == "identifier" else token.value.lower()
        if token.kind == "word" and name in WRITE_KEYWORDS:
            raise StatementError(f"{READ_ONLY_HINT}; this statement tries to write ({name.upper()} at character "
                                 f"{token.position + 1}). Change the archive with newsmon commands instead.")
        if token.kind in ("word", "identifier") and name in DENIED_FUNCTIONS[dialect]:
            raise StatementError(f"{READ_ONLY_HINT}; {name}() is not allowed in it (character "
                                 f"{token.position + 1}): it can change the session's privileges, "
                                 "run hidden SQL or reach outside the archive")
