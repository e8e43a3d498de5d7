"""Broken sources: each failure is recorded where `newsmon status` shows it,
and the other sources go on."""

from __future__ import annotations

import sqlite3

import pytest

from replay.environment import ReplayEnvironment
from tests.helpers.config import write_config

pytestmark = pytest.mark.slow

# source name -> (path on the replay server, or a full URL; words the recorded error must contain)
BROKEN = {
    "malformed": ("/broken/feed.xml", "not a valid RSS/Atom feed"),
    "not_xml": ("/broken/notxml.xml", "not a valid RSS/Atom feed"),
    "missing": ("/status/404", "HTTP 404"),
    "server_error": ("/status/500", "HTTP 500"),
    "timeout": ("/slow/feed.xml?delay=5", "timeout"),
    "refused": ("http://127.0.0.1:9/feed.xml", "Connection"),
}


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    root = tmp_path_factory.mktemp("broken")
    db = root / "archive.sqlite3"
    with ReplayEnvironment(f"sqlite:///{db}") as world:
        base = world.site.base_url.rstrip("/")
        sources = {"xinhua_english": {"kind": "feed", "start_urls": [f"{base}/xinhua_english/feed.xml"]}}
        for name, (path, _) in BROKEN.items():
            url = path if path.startswith("http") else base + path
            sources[name] = {"kind": "feed", "start_urls": [url]}
        config = write_config(root / "config", {
            "database_url": f"sqlite:///{db}",
            "crawl": {"download_timeout": "2s", "retry_times": 0, "obey_robots_txt": False},
        }, sources)
        world.config_dir = config
        world.newsmon("init")
        crawl = world.newsmon("crawl", check=False)
        status = world.newsmon("status", "--check", check=False)
        with sqlite3.connect(db) as conn:
            state = {row[0]: row[1:] for row in conn.execute(
                "SELECT source, consecutive_failures, last_error FROM source_state")}
            articles = dict(conn.execute("SELECT source, count(*) FROM articles GROUP BY source").fetchall())
        yield crawl, status, state, articles


def test_good_source_still_crawled(outcome):
    crawl, _status, state, articles = outcome
    assert crawl.returncode == 1, "a failed source makes `crawl` exit 1"
    assert articles.get("xinhua_english", 0) >= 1
    assert state["xinhua_english"][0] == 0


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_failure_recorded(outcome, name):
    crawl, status, state, _articles = outcome
    failures, last_error = state[name]
    assert failures == 1
    assert BROKEN[name][1].lower() in last_error.lower(), last_error
    assert name in crawl.stdout


def test_status_check_flags_broken_sources(outcome):
    _crawl, status, _state, _articles = outcome
    assert status.returncode == 1
    for name in BROKEN:
        assert f"{name}: last 1 crawl(s) failed" in status.stdout
