"""`newsmon init` and `newsmon query`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Iterator

from monitor.config import NewsmonConfig, parse_duration
from monitor.output import write_rows
from monitor.store.readonly import read_only_query
from monitor.store.session import ensure_query_role, migrate, parse_database_url


def cmd_init(config: NewsmonConfig, args: argparse.Namespace) -> int:
    migrate(config.database_url)
    print(f"archive ready: {parse_database_url(config.database_url).render_as_string(hide_password=True)}")
    note = ensure_query_role(config.database_url)
    if note:
        print(note)
    return 0


def duration_argument(value: str) -> float:
    """argparse type for --timeout: 30s, 5m, 1h (a bad value is a usage error, exit 2)."""
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return int(value)


class _Limited:
    """The first `limit` rows; `cut` tells afterwards whether more were left."""

    def __init__(self, rows: Iterable[tuple], limit: int | None):
        self.rows, self.limit, self.cut = iter(rows), limit, False

    def __iter__(self) -> Iterator[tuple]:
        for count, row in enumerate(self.rows, 1):
            yield row
            if self.limit is not None and count >= self.limit:
                self.cut = next(self.rows, None) is not None
                return


def cmd_query(config: NewsmonConfig, args: argparse.Namespace) -> int:
    timeout = args.timeout or config.query.timeout
    database_url = config.query_database_url or config.database_url
    try:
        with read_only_query(database_url, args.sql, timeout=timeout) as result:
            if result.headers is None:
                print("statement ran; it returns no rows")
                return 0
            rows = _Limited(result.rows, args.limit)
            write_rows(result.headers, rows, args.format, sys.stdout)
            sys.stdout.flush()
    except BrokenPipeError:
        # The reader (`| head`) has gone: stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    if rows.cut and args.format == "table":
        print(f"(limit {args.limit} reached; more rows exist)", file=sys.stderr)
    return 0
