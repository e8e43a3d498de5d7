"""Shared fixtures: temp archives, config directories, and the real services.

Fixtures only; the helpers they use, and that test modules import, live in tests/helpers/.
PostgreSQL and Redis tests skip with a reason when the server is absent,
except under CI=true, where an absent service fails the run.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.config import write_config
from tests.helpers.postgres import fresh_database
from tests.helpers.services import REDIS_URL, need_service


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'archive.sqlite3'}"


@pytest.fixture
def migrated_sqlite(sqlite_url: str) -> str:
    from monitor.store.session import migrate

    migrate(sqlite_url)
    return sqlite_url


@pytest.fixture(params=["sqlite", "postgres"])
def archive_url(request, tmp_path: Path) -> str:
    """A migrated archive on each backend: a SQLite file, and a fresh PostgreSQL database."""
    from monitor.store.session import migrate

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    migrate(url)
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    need_service("PostgreSQL", "127.0.0.1", 5432)
    with fresh_database() as url:
        yield url


@pytest.fixture
def redis_url() -> str:
    need_service("Redis", "127.0.0.1", 6379)
    return REDIS_URL


@pytest.fixture
def redis_client(redis_url: str):
    """A client on the test database of the real Redis, closed afterwards."""
    import redis

    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def redis_prefix(redis_client) -> Iterator[str]:
    """A key prefix of this test's own: every key under it is deleted afterwards."""
    prefix = f"test-newsmon:{uuid.uuid4().hex}"
    yield prefix
    keys = list(redis_client.scan_iter(match=f"{prefix}*"))
    if keys:
        redis_client.delete(*keys)


@pytest.fixture
def config_factory(tmp_path: Path):
    def make(newsmon: dict | None = None, sources: dict | None = None, rules: dict | None = None,
             name: str = "config") -> Path:
        base = {"database_url": f"sqlite:///{tmp_path / 'archive.sqlite3'}"}
        return write_config(tmp_path / name, {**base, **(newsmon or {})}, sources, rules)

    return make
