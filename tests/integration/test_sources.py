"""Every discovery kind and every misbehaviour of the replay site, crawled
for real: what is fetched, what is skipped, and what is recorded."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import pytest

from replay.environment import ReplayEnvironment
from tests.helpers.config import write_config

pytestmark = pytest.mark.slow


def sources(base: str) -> dict:
    return {
        "xinhua_sitemap": {"kind": "sitemap", "start_urls": [f"{base}/xinhua_english/sitemap_index.xml"],
                           "max_sitemaps": 1},
        "portal": {"kind": "listing", "start_urls": [f"{base}/gzgov_portal/news/"],
                   "allow": [r"/news/content/post_\d+\.html$", "/private/"]},
        "old_news": {"kind": "sitemap", "start_urls": [f"{base}/xinhua_english/news_sitemap.xml"], "max_age": "1d"},
        "throttled_briefly": {"kind": "feed", "start_urls": [f"{base}/throttle/1/tech_blog/atom.xml"]},
        "flaky": {"kind": "feed", "start_urls": [f"{base}/flaky/1/contentfarm/feed.xml"]},
        "throttled_long": {"kind": "feed", "start_urls": [f"{base}/throttle-long/feed.xml"]},
        "redirect_loop": {"kind": "feed", "start_urls": [f"{base}/loop/a"]},
        "gzip_bomb": {"kind": "feed", "start_urls": [f"{base}/bomb/feed.xml"]},
        "entity_bomb": {"kind": "feed", "start_urls": [f"{base}/broken/entities.xml"]},
        "not_a_sitemap": {"kind": "sitemap", "start_urls": [f"{base}/broken/notxml.xml"]},
        "listing_no_match": {"kind": "listing", "start_urls": [f"{base}/gzgov_portal/news/"], "allow": ["/nomatch/"]},
    }


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    root = tmp_path_factory.mktemp("sources")
    db = root / "archive.sqlite3"
    with ReplayEnvironment(f"sqlite:///{db}") as world:
        base = world.site.base_url
        world.config_dir = write_config(root / "config", {
            "database_url": f"sqlite:///{db}",
            "crawl": {"download_timeout": "5s", "retry_times": 1, "max_response_bytes": 5_000_000,
                      "max_retry_after": "5s"},
        }, sources(base))
        world.newsmon("init")
        first = world.newsmon("crawl", check=False)
        first_requests = list(world.site.requests)
        bytes_first = world.site.bytes_sent
        second = world.newsmon("crawl", "xinhua_sitemap", "portal", check=False)
        second_requests = world.site.requests[len(first_requests):]
        bytes_second = world.site.bytes_sent - bytes_first
        status = world.newsmon("status", check=False)
        # Crawl-delay is per source's downloader: watch one source alone, on a fresh archive.
        mark = len(world.site.request_times)
        delay_db = root / "delay.sqlite3"
        world.database_url = f"sqlite:///{delay_db}"
        world.newsmon("init")
        world.newsmon("crawl", "portal", check=False)
        delay_times = world.site.request_times[mark:]
        world.database_url = f"sqlite:///{db}"
        with sqlite3.connect(db) as conn:
            state = {r[0]: r[1:] for r in conn.execute(
                "SELECT source, consecutive_failures, last_error, throttled_until FROM source_state")}
            articles = conn.execute("SELECT source, url, language, text FROM articles").fetchall()
        yield dict(first=first, second=second, status=status, state=state, articles=articles,
                   first_requests=first_requests, second_requests=second_requests, delay_times=delay_times,
                   bytes=(bytes_first, bytes_second))


def stored(crawled, source: str) -> list[tuple]:
    return [a for a in crawled["articles"] if a[0] == source]


def test_sitemap_index_newest_child_only(crawled):
    assert len(stored(crawled, "xinhua_sitemap")) == 3, crawled["first"].stdout
    paths = [p for p, _ in crawled["first_requests"]]
    assert "/xinhua_english/archive_2019.xml" not in paths  # max_sitemaps: 1, newest first


def test_listing_page_source_and_gbk_page_without_charset(crawled):
    portal = stored(crawled, "portal")
    assert len(portal) == 3
    zh = [a for a in portal if a[2] == "zh"]
    assert zh and "基础研究投入" in zh[0][3]


def test_robots_disallow_obeyed(crawled):
    assert not any("/private/" in p for p, _ in crawled["first_requests"])
    assert crawled["state"]["portal"][0] == 0  # a disallowed link is not a failure


def test_max_age_skips_old_entries(crawled):
    assert stored(crawled, "old_news") == []
    assert crawled["state"]["old_news"][0] == 0


def test_second_cycle_is_conditional(crawled):
    statuses = {p: s for p, s in crawled["second_requests"]}
    assert statuses["/xinhua_english/sitemap_index.xml"] == 304
    assert statuses["/gzgov_portal/news/"] == 304
    assert not any("/c.html" in p or "/content/" in p for p in statuses)  # no article refetched
    first, second = crawled["bytes"]
    assert second <= 0.05 * first


def test_short_retry_after_is_waited_out(crawled):
    assert len(stored(crawled, "throttled_briefly")) == 3
    assert crawled["state"]["throttled_briefly"][0] == 0


def test_server_error_retried_with_backoff(crawled):
    assert len(stored(crawled, "flaky")) == 3
    assert crawled["state"]["flaky"][0] == 0


def test_long_retry_after_marks_source_throttled(crawled):
    failures, error, until = crawled["state"]["throttled_long"]
    assert "throttled" in error and until is not None
    assert datetime.fromisoformat(until).replace(tzinfo=timezone.utc) > datetime.now(timezone.utc)
    assert "throttled_long (throttled)" in crawled["status"].stdout


@pytest.mark.parametrize("source, words", [
    ("redirect_loop", "redirect"),
    ("gzip_bomb", "download_maxsize"),
    ("entity_bomb", "entity declarations are not allowed"),
    ("not_a_sitemap", "not a sitemap"),
    ("listing_no_match", "no links match"),
])
def test_broken_sources_recorded(crawled, source, words):
    failures, error, _ = crawled["state"][source]
    assert words in (error or "").lower(), error


def test_crawl_delay_spaces_requests(crawled):
    """robots.txt says Crawl-delay: 0.2; once it is read, requests to the host are at least that far apart.
    (A lower bound only: a loaded machine can make gaps longer, never shorter.)"""
    times = crawled["delay_times"][1:]  # robots.txt is fetched first
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps and min(gaps) >= 0.15, sorted(gaps)[:5]
