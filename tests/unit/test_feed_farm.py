"""replay/feed_farm.py: the feeds it lists, article latency, and the article requests it counts."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pytest

from replay.feed_farm import KEEP_ENTRIES, FeedFarm


def _get(url: str, timeout: float = 30) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def _links(farm: FeedFarm, feed: int) -> list[str]:
    channel = ET.fromstring(_get(farm.feed_url(feed))).find("channel")
    return [item.findtext("link") for item in channel.iter("item")]


def test_feed_lists_its_newest_articles_and_articles_answer():
    with FeedFarm(feeds=3, hosts=2) as farm:
        urls = [farm.publish(1) for _ in range(KEEP_ENTRIES + 5)]
        assert _links(farm, 1) == urls[::-1][:KEEP_ENTRIES]  # the default: KEEP_ENTRIES, newest first
        assert _links(farm, 0) == []
        assert b"Report" in _get(urls[0])  # no longer listed, still served
        assert _get(f"http://{farm.hosts[0]}:{farm.port}/robots.txt").startswith(b"User-agent: *")
        assert farm.checks[1] == 1 and farm.checks[0] == 1
        with pytest.raises(urllib.error.HTTPError) as missing:
            _get(f"http://{farm.hosts[0]}:{farm.port}/articles/0/999.html")
        assert missing.value.code == 404
        assert farm.article_latency is None


def test_keep_entries_and_publish_many():
    with FeedFarm(feeds=2, hosts=2, keep_entries=50) as farm:
        first = farm.publish_many(0, 30)
        assert len(first) == len(set(first)) == 30
        assert _links(farm, 0) == first[::-1]
        more = farm.publish_many(0, 30)
        assert _links(farm, 0) == (first + more)[::-1][:50]
        assert set(farm.published) == set(first + more)
        assert _links(farm, 1) == []
        assert farm.publish_many(1, 0) == []
        bodies = {_get(url) for url in (first[0], first[1], more[-1])}
        assert len(bodies) == 3  # distinct text each
    with pytest.raises(ValueError, match="keep_entries"):
        FeedFarm(feeds=1, hosts=1, keep_entries=0)


def test_article_hits_counts_each_request_of_each_article():
    with FeedFarm(feeds=2, hosts=2) as farm:
        one, two = farm.publish(0), farm.publish(1)
        for _ in range(3):
            _get(one)
        _get(two)
        _get(farm.feed_url(0))
        _get(f"http://{farm.hosts[0]}:{farm.port}/robots.txt")
        with pytest.raises(urllib.error.HTTPError):
            _get(f"http://{farm.hosts[0]}:{farm.port}/articles/0/999.html")
        assert farm.article_hits == {one: 3, two: 1}  # feeds, robots.txt and 404s not counted
        assert [url for url, hits in farm.article_hits.items() if hits > 1] == [one]


def test_article_latency_delays_article_pages_only():
    low = 1.0
    with FeedFarm(feeds=1, hosts=1, article_latency=(low, low + 0.2)) as farm:
        url = farm.publish(0)
        done: dict[str, float] = {}

        def fetch_article() -> None:
            _get(url)
            done["article"] = time.monotonic()

        started = time.monotonic()
        article = threading.Thread(target=fetch_article)
        article.start()
        time.sleep(0.05)  # the article request is in, and waiting
        _get(farm.feed_url(0))
        _get(f"http://{farm.hosts[0]}:{farm.port}/robots.txt")
        done["feed and robots.txt"] = time.monotonic()
        article.join(timeout=30)
        assert done["article"] - started >= low
        assert done["feed and robots.txt"] < done["article"]  # answered while the article still waited
        assert farm.article_hits[url] == 1


def test_hundreds_of_slow_article_requests_on_one_host_at_once():
    requests, low = 300, 0.5
    with FeedFarm(feeds=2, hosts=1, keep_entries=200, article_latency=(low, low)) as farm:
        urls = farm.publish_many(0, 150) + farm.publish_many(1, 150)
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=requests) as pool:
            pages = list(pool.map(_get, urls))
        elapsed = time.monotonic() - started
    assert all(b"Report" in page for page in pages)
    assert elapsed >= low
    assert elapsed < requests * low / 4, elapsed  # in parallel, not one after another (that would take 150 s)
    assert sum(farm.article_hits.values()) == requests


def test_article_latency_must_be_an_interval():
    for latency in ((1.0, 0.5), (-0.1, 0.2)):
        with pytest.raises(ValueError, match="article_latency"):
            FeedFarm(feeds=1, hosts=1, article_latency=latency)


def test_stopping_the_farm_ends_requests_still_waiting():
    farm = FeedFarm(feeds=1, hosts=1, article_latency=(60, 60))
    with farm:
        url = farm.publish(0)
        errors: list[BaseException] = []

        def fetch() -> None:
            try:
                _get(url, timeout=30)
            except Exception as error:  # the request must fail, not hang
                errors.append(error)

        waiting = threading.Thread(target=fetch)
        waiting.start()
        time.sleep(0.2)
    waiting.join(timeout=10)
    assert not waiting.is_alive() and errors
