"""PostgreSQL going away for a moment: every connection the daemon and its crawl worker
hold is cut (as a server restart or a failover does) while they check sources. They
reconnect (the pool pings each connection it hands out) and go on; checks finish and are
recorded, articles published meanwhile are archived, nothing is stored twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import create_engine, text

from replay.environment import newsmon_executable
from replay.feed_farm import FeedFarm
from tests.helpers.config import write_config
from tests.helpers.hostile import wait_until
from tests.helpers.postgres import PG_ADMIN_URL

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups")]

FEEDS = 6


def _count(url: str, sql: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def _cut_connections(database: str) -> int:
    """Terminate every session on `database`, as a restarting server would."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return len(conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name AND pid <> "
                "pg_backend_pid()"), {"name": database}).all())
    finally:
        admin.dispose()


def test_daemon_and_worker_reconnect_after_their_connections_are_cut(tmp_path, postgres_url):
    database = postgres_url.rsplit("/", 1)[1]
    with FeedFarm(feeds=FEEDS, hosts=3) as farm:
        for feed in range(FEEDS):
            farm.publish(feed)
        config = write_config(tmp_path / "config", {
            "database_url": postgres_url,
            "schedule": {"interval": "1h", "delivery_interval": "2s", "lag_report_every": "5s"},
            "crawl": {"obey_robots_txt": False, "autothrottle": False, "retry_times": 0, "extract_workers": 1},
        }, {f"f{n}": {"kind": "feed", "start_urls": [farm.feed_url(n)], "interval": "1s"} for n in range(FEEDS)})
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        subprocess.run([newsmon_executable(), "--config", str(config), "init"], env=env, check=True,
                       capture_output=True, timeout=120)
        daemon = subprocess.Popen([newsmon_executable(), "--config", str(config), "run"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        output: list[str] = []
        threading.Thread(target=lambda: output.extend(daemon.stdout), daemon=True).start()
        try:
            assert wait_until(lambda: _count(postgres_url, "SELECT count(*) FROM articles") == FEEDS, timeout=90), \
                "".join(output)
            for _ in range(3):  # cut, let it reconnect, cut again
                assert _cut_connections(database) > 0
                time.sleep(1.5)
            published = [farm.publish(feed) for feed in range(FEEDS)]
            runs_before = _count(postgres_url, "SELECT count(*) FROM crawl_runs WHERE status = 'ok'")
            assert wait_until(lambda: _count(postgres_url, "SELECT count(*) FROM articles") == 2 * FEEDS,
                              timeout=90), "".join(output)
            assert wait_until(lambda: _count(postgres_url, "SELECT count(*) FROM crawl_runs WHERE status = 'ok'")
                              >= runs_before + 2 * FEEDS, timeout=60), "".join(output)
            assert daemon.poll() is None, "".join(output)
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(timeout=90) == 0, "".join(output)
        finally:
            if daemon.poll() is None:
                os.killpg(daemon.pid, signal.SIGKILL)
                daemon.wait()
    stored = _count(postgres_url, "SELECT count(DISTINCT canonical_url) FROM articles")
    assert stored == _count(postgres_url, "SELECT count(*) FROM articles") == 2 * FEEDS  # none twice
    assert len(published) == FEEDS
    assert "dispatch loop failed" not in "".join(output), "".join(output)
