"""`newsmon init` and `newsmon query`."""

from __future__ import annotations

import argparse

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from monitor.config import NewsmonConfig
from monitor.errors import ArchiveError, ReadOnlyQueryError
from monitor.output import render
from monitor.store.session import make_readonly_engine, migrate

_READONLY_HINTS = ("readonly", "read-only", "read only", "attempt to write")


def cmd_init(config: NewsmonConfig, args: argparse.Namespace) -> int:
    migrate(config.database_url)
    from sqlalchemy import make_url

    print(f"archive ready: {make_url(config.database_url).render_as_string(hide_password=True)}")
    return 0


def cmd_query(config: NewsmonConfig, args: argparse.Namespace) -> int:
    engine = make_readonly_engine(config.database_url)
    try:
        with engine.connect() as conn:
            result = conn.execute(text(args.sql))
            if not result.returns_rows:
                print("statement ran; it returns no rows")
                return 0
            headers = list(result.keys())
            rows = [tuple(row) for row in result]
    except DBAPIError as exc:
        message = str(exc.orig)
        if any(hint in message.lower() for hint in _READONLY_HINTS):
            raise ReadOnlyQueryError(
                f"newsmon query is read-only; this statement tries to write ({message}). "
                "Change the archive with newsmon commands instead."
            ) from None
        raise ArchiveError(f"query failed: {message}") from None
    except SQLAlchemyError as exc:
        raise ArchiveError(f"query failed: {exc}") from None
    finally:
        engine.dispose()
    print(render(headers, rows, args.format))
    return 0
