"""The crawler's Scrapy idioms: retries through Scrapy's get_retry_request
(retry stats, priority, one retry count per request), the throttle mark sent
as a signal, and which components disable themselves (NotConfigured) versus
refuse to start (MissingCrawlContext). A real Crawler (stats, signals, settings)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawler import signals
from crawler.context import MissingCrawlContext, set_context
from crawler.middlewares.conditional import ConditionalRequestMiddleware
from crawler.middlewares.crawl_delay import CrawlDelayMiddleware
from crawler.middlewares.retry_after import RetryAfterMiddleware
from crawler.middlewares.url_guard import UrlGuardMiddleware
from crawler.pipelines.store import StorePipeline

URL = "http://127.0.0.1:9/feed.xml"


@pytest.fixture
def middleware():
    crawler = get_crawler(Spider, {"RETRY_PRIORITY_ADJUST": -1})
    crawler.spider = Spider.from_crawler(crawler, name="agency")
    throttled: list[datetime] = []
    crawler.signals.connect(lambda until: throttled.append(until), signal=signals.source_throttled, weak=False)
    mw = RetryAfterMiddleware(crawler, max_wait=0.0, retry_times=2)  # no real waiting in tests
    mw.throttled = throttled
    return mw


def respond(mw: RetryAfterMiddleware, request: Request, status: int, retry_after: str | None = None) -> Request | Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return asyncio.run(mw.process_response(request, Response(request.url, status=status, headers=headers,
                                                             request=request)))


# status, Retry-After, retries granted before the response is given up to the spider
CASES = [
    (503, None, 2),  # server trouble: crawl.retry_times
    (500, None, 2),
    (429, "0", 3),  # a short wait asked for: MAX_TRIES times
    (503, "0", 3),
]


@pytest.mark.parametrize(("status", "retry_after", "retries"), CASES)
def test_retries_go_through_scrapy(middleware, status, retry_after, retries):
    request = Request(URL, priority=5)
    for n in range(1, retries + 1):
        retry = respond(middleware, request, status, retry_after)
        assert isinstance(retry, Request) and retry.url == URL and retry.dont_filter
        assert retry.meta["retry_times"] == n and retry.priority == 5 - n
        request = retry
    assert isinstance(respond(middleware, request, status, retry_after), Response)  # given up
    stats = middleware.crawler.stats
    assert stats.get_value("retry/count") == retries and stats.get_value("retry/max_reached") == 1
    assert bool(middleware.throttled) is (retry_after is not None)  # asked to wait too often: marked


def test_long_retry_after_marks_the_source_throttled(middleware):
    before = datetime.now(timezone.utc)
    response = respond(middleware, Request(URL), 429, "3600")
    assert isinstance(response, Response) and response.status == 429
    until, = middleware.throttled
    assert 3500 < (until - before).total_seconds() < 3700
    assert signals.counted(middleware.crawler, "throttled") == 1
    assert middleware.crawler.stats.get_value("retry/count") is None  # not retried


def test_other_responses_pass(middleware):
    response = Response(URL, status=404, request=Request(URL))
    assert asyncio.run(middleware.process_response(response.request, response)) is response


def test_crawl_delay_disables_itself_without_robots_txt():
    with pytest.raises(NotConfigured):
        CrawlDelayMiddleware.from_crawler(get_crawler(Spider, {"ROBOTSTXT_OBEY": False}))
    assert CrawlDelayMiddleware.from_crawler(get_crawler(Spider, {"ROBOTSTXT_OBEY": True}))


@pytest.mark.parametrize("component", [UrlGuardMiddleware, ConditionalRequestMiddleware, RetryAfterMiddleware,
                                       StorePipeline])
def test_components_refuse_to_start_without_a_crawl_context(component):
    """Quietly disabled, the URL guard would let any request through and the store would drop
    every article: a missing context is an error naming the component and what to do."""
    set_context(None)
    with pytest.raises(MissingCrawlContext, match=f"{component.__name__}: .*python -m crawler"):
        component.from_crawler(get_crawler(Spider))
