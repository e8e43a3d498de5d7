"""benchmarks/web.py at a tiny size: it builds its archive (SQLite, and PostgreSQL when the server runs here),
serves it with `newsmon web` and prints a row per endpoint, every one answering 200. Timing targets are not
checked here (see the benchmark)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from tests.helpers.config import REPO_ROOT
from tests.helpers.postgres import PG_ADMIN_URL
from tests.helpers.services import need_service

pytestmark = pytest.mark.slow

ENDPOINTS = ["stories", "stories, page 2", "stories, language zh", "story (12 articles, revisions)", "sources",
             "search: common word", "search: Chinese", "api stories", "api stories, page 2", "api story",
             "api search: common word", "api sources"]


def _run(tmp_path, backends: str, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    out = tmp_path / "web.json"
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "web.py"), "--articles", "3000", "--backends", backends,
         "--repeat", "2", "--warmup", "1", "--cache-dir", str(tmp_path / "cache"), "--json", str(out), *extra],
        capture_output=True, text=True, timeout=600, cwd=REPO_ROOT)
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 1: a target not met (timing is not judged here)
    return done, json.loads(out.read_text(encoding="utf-8"))


def _check(done: subprocess.CompletedProcess, summary: dict, backends: list[str]) -> None:
    results = summary["results"]
    assert {r["backend"] for r in results} == set(backends)
    for backend in backends:
        mine = [r for r in results if r["backend"] == backend]
        names = [r["name"] for r in mine]
        for endpoint in ENDPOINTS:
            assert endpoint in names, (backend, endpoint, names)
        for row in mine:
            assert row["statuses"] == {"200": 2}, (backend, row)
            # the printed table has this row, with a verdict on the target
            assert any(line.startswith(backend) and row["name"] in line and "met" in line
                       for line in done.stdout.splitlines()), (backend, row["name"], done.stdout)
        assert any(r["name"].startswith("stories, big source") for r in mine)
        assert any(r["name"].startswith("api search: rare word, one story") and r["items"] for r in mine)
    assert "target 300 ms median:" in done.stdout
    for backend in backends:
        assert f"archive build, {backend}:" in done.stdout
        assert summary["archives"][backend]["articles"] == 3000


def test_web_benchmark_smoke_sqlite(tmp_path):
    done, summary = _run(tmp_path, "sqlite")
    _check(done, summary, ["sqlite"])
    assert not summary["archives"]["sqlite"]["reused"]
    again, summary = _run(tmp_path, "sqlite")  # the cached archive is used (and brought to the newest schema)
    _check(again, summary, ["sqlite"])
    assert summary["archives"]["sqlite"]["reused"]


@pytest.mark.postgres
def test_web_benchmark_smoke_postgresql(tmp_path):
    need_service("PostgreSQL", "127.0.0.1", 5432)
    database = f"newsmon_test_bench_{uuid.uuid4().hex[:10]}"
    done, summary = _run(tmp_path, "postgresql", "--admin-url", PG_ADMIN_URL, "--pg-database", database)
    _check(done, summary, ["postgresql"])
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL)
    try:
        with admin.connect() as conn:  # dropped at the end, without --keep
            assert conn.execute(text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": database}).scalar() == 0
    finally:
        admin.dispose()
