"""Pieces of the long-lived crawl worker: an interrupted run leaves a source's health alone, the process-wide
robots.txt cache and host pacer (crawler.robots_cache), and the structural copy of the Scrapy settings
(crawler.settings.CrawlSettings) that every check's crawler is made from."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import scrapy
from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings
from twisted.internet.defer import Deferred

from crawler import robots_cache
from crawler.robots_cache import ERROR_TTL, ExpiringParsers, HostPacer
from crawler.settings import PIPELINES, CrawlSettings, build_settings
from monitor.config import load_config
from monitor.source_state import FinishedRun, SourceHealth, fold_run
from monitor.statuses import RunStatus
from tests.helpers.config import write_config

EARLIER = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)
NOW = EARLIER + timedelta(hours=1)

# fold_run: an interrupted run --------------------------------------------------------------------------------------

FAILING = SourceHealth(last_run_at=EARLIER, last_success_at=EARLIER - timedelta(days=1), last_error="feed: timeout",
                       last_error_at=EARLIER, consecutive_failures=2, total_failures=5)
HEALTHY = SourceHealth(last_run_at=EARLIER, last_success_at=EARLIER, last_new_article_at=EARLIER, total_failures=1)


@pytest.mark.parametrize("before", [
    pytest.param(SourceHealth(), id="never run"),
    pytest.param(HEALTHY, id="healthy"),
    pytest.param(FAILING, id="failing streak"),
])
@pytest.mark.parametrize("run", [
    pytest.param(FinishedRun(RunStatus.INTERRUPTED, NOW), id="plain"),
    pytest.param(FinishedRun(RunStatus.INTERRUPTED, NOW, error_summary="interrupted: the newsmon process stopped"),
                 id="with an error summary"),
    pytest.param(FinishedRun(RunStatus.INTERRUPTED, NOW, new_articles=3, error_summary="x" * 10_000),
                 id="with new articles and a long error"),
])
def test_an_interrupted_run_changes_nothing(before, run):
    assert fold_run(before, run) == before


# ExpiringParsers ---------------------------------------------------------------------------------------------------

class Clock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """crawler.robots_cache's own clock (its `time` module replaced there only, not the global one)."""
    fake = Clock()
    monkeypatch.setattr(robots_cache, "time", SimpleNamespace(monotonic=fake))
    return fake


PARSER = object()  # what RobotsTxtMiddleware stores: a parsed robots.txt


@pytest.mark.parametrize("value, ttl, age, present", [
    pytest.param(PARSER, 3600.0, 0.0, True, id="parser, fresh"),
    pytest.param(PARSER, 3600.0, 3600.0, True, id="parser, at its ttl"),
    pytest.param(PARSER, 3600.0, 3600.5, False, id="parser, past its ttl"),
    pytest.param(PARSER, 60.0, 61.0, False, id="parser, short ttl"),
    pytest.param(None, 3600.0, ERROR_TTL - 1, True, id="error, fresh"),
    pytest.param(None, 3600.0, ERROR_TTL + 1, False, id="error, past ERROR_TTL: tried again sooner"),
    pytest.param(None, 60.0, 61.0, False, id="error, ttl shorter than ERROR_TTL wins"),
    pytest.param(None, 60.0, 59.0, True, id="error, within the shorter ttl"),
    pytest.param("deferred", 60.0, 10 * 3600.0, True, id="a fetch in progress never expires"),
])
def test_expiring_parsers(clock, value, ttl, age, present):
    parsers = ExpiringParsers()
    parsers.ttl = ttl
    stored = Deferred() if value == "deferred" else value
    parsers["example.org"] = stored
    clock.now += age
    assert ("example.org" in parsers) is present
    if present:
        assert parsers["example.org"] is stored
    else:  # dropped, so RobotsTxtMiddleware fetches robots.txt again
        assert len(parsers) == 0 and dict.get(parsers, "example.org") is None
        parsers["example.org"] = PARSER
        assert "example.org" in parsers


def test_expiring_parsers_unknown_host(clock):
    assert "example.org" not in ExpiringParsers()


def test_storing_again_restarts_the_ttl(clock):
    parsers = ExpiringParsers()
    parsers.ttl = 100.0
    parsers["example.org"] = Deferred()
    clock.now += 500.0  # a slow fetch
    parsers["example.org"] = PARSER  # its result replaces the Deferred
    clock.now += 90.0
    assert "example.org" in parsers
    clock.now += 20.0
    assert "example.org" not in parsers


def test_hosts_expire_independently(clock):
    parsers = ExpiringParsers()
    parsers.ttl = 100.0
    parsers["a.example"] = PARSER
    clock.now += 60.0
    parsers["b.example"] = PARSER
    clock.now += 60.0
    assert "a.example" not in parsers and "b.example" in parsers


# HostPacer ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("steps", [
    pytest.param([(0, "a", 2.0, 0.0)], id="first request goes at once"),
    pytest.param([(0, "a", 2.0, 0.0), (0, "a", 2.0, 2.0), (0, "a", 2.0, 4.0)], id="successive ones spaced by delay"),
    pytest.param([(0, "a", 2.0, 0.0), (0, "b", 2.0, 0.0), (0, "a", 2.0, 2.0), (0, "b", 2.0, 2.0)],
                 id="hosts are independent"),
    pytest.param([(0, "a", 2.0, 0.0), (1, "a", 2.0, 1.0)], id="time passed counts"),
    pytest.param([(0, "a", 2.0, 0.0), (10, "a", 2.0, 0.0), (0, "a", 2.0, 2.0)], id="idle host: at once again"),
    pytest.param([(0, "a", 5.0, 0.0), (0, "a", 1.0, 5.0), (0, "a", 1.0, 6.0)],
                 id="the slot after a request is its own delay"),
    pytest.param([(0, "a", 0.0, 0.0), (0, "a", 0.0, 0.0)], id="no delay: no wait"),
    pytest.param([(0, "a", 2.0, 0.0), (0, "a", 2.0, 2.0), (1.5, "a", 2.0, 2.5)],
                 id="reservations ahead of time stack"),
])
def test_host_pacer(clock, steps):
    pacer = HostPacer()
    for advance, host, delay, wait in steps:
        clock.now += advance
        assert pacer.reserve(host, delay) == pytest.approx(wait)


# CrawlSettings -----------------------------------------------------------------------------------------------------

@pytest.fixture
def settings(tmp_path) -> CrawlSettings:
    root = write_config(tmp_path / "config", {"database_url": f"sqlite:///{tmp_path / 'a.sqlite3'}"},
                        {"a": {"kind": "feed", "start_urls": ["http://127.0.0.1:9/feed.xml"], "interval": "60s"}})
    return CrawlSettings(build_settings(load_config(root, {})))


def snapshot(settings: BaseSettings) -> dict:
    return settings.copy_to_dict()


def priorities(settings: BaseSettings) -> dict:
    found = {}
    for name in settings.attributes:
        found[name] = settings.getpriority(name)
        if isinstance(settings[name], BaseSettings):
            found[name] = (found[name], priorities(settings[name]))
    return found


@pytest.mark.parametrize("freeze", [pytest.param(False, id="original not frozen"),
                                    pytest.param(True, id="original frozen")])
def test_copy_is_equal_and_unfrozen(settings, freeze):
    if freeze:
        settings.freeze()
    clone = settings.copy()
    assert type(clone) is CrawlSettings
    assert clone.frozen is False and settings.frozen is freeze
    assert snapshot(clone) == snapshot(settings)
    assert priorities(clone) == priorities(settings)
    clone.set("DOWNLOAD_TIMEOUT", 7)  # a copy can be changed
    assert clone.getint("DOWNLOAD_TIMEOUT") == 7 and settings.getint("DOWNLOAD_TIMEOUT") != 7


def change_nested_item(s):
    s["DOWNLOADER_MIDDLEWARES"]["x.Middleware"] = 5


def change_nested_set(s):
    s["DOWNLOADER_MIDDLEWARES"].set("crawler.middlewares.robots.SharedRobotsTxtMiddleware", None, "spider")


def replace_nested(s):
    s.set("DOWNLOADER_MIDDLEWARES", {"y.Middleware": 1}, "spider")


def delete_nested(s):
    del s["ITEM_PIPELINES"]["crawler.pipelines.store.StorePipeline"]


def change_handlers(s):
    s["DOWNLOAD_HANDLERS"]["file"] = "scrapy.core.downloader.handlers.file.FileDownloadHandler"


def append_list(s):
    s["RETRY_HTTP_CODES"].append(500)


def replace_list(s):
    s.set("RETRY_HTTP_CODES", [503], "spider")


def change_scalar(s):
    s.set("USER_AGENT", "other", "cmdline")


def add_setting(s):
    s.set("NEW_SETTING", {"k": 1})


def set_dict_via_setdict(s):
    s.setdict({"CONCURRENT_REQUESTS": 1, "EXTENSIONS": {"x.Extension": 10}}, "spider")


MUTATIONS = [
    pytest.param(change_nested_item, id="item of a component dict"),
    pytest.param(change_nested_set, id="set() in a component dict"),
    pytest.param(replace_nested, id="component dict replaced"),
    pytest.param(delete_nested, id="item deleted from ITEM_PIPELINES"),
    pytest.param(change_handlers, id="DOWNLOAD_HANDLERS item"),
    pytest.param(append_list, id="list setting appended to"),
    pytest.param(replace_list, id="list setting replaced"),
    pytest.param(change_scalar, id="plain setting"),
    pytest.param(add_setting, id="new setting"),
    pytest.param(set_dict_via_setdict, id="setdict"),
]


@pytest.mark.parametrize("mutate", MUTATIONS)
def test_changing_the_copy_leaves_the_original(settings, mutate):
    before, before_priorities = snapshot(settings), priorities(settings)
    pipelines = dict(PIPELINES)
    clone = settings.copy()
    mutate(clone)
    assert snapshot(clone) != before  # the change happened
    assert snapshot(settings) == before and priorities(settings) == before_priorities
    assert PIPELINES == pipelines  # nor the module's constants


@pytest.mark.parametrize("mutate", MUTATIONS)
def test_changing_the_original_leaves_the_copy(settings, mutate):
    clone = settings.copy()
    before = snapshot(clone)
    mutate(settings)
    assert snapshot(clone) == before


@pytest.mark.parametrize("mutate", MUTATIONS)
def test_copies_of_copies_are_independent(settings, mutate):
    first = settings.copy()
    second = first.copy()
    before = snapshot(first)
    mutate(second)
    assert snapshot(first) == before and snapshot(settings) == before


def test_frozencopy(settings):
    frozen = settings.frozencopy()
    assert frozen.frozen and not settings.frozen
    assert snapshot(frozen) == snapshot(settings)
    with pytest.raises(TypeError):
        frozen.set("DOWNLOAD_TIMEOUT", 7)
    settings.set("DOWNLOAD_TIMEOUT", 9)  # the original still can be changed
    assert frozen.getint("DOWNLOAD_TIMEOUT") != 9


class CustomSpider(scrapy.Spider):
    name = "custom"
    custom_settings = {
        "DOWNLOAD_TIMEOUT": 7,
        "DOWNLOADER_MIDDLEWARES": {"x.Middleware": 5},
        "RETRY_HTTP_CODES": [503],
    }


class PlainSpider(scrapy.Spider):
    name = "plain"


@pytest.mark.parametrize("freeze", [pytest.param(False, id="settings not frozen"),
                                    pytest.param(True, id="settings frozen")])
def test_a_crawler_can_be_made_from_the_settings(settings, freeze):
    if freeze:
        settings.freeze()
    before = snapshot(settings)
    crawler = Crawler(PlainSpider, settings)
    assert isinstance(crawler.settings, CrawlSettings) and crawler.settings is not settings
    assert snapshot(crawler.settings) == before
    assert not crawler.crawling


def test_a_spiders_custom_settings_stay_in_its_crawler(settings):
    before = snapshot(settings)
    first = Crawler(CustomSpider, settings)
    assert first.settings.getint("DOWNLOAD_TIMEOUT") == 7
    assert first.settings.getdict("DOWNLOADER_MIDDLEWARES")["x.Middleware"] == 5
    assert first.settings.getlist("RETRY_HTTP_CODES") == [503]
    assert snapshot(settings) == before  # the next check's crawler starts from the worker's settings
    second = Crawler(PlainSpider, settings)
    assert snapshot(second.settings) == before
    assert "x.Middleware" not in second.settings.getdict("DOWNLOADER_MIDDLEWARES")


def test_settings_carry_the_config_durations_newsmon_components_read(tmp_path):
    from crawler.dupefilter import RETENTION_SETTING

    config = load_config(write_config(tmp_path, {"crawl": {"seen_url_retention": "7d", "robots_txt_ttl": "2h",
                                                           "check_timeout": "5m"}}), {})
    settings = CrawlSettings(build_settings(config))
    assert settings.getfloat(RETENTION_SETTING) == 7 * 86400
    assert settings.getfloat("NEWSMON_ROBOTS_TXT_TTL") == 7200
    assert settings.getfloat("CLOSESPIDER_TIMEOUT") == 300
