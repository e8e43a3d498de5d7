"""ExpiringFingerprints and ExpiringRedisDupeFilter on a real Redis (database 15).

Time is the Redis server's, so expiry is tested with a short retention and real sleeps.
Each test uses its own key prefix and deletes its keys afterwards.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

redis = pytest.importorskip("redis")
pytest.importorskip("scrapy_redis")

from scrapy import Request, Spider  # noqa: E402
from scrapy.core.scheduler import Scheduler  # noqa: E402
from scrapy.utils.test import get_crawler  # noqa: E402
from scrapy_redis.scheduler import Scheduler as RedisScheduler  # noqa: E402

from crawler.dupefilter import DEFAULT_RETENTION, ExpiringRedisDupeFilter, dupefilter_key  # noqa: E402
from monitor.distributed.fingerprints import ExpiringFingerprints  # noqa: E402

pytestmark = pytest.mark.redis

RETENTION = 0.3
PAST = RETENTION + 0.1  # sleep this long for an entry to expire


class NewsSpider(Spider):
    name = "news"


@pytest.fixture
def client(redis_client: redis.Redis) -> redis.Redis:
    return redis_client


@pytest.fixture
def prefix(redis_prefix: str) -> str:
    return redis_prefix


@pytest.fixture
def seen(client: redis.Redis, prefix: str) -> ExpiringFingerprints:
    return ExpiringFingerprints(client, prefix, RETENTION)


# Steps: ("add", fingerprint, expected), ("discard", fingerprint, expected), ("sleep", seconds, None).
ADD_CASES = {
    "new": [("add", "a", True)],
    "again within retention": [("add", "a", True), ("add", "a", False)],
    "again after retention: a revisit": [("add", "a", True), ("sleep", PAST, None), ("add", "a", True)],
    "a repeat does not extend the retention": [
        ("add", "a", True), ("sleep", 0.1, None), ("add", "a", False), ("sleep", RETENTION, None), ("add", "a", True)],
    "others are independent": [("add", "a", True), ("add", "b", True), ("add", "a", False), ("add", "b", False)],
    "bytes and str are the same member": [("add", b"a", True), ("add", "a", False)],
    "discard makes it new again": [("add", "a", True), ("discard", "a", True), ("add", "a", True)],
    "discard of an unknown one": [("discard", "a", False), ("add", "a", True)],
}


@pytest.mark.parametrize("steps", ADD_CASES.values(), ids=ADD_CASES.keys())
def test_add_and_expiry(seen: ExpiringFingerprints, steps) -> None:
    for number, (action, arg, expected) in enumerate(steps):
        if action == "sleep":
            time.sleep(arg)
            continue
        result = seen.add(arg) if action == "add" else seen.discard(arg)
        assert result is expected, f"step {number}: {action} {arg!r}"


def test_add_many_in_order_one_true_per_repeat(seen: ExpiringFingerprints) -> None:
    assert seen.add_many([]) == []
    assert seen.add_many(["a", "b", "a"]) == [True, True, False]
    assert seen.add_many(iter(["a", "c"])) == [False, True]
    assert len(seen) == 3
    assert "a" in seen and "z" not in seen


def test_scores_are_server_time(seen: ExpiringFingerprints, client: redis.Redis) -> None:
    seen.add("a")
    now_s, now_us = client.time()
    assert abs(client.zscore(seen.key, "a") - (now_s + now_us / 1e6)) < 1


def test_expired_ones_are_not_counted_nor_contained(seen: ExpiringFingerprints, client: redis.Redis) -> None:
    seen.add_many(["a", "b"])
    assert len(seen) == 2 and "a" in seen
    time.sleep(PAST)
    assert len(seen) == 0 and "a" not in seen
    assert client.zcard(seen.key) == 2  # still stored until forgotten


def test_forget_expired_counts(seen: ExpiringFingerprints, client: redis.Redis) -> None:
    assert seen.forget_expired() == 0
    seen.add_many(["a", "b"])
    time.sleep(PAST)
    assert seen.forget_expired() == 2
    assert seen.forget_expired() == 0
    seen.add("c")
    assert seen.forget_expired() == 0
    assert client.zcard(seen.key) == 1


def test_add_sweeps_a_bounded_number_of_expired(seen: ExpiringFingerprints, client: redis.Redis) -> None:
    client.zadd(seen.key, {f"old{i}": 0 for i in range(100)})  # seen in 1970
    assert seen.add("new") is True
    assert client.zcard(seen.key) == 100 - ExpiringFingerprints.SWEEP_MIN + 1
    assert seen.add("old99") is True  # expired, whether swept yet or not


def test_clear(seen: ExpiringFingerprints, client: redis.Redis) -> None:
    seen.add("a")
    seen.clear()
    assert not client.exists(seen.key)
    assert seen.add("a") is True


def test_retention_must_be_positive(client: redis.Redis) -> None:
    with pytest.raises(ValueError):
        ExpiringFingerprints(client, "unused", 0)


def test_concurrent_adds_of_one_fingerprint_give_one_true(seen: ExpiringFingerprints) -> None:
    threads, rounds = 8, 20
    barrier = threading.Barrier(threads)

    def worker(_: int) -> list[bool]:
        results = []
        for round_ in range(rounds):
            barrier.wait()
            results.append(seen.add(f"fp{round_}"))
        return results

    with ThreadPoolExecutor(threads) as pool:
        per_thread = list(pool.map(worker, range(threads)))
    for round_ in range(rounds):
        assert sum(results[round_] for results in per_thread) == 1, f"round {round_}"


# The dupefilter, built from a real crawler.

def make_crawler(redis_url: str, prefix: str, **settings):
    return get_crawler(NewsSpider, {"REDIS_URL": redis_url, "DUPEFILTER_KEY": f"{prefix}:df",
                                    "NEWSMON_SEEN_URL_RETENTION": RETENTION, **settings})


@pytest.fixture
def dupefilter(redis_url: str, prefix: str) -> ExpiringRedisDupeFilter:
    return ExpiringRedisDupeFilter.from_crawler(make_crawler(redis_url, prefix))


def test_dupefilter_filters_within_retention_and_allows_revisits(dupefilter: ExpiringRedisDupeFilter) -> None:
    page = Request("https://example.com/news?id=1&b=2")
    assert dupefilter.request_seen(page) is False
    assert dupefilter.request_seen(Request("https://example.com/news?b=2&id=1")) is True  # canonical URL
    assert dupefilter.request_seen(Request("https://example.com/other")) is False
    time.sleep(PAST)
    assert dupefilter.request_seen(page) is False  # a revisit
    assert dupefilter.request_seen(page) is True


def test_dupefilter_forget_and_fingerprints(dupefilter: ExpiringRedisDupeFilter, prefix: str) -> None:
    one, two = Request("https://example.com/1"), Request("https://example.com/2")
    assert dupefilter.request_fingerprint(one) != dupefilter.request_fingerprint(two)
    assert dupefilter.request_fingerprint(one) == dupefilter.fingerprinter.fingerprint(one).hex()
    assert dupefilter.key == f"{prefix}:df" and dupefilter.fingerprints.retention == RETENTION
    dupefilter.request_seen(one)
    assert dupefilter.forget(one) is True
    assert dupefilter.request_seen(one) is False


def test_dupefilter_defaults(redis_url: str, prefix: str) -> None:
    crawler = get_crawler(NewsSpider, {"REDIS_URL": redis_url, "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:%(spider)s"})
    crawler.spider = NewsSpider.from_crawler(crawler)
    dupefilter = ExpiringRedisDupeFilter.from_crawler(crawler)
    assert dupefilter.fingerprints.retention == DEFAULT_RETENTION
    assert dupefilter.key == f"{prefix}:news"
    assert dupefilter.fingerprinter is crawler.request_fingerprinter


KEY_CASES = {
    "explicit DUPEFILTER_KEY wins": ({"DUPEFILTER_KEY": "k:%(spider)s", "SCHEDULER_DUPEFILTER_KEY": "x"}, "news",
                                     "k:news"),
    "scrapy-redis default for a spider": ({}, "news", "news:dupefilter"),
    "SCHEDULER_DUPEFILTER_KEY for a spider": ({"SCHEDULER_DUPEFILTER_KEY": "df:%(spider)s"}, "news", "df:news"),
    "no spider: scrapy-redis one-time key": ({}, None, "dupefilter:"),
}


@pytest.mark.parametrize(("settings", "spider", "expected"), KEY_CASES.values(), ids=KEY_CASES.keys())
def test_dupefilter_key(settings, spider, expected) -> None:
    from scrapy.settings import Settings

    assert dupefilter_key(Settings(settings), spider).startswith(expected)


def test_scrapy_scheduler_never_filters_dont_filter(redis_url: str, prefix: str, client: redis.Redis) -> None:
    crawler = make_crawler(redis_url, prefix, DUPEFILTER_CLASS="crawler.dupefilter.ExpiringRedisDupeFilter",
                           SCHEDULER_PRIORITY_QUEUE="scrapy.pqueues.ScrapyPriorityQueue")  # the default needs an engine
    spider = crawler.spider = NewsSpider.from_crawler(crawler)
    scheduler = Scheduler.from_crawler(crawler)
    assert isinstance(scheduler.df, ExpiringRedisDupeFilter)
    scheduler.open(spider)
    url = "https://example.com/a"
    assert scheduler.enqueue_request(Request(url)) is True
    assert scheduler.enqueue_request(Request(url)) is False
    assert scheduler.enqueue_request(Request(url, dont_filter=True)) is True
    assert crawler.stats.get_value("dupefilter/filtered") == 1
    scheduler.close("finished")
    assert client.zcard(f"{prefix}:df") == 1  # kept past the crawl, unlike scrapy-redis's filter


def test_scrapy_redis_scheduler_builds_it_from_the_spider(redis_url: str, prefix: str) -> None:
    crawler = make_crawler(redis_url, prefix, DUPEFILTER_CLASS="crawler.dupefilter.ExpiringRedisDupeFilter",
                           SCHEDULER_QUEUE_KEY=f"{prefix}:%(spider)s:requests", SCHEDULER_PERSIST=True)
    spider = crawler.spider = NewsSpider.from_crawler(crawler)
    scheduler = RedisScheduler.from_crawler(crawler)
    scheduler.open(spider)
    assert isinstance(scheduler.df, ExpiringRedisDupeFilter)
    assert scheduler.df.fingerprinter is crawler.request_fingerprinter
    assert scheduler.enqueue_request(Request("https://example.com/a")) is True
    assert scheduler.enqueue_request(Request("https://example.com/a")) is False
    assert scheduler.enqueue_request(Request("https://example.com/a", dont_filter=True)) is True
    assert len(scheduler) == 2
    scheduler.close("finished")


def test_log_like_scrapy(dupefilter: ExpiringRedisDupeFilter, redis_url: str, prefix: str, caplog) -> None:
    crawler = make_crawler(redis_url, prefix)
    spider = NewsSpider.from_crawler(crawler)
    dupefilter.stats = crawler.stats
    with caplog.at_level(logging.DEBUG, logger="crawler.dupefilter"):
        dupefilter.log(Request("https://example.com/a"), spider)
        dupefilter.log(Request("https://example.com/b"), spider)
    assert [r.getMessage() for r in caplog.records] == [
        "Filtered duplicate request: <GET https://example.com/a> - no more duplicates will be shown"
        " (see DUPEFILTER_DEBUG to show all duplicates)"]
    assert crawler.stats.get_value("dupefilter/filtered") == 2
