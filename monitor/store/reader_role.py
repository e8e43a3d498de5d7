"""The PostgreSQL role `newsmon query` reads the archive as.

Roles are cluster-wide, so each archive database gets its own: `<database>_newsmon_reader`,
NOLOGIN, with USAGE on the archive's schema and SELECT on its tables (now and, through
default privileges, tables later migrations create). `newsmon init` creates it when the
connecting role may create roles; `newsmon query` switches to it with SET LOCAL ROLE.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from monitor.extras import import_extra

# psycopg is the postgres extra: imported when a PostgreSQL archive uses this module, not before

MAX_IDENTIFIER = 63  # PostgreSQL's NAMEDATALEN - 1
SUFFIX = "_newsmon_reader"
# Members of these may read or write server files or run programs: never query as them.
SERVER_ACCESS_ROLES = ("pg_read_server_files", "pg_write_server_files", "pg_execute_server_program")


def reader_role_name(database: str) -> str:
    name = f"{database}{SUFFIX}"
    if len(name.encode()) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha256(database.encode()).hexdigest()[:8]
    keep = MAX_IDENTIFIER - len(SUFFIX) - len(digest) - 1
    return f"{database.encode()[:keep].decode(errors='ignore')}_{digest}{SUFFIX}"


def ensure_reader_role(conn) -> str:  #- a psycopg connection in a transaction
    """Create the reader role if allowed, and grant it read access. Returns a line for the user."""
    database, schema, may_create = conn.execute(
        "SELECT current_database(), current_schema(), rolsuper OR rolcreaterole "
        "FROM pg_roles WHERE rolname = current_user").fetchone()
    role = reader_role_name(database)
    sql = import_extra("psycopg.sql")
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is not None
    if not exists:
        if not may_create:
            return (f"note: the read-only role {role} does not exist and this login may not create roles; "
                    f"`newsmon query` will refuse to run as a superuser. Create it as an administrator: "
                    f"CREATE ROLE \"{role}\" NOLOGIN; then run `newsmon init` again (see docs/archive.md)")
        conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT")
                     .format(sql.Identifier(role)))
    ident, schema_ident = sql.Identifier(role), sql.Identifier(schema)
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema_ident, ident))
    conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(schema_ident, ident))
    conn.execute(sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT ON TABLES TO {}")
                 .format(schema_ident, ident))
    return f"query role: {role} (SELECT on the archive's tables)"


@dataclass(frozen=True)
class Identity:
    login: str
    privileged: bool  # a superuser, or a member of a server-file/program role
    reader: str
    reader_exists: bool
    may_become_reader: bool


def identity(conn) -> Identity:
    database, login, superuser = conn.execute(
        "SELECT current_database(), current_user, rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    server_access = conn.execute(
        "SELECT bool_or(pg_has_role(current_user, r.oid, 'MEMBER')) FROM pg_roles r WHERE r.rolname = ANY(%s)",
        (list(SERVER_ACCESS_ROLES),)).fetchone()[0]
    reader = reader_role_name(database)
    row = conn.execute("SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles WHERE rolname = %s",
                       (reader,)).fetchone()
    return Identity(login=login, privileged=bool(superuser or server_access), reader=reader,
                    reader_exists=row is not None, may_become_reader=bool(row and row[0]))


def become_reader(conn) -> str:
    """SET LOCAL ROLE to the reader when possible; refuse to go on as a privileged login.
    Returns the role the query runs as."""
    from monitor.errors import ArchiveError

    who = identity(conn)
    if who.may_become_reader:
        sql = import_extra("psycopg.sql")
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(who.reader)))
        return who.reader
    if who.privileged:
        missing = "does not exist" if not who.reader_exists else f"is not granted to {who.login}"
        raise ArchiveError(
            f"refusing to run the query as {who.login}, which may read server files or run programs, "
            f"and the read-only role {who.reader} {missing}. Run `newsmon init` (as a role that may create "
            "roles) to create it, or set query_database_url in newsmon.yaml to a login that can only read "
            "the archive (see docs/archive.md)")
    return who.login
