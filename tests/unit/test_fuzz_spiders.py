"""Fuzzing the spiders' callbacks with hostile bodies and headers: whatever a
site sends, parse_feed, parse_sitemap and parse_listing return normally
(errors are recorded, never raised) and memory stays bounded.

The callbacks run without a reactor, called directly on Scrapy responses, in
spiders wired to a real Crawler, the real RunLog and a real SQLite archive."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import AsyncIterable, Iterable

import pytest
import scrapy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response, TextResponse, XmlResponse
from scrapy.utils.test import get_crawler

from crawler.context import CrawlContext, set_context
from crawler.extensions.runlog import RunLog
from crawler.middlewares.url_guard import RedirectGuardMiddleware
from crawler.settings import build_settings
from crawler.spiders.feed import FeedSpider
from crawler.spiders.listing import ListingSpider
from crawler.spiders.sitemap import SitemapSpider
from monitor.config import load_config
from monitor.retry_after import parse_retry_after
from monitor.store.session import make_engine, session_factory

BASE = "http://127.0.0.1:9"
MAX_PEAK_BYTES = 64 * 1024 * 1024  # per callback call, for bodies of at most a few hundred KB
FUZZ = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# --- hostile material ----------------------------------------------------------------------------

PATHS = ["/dev/zero", "/dev/urandom", "/etc/passwd", "/proc/self/environ", "file:///etc/passwd",
         "file:///dev/zero", "~/.ssh/id_rsa", "C:\\Windows\\win.ini", "\\\\server\\share\\x.xml"]
URLS = PATHS + ["http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://[::1", "http://a:99999/",
                "javascript:alert(1)", "data:text/html,<p>x</p>", "ftp://example.org/x", "//evil.example/x",
                "http://127.0.0.3/a.html", "http://xn--invalid-.example/", "http://\u0000/", "https://例え.jp/記事",
                f"{BASE}/a.html", "relative/page.html", "?q=1", "#top", "http://a/" + "b" * 5000]
DATES = ["0000-00-00T00:00:00Z", "9999-12-31T23:59:59-14:00", "99999999999-01-01T00:00:00Z",
         "Mon, 01 Jan 0000 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 -1400", "2024-02-30T00:00:00Z",
         "1" * 400, "-1", "2024-13-01", "Tue, 05 Mar 2024 08:00:00 GMT", "2024-03-05T08:00:00+25:00", ""]
CONTENT_TYPES = ["application/rss+xml", "application/atom+xml", "text/xml; charset=gb2312", "text/html",
                 "text/html; charset=utf-16", "application/octet-stream", "text/plain; charset=bogus",
                 "application/xml; charset=\"utf-8", ""]
ENCODINGS = ["gzip", "deflate", "br", "gzip, gzip", "x-unknown", "identity", ""]

text = st.text(max_size=80)
url = st.one_of(st.sampled_from(URLS), text)
date = st.one_of(st.sampled_from(DATES), text)
encoding_decl = st.sampled_from(["utf-8", "gb2312", "utf-16", "bogus", "big5", "rot13", "base64", "punycode"])


@st.composite
def feed_bodies(draw) -> bytes:
    items = "".join(f"<item><title>{draw(text)}</title><link>{draw(url)}</link><pubDate>{draw(date)}</pubDate>"
                    f"<guid>{draw(url)}</guid></item>" for _ in range(draw(st.integers(0, 4))))
    entries = "".join(f'<entry><link href="{draw(url)}"/><updated>{draw(date)}</updated></entry>'
                      for _ in range(draw(st.integers(0, 2))))
    kind = draw(st.sampled_from(["rss", "atom"]))
    decl = f'<?xml version="1.0" encoding="{draw(encoding_decl)}"?>' if draw(st.booleans()) else ""
    if kind == "rss":
        doc = f'{decl}<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    else:
        doc = f'{decl}<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>{entries}</feed>'
    return doc.encode("utf-8", "surrogatepass")


@st.composite
def sitemap_bodies(draw) -> bytes:
    entries = "".join(f"<url><loc>{draw(url)}</loc><lastmod>{draw(date)}</lastmod>"
                      f"<news:news><news:publication_date>{draw(date)}</news:publication_date></news:news></url>"
                      for _ in range(draw(st.integers(0, 4))))
    children = "".join(f"<sitemap><loc>{draw(url)}</loc><lastmod>{draw(date)}</lastmod></sitemap>"
                       for _ in range(draw(st.integers(0, 3))))
    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'
    root = draw(st.sampled_from([f"<urlset {ns}>{entries}</urlset>", f"<sitemapindex {ns}>{children}</sitemapindex>"]))
    decl = f'<?xml version="1.0" encoding="{draw(encoding_decl)}"?>' if draw(st.booleans()) else ""
    return (decl + root).encode("utf-8", "surrogatepass")


@st.composite
def listing_bodies(draw) -> bytes:
    links = "".join(f'<a href="{draw(url)}">{draw(text)}</a>' for _ in range(draw(st.integers(0, 6))))
    return f"<html><head><base href=\"{draw(url)}\"></head><body>{links}</body></html>".encode("utf-8", "surrogatepass")


def nested(depth: int) -> bytes:
    return b"<rss><channel>" + b"<x>" * depth + b"</x>" * depth + b"</channel></rss>"


HOSTILE = [
    *(p.encode() for p in PATHS),
    b"", b"\x00" * 1000, b"\xff\xfe\x00\x00", b"\xef\xbb\xbf", b"\x1f\x8b\x08\x00broken gzip",
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><rss>&b;</rss>',
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><urlset><url><loc>&x;</loc></url></urlset>',
    b"<!-- " + b"x" * 70000 + b' --><!DOCTYPE r [<!ENTITY a "a">]><rss>&a;</rss>',
    "<?xml version='1.0' encoding='utf-16'?><!DOCTYPE r [<!ENTITY a 'a'>]><rss>&a;</rss>".encode("utf-16"),
    nested(5000), b"<urlset>" + b"<url>" * 5000 + b"</urlset>",
    b"<rss version='2.0'><channel><item><link>\xff\xfe\x80</link><pubDate>\x00</pubDate></item></channel></rss>",
]
bodies = st.one_of(st.sampled_from(HOSTILE), st.binary(max_size=2000))
headers = st.fixed_dictionaries({}, optional={
    "Content-Type": st.one_of(st.sampled_from(CONTENT_TYPES), text),
    "Content-Encoding": st.sampled_from(ENCODINGS),
    "Content-Location": url,
    "Retry-After": st.one_of(st.sampled_from(["١٢٠", "9" * 400, "Fri, 31 Dec 9999 23:59:59 GMT"]), text),
    "Location": url,
})
RESPONSE_CLASSES = st.sampled_from([Response, TextResponse, XmlResponse, HtmlResponse])
STATUSES = st.sampled_from([200, 200, 200, 304])


# --- spiders on a real crawler and archive ---------------------------------------------------------


@pytest.fixture
def make_spider(config_factory, migrated_sqlite):
    config = load_config(config_factory({"database_url": migrated_sqlite, "crawl": {"extract_workers": 0}}, {
        "fuzz_feed": {"kind": "feed", "start_urls": [f"{BASE}/feed.xml"]},
        "fuzz_sitemap": {"kind": "sitemap", "start_urls": [f"{BASE}/sitemap.xml"]},
        "fuzz_listing": {"kind": "listing", "start_urls": [f"{BASE}/news/"]},
    }))
    context = CrawlContext(config=config, sessions=session_factory(make_engine(config.database_url)), progress=False)
    set_context(context)

    def make(cls, name: str):
        crawler = get_crawler(cls, build_settings(config))
        spider = cls.from_crawler(crawler, source=config.sources[name])
        crawler.spider = spider
        runlog_of(spider).spider_opened(spider)
        return spider

    yield make
    context.close()
    set_context(None)


def runlog_of(spider: scrapy.Spider) -> RunLog:
    """The RunLog Scrapy built from the EXTENSIONS setting for the spider's crawler."""
    return next(ext for ext in spider.crawler.extensions.middlewares if isinstance(ext, RunLog))


def run_callback(output: Iterable | AsyncIterable | None) -> list:
    """Everything a callback yields; the listing callbacks are async generators (their archive
    lookups run off the reactor thread), so this drives them in an event loop."""
    async def drain() -> list:
        return [item async for item in output]

    return asyncio.run(drain()) if hasattr(output, "__aiter__") else list(output or ())


def call(callback, response_class, url: str, body: bytes, head: dict, status: int) -> None:
    request = Request(url, meta={"newsmon_sitemap_depth": 0})
    response = response_class(url, status=status, body=body, headers=head, request=request)
    tracemalloc.start()
    try:
        run_callback(callback(response))  # run the callback to the end
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MAX_PEAK_BYTES, f"{callback.__name__} peaked at {peak / 1e6:.0f} MB"


def test_feed_callback_survives_anything(make_spider):
    spider = make_spider(FeedSpider, "fuzz_feed")

    @FUZZ
    @given(body=st.one_of(bodies, feed_bodies()), head=headers, cls=RESPONSE_CLASSES, status=STATUSES)
    def check(body, head, cls, status):
        call(spider.parse_feed, cls, f"{BASE}/feed.xml", body, head, status)

    check()


def test_sitemap_callback_survives_anything(make_spider):
    spider = make_spider(SitemapSpider, "fuzz_sitemap")

    @FUZZ
    @given(body=st.one_of(bodies, sitemap_bodies()), head=headers, cls=RESPONSE_CLASSES, status=STATUSES)
    def check(body, head, cls, status):
        call(spider.parse_sitemap, cls, f"{BASE}/sitemap.xml", body, head, status)

    check()


def test_listing_callback_survives_anything(make_spider):
    spider = make_spider(ListingSpider, "fuzz_listing")

    @FUZZ
    @given(body=st.one_of(bodies, listing_bodies()), head=headers, cls=RESPONSE_CLASSES, status=STATUSES)
    def check(body, head, cls, status):
        call(spider.parse_listing, cls, f"{BASE}/news/", body, head, status)

    check()


@pytest.mark.parametrize("body", HOSTILE, ids=range(len(HOSTILE)))
def test_each_hostile_body_in_every_callback(make_spider, body):
    """The hand-written hostile bodies, every one through every callback and response class
    (drawn at random above, they might be missed in a run)."""
    spiders = [(make_spider(FeedSpider, "fuzz_feed"), "parse_feed", "/feed.xml"),
               (make_spider(SitemapSpider, "fuzz_sitemap"), "parse_sitemap", "/sitemap.xml"),
               (make_spider(ListingSpider, "fuzz_listing"), "parse_listing", "/news/")]
    for spider, callback, path in spiders:
        for cls in (Response, TextResponse, XmlResponse, HtmlResponse):
            call(getattr(spider, callback), cls, BASE + path, body, {"Content-Type": "text/xml"}, 200)


def test_local_path_body_never_read(make_spider, tmp_path):
    """The defect itself: a body naming a readable local feed file is parsed as text, not opened."""
    spider = make_spider(FeedSpider, "fuzz_feed")
    local = tmp_path / "feed.xml"
    local.write_text(f'<rss version="2.0"><channel><item><link>{BASE}/leak.html</link></item></channel></rss>')
    response = XmlResponse(f"{BASE}/feed.xml", body=str(local).encode(), request=Request(f"{BASE}/feed.xml"))
    assert run_callback(spider.parse_feed(response)) == []
    assert "not a valid RSS/Atom feed" in runlog_of(spider).first_error


@FUZZ
@given(location=st.one_of(url, st.binary(max_size=200)), status=st.sampled_from([301, 302, 303, 307, 308, 200]))
def test_redirect_guard_survives_any_location(location, status):
    request = Request(f"{BASE}/a.html")
    response = Response(request.url, status=status, headers={"Location": location}, request=request)
    try:
        assert RedirectGuardMiddleware().process_response(request, response) is response
    except IgnoreRequest as exc:
        assert str(exc).startswith("refused redirect")


@FUZZ
@given(value=st.one_of(st.text(max_size=200), st.binary(max_size=200), st.sampled_from(["9" * 10000, "١٢٠"])))
def test_retry_after_always_bounded(value):
    from datetime import datetime, timezone

    seconds = parse_retry_after(value, datetime.now(timezone.utc), cap=86400.0)
    assert seconds is None or 0.0 <= seconds <= 86400.0
