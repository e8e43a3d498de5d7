"""Optional dependencies (pip extras): import them, or say which extra to install.

PostgreSQL and Redis support are extras, so a SQLite-only install works without
their drivers; a config that needs one gets a message naming the pip command
instead of a ModuleNotFoundError from deep inside SQLAlchemy.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from monitor.errors import MissingExtraError

# module -> (extra, what needs it)
EXTRAS = {
    "psycopg": ("postgres", "a PostgreSQL database_url"),
    "redis": ("redis", "redis_url (distributed crawling)"),
    "scrapy_redis": ("redis", "redis_url (distributed crawling)"),
}


def import_extra(module: str) -> ModuleType:
    """The module (e.g. "psycopg.sql"), or a MissingExtraError naming the extra that provides it."""
    top = module.partition(".")[0]
    extra, needed_by = EXTRAS[top]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"{needed_by} needs the {top} package, which is not installed ({exc}); "
            f"install it with: pip install 'newsmon[{extra}]'") from None


def require_database_driver(backend: str) -> None:
    """Fail with an install hint when the archive's backend needs an extra that is missing."""
    if backend == "postgresql":
        import_extra("psycopg")
