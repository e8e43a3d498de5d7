"""An exception in a spider callback is the source's failure: Scrapy's
spider_error signal reaches the RunLog, which records it and keeps the feed's
validators from being saved (a 304 next time would hide what was not read).
A real Crawler's signal manager, the real RunLog, a real SQLite archive."""

from __future__ import annotations

import asyncio

import pytest
from scrapy import Request, signals
from scrapy.http import XmlResponse
from scrapy.utils.test import get_crawler
from sqlalchemy import select
from twisted.python.failure import Failure

from crawler import signals as newsmon_signals
from crawler.context import CrawlContext, set_context
from crawler.extensions.runlog import RunLog
from crawler.settings import build_settings
from crawler.spiders.feed import FeedSpider
from monitor.config import load_config
from monitor.store import repo
from monitor.store.models import CrawlRun, FetchError
from monitor.store.session import make_engine, session_factory, session_scope

FEED = "http://127.0.0.1:9/feed.xml"


@pytest.fixture
def crawl(config_factory, migrated_sqlite):
    config = load_config(config_factory({"database_url": migrated_sqlite, "crawl": {"extract_workers": 0}},
                                        {"agency": {"kind": "feed", "start_urls": [FEED]}}))
    context = CrawlContext(config=config, sessions=session_factory(make_engine(config.database_url)), progress=False)
    set_context(context)
    crawler = get_crawler(FeedSpider, build_settings(config))
    spider = FeedSpider.from_crawler(crawler, source=config.sources["agency"])
    crawler.spider = spider
    # The RunLog Scrapy built from the EXTENSIONS setting, its signal handlers connected.
    runlog = next(ext for ext in crawler.extensions.middlewares if isinstance(ext, RunLog))
    runlog.spider_opened(spider)
    yield crawler, spider, runlog, context
    context.close()
    set_context(None)


def crash(crawler, spider) -> None:
    try:
        raise KeyError("published")
    except KeyError:
        failure = Failure()
    response = XmlResponse(FEED, body=b"<rss/>", request=Request(FEED, callback=spider.parse_feed))
    crawler.signals.send_catch_log(signals.spider_error, failure=failure, response=response, spider=spider)


# a callback crashed? -> run status, validators kept
CASES = [(False, "ok", True), (True, "partial", False)]


@pytest.mark.parametrize(("crashed", "status", "kept"), CASES)
def test_callback_exception_is_recorded_and_blocks_validators(crawl, crashed, status, kept):
    crawler, spider, runlog, context = crawl
    newsmon_signals.report_listing_read(crawler)
    newsmon_signals.report_validators(crawler, FEED, '"v1"', None)
    if crashed:
        crash(crawler, spider)
    asyncio.run(runlog.spider_closed(spider, "finished"))
    with session_scope(context.sessions) as session:
        errors = session.scalars(select(FetchError.message).where(FetchError.source == "agency")).all()
        run = session.scalars(select(CrawlRun).where(CrawlRun.source == "agency")).one()
        assert run.status == status
        assert (repo.validators_for(session, "agency", FEED) is not None) is kept
    if crashed:
        assert len(errors) == 1 and "KeyError in parse_feed" in errors[0], errors
    else:
        assert errors == []
