"""Shared fixtures: temp archives, config directories, and the real services.

PostgreSQL and Redis tests skip with a reason when the server is absent,
except under CI=true, where an absent service fails the run.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.helpers.postgres import fresh_database

REPO_ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REDIS_URL = "redis://127.0.0.1:6379/15"


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def need_service(name: str, host: str, port: int) -> None:
    if _port_open(host, port):
        return
    message = f"{name} is not running on {host}:{port}"
    if IN_CI:
        pytest.fail(f"{message}; CI=true requires it")
    pytest.skip(message)


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


def write_config(root: Path, newsmon: dict, sources: dict[str, dict] | None = None,
                 rules: dict[str, dict] | None = None) -> Path:
    """A config directory as users write it: newsmon.yaml, sources/*.yaml, rules/*.yaml."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "newsmon.yaml").write_text(yaml.safe_dump(newsmon, allow_unicode=True), encoding="utf-8")
    for folder, files in (("sources", sources or {}), ("rules", rules or {})):
        (root / folder).mkdir(exist_ok=True)
        for name, data in files.items():
            (root / folder / f"{name}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return root


@pytest.fixture
def config_factory(tmp_path: Path):
    def make(newsmon: dict | None = None, sources: dict | None = None, rules: dict | None = None,
             name: str = "config") -> Path:
        base = {"database_url": f"sqlite:///{tmp_path / 'archive.sqlite3'}"}
        return write_config(tmp_path / name, {**base, **(newsmon or {})}, sources, rules)

    return make
