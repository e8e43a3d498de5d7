"""Which URLs a crawl may fetch: the pure rules (crawler.urlpolicy) as tables,
and the downloader middleware that applies them to real Scrapy requests."""

from __future__ import annotations

import asyncio

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawler import urlpolicy
from crawler.context import CrawlContext, set_context
from crawler.middlewares.url_guard import RedirectGuardMiddleware, UrlGuardMiddleware
from crawler.settings import build_settings
from crawler.spiders.feed import FeedSpider
from monitor.config import load_config
from monitor.store.session import make_engine, session_factory

SCHEMES = [
    ("http://example.org/a", None),
    ("HTTPS://example.org/a", None),
    ("file:///etc/passwd", "not an http(s) URL"),
    ("ftp://example.org/x", "not an http(s) URL"),
    ("s3://bucket/key", "not an http(s) URL"),
    ("data:text/xml,<rss/>", "not an http(s) URL"),
    ("javascript:alert(1)", "not an http(s) URL"),
    ("/relative/path", "not an http(s) URL"),
    ("http:///no-host", "no host"),
    ("http://[::1", "not a valid URL"),
    ("http://example.org:99999/", "not a valid URL"),
]


@pytest.mark.parametrize(("url", "problem"), SCHEMES)
def test_scheme_problem(url, problem):
    found = urlpolicy.scheme_problem(url)
    assert (found is None) if problem is None else (problem in found), found


ADDRESSES = [
    ("8.8.8.8", "public"),
    ("2001:4860:4860::8888", "public"),
    ("203.0.113.7", "public"),
    ("169.254.169.254", "link-local"),
    ("169.254.1.1", "link-local"),
    ("fe80::1", "link-local"),
    ("fd00:ec2::254", "link-local"),
    ("::ffff:169.254.169.254", "link-local"),
    ("100.100.100.200", "link-local"),
    ("127.0.0.1", "private"),
    ("127.0.0.3", "private"),
    ("::1", "private"),
    ("::ffff:127.0.0.1", "private"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("0.0.0.0", "private"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("100.64.0.1", "private"),
]


@pytest.mark.parametrize(("address", "kind"), ADDRESSES)
def test_classify_address(address, kind):
    assert urlpolicy.classify_address(urlpolicy.literal_address(address)) == kind


HOSTS = [
    ("example.org", ["93.184.216.34"], "public"),
    ("rebind.example", ["93.184.216.34", "127.0.0.1"], "private"),  # any address could be the one used
    ("evil.example", ["169.254.169.254"], "link-local"),
    ("metadata.google.internal", [], "link-local"),  # a metadata name, whatever it resolves to
    ("METADATA.GOOGLE.INTERNAL.", ["10.0.0.1"], "link-local"),
    ("unresolvable.example", [], "public"),  # the download fails on its own DNS error
]


@pytest.mark.parametrize(("host", "addresses", "kind"), HOSTS)
def test_classify_host(host, addresses, kind):
    assert urlpolicy.classify_host(host, addresses) == kind


# policy, kinds of the start hosts -> private targets elsewhere allowed?
PRIVATE_ALLOWED = [
    ("auto", ["public"], False),
    ("auto", ["private"], True),
    ("auto", ["public", "private"], True),
    ("auto", ["link-local"], True),
    ("allow", ["public"], True),
    ("deny", ["private"], False),
]


@pytest.mark.parametrize(("policy", "start_kinds", "allowed"), PRIVATE_ALLOWED)
def test_private_allowed(policy, start_kinds, allowed):
    assert urlpolicy.private_allowed(policy, start_kinds) is allowed


# kind, start host?, private targets allowed? -> refused?
DECISIONS = [
    ("public", False, False, False),
    ("private", False, False, True),
    ("private", False, True, False),
    ("private", True, False, False),  # the operator configured that host
    ("link-local", False, True, True),  # never from a URL a site gave us
    ("link-local", True, False, False),
]


@pytest.mark.parametrize(("kind", "start_host", "private_ok", "refused"), DECISIONS)
def test_address_problem(kind, start_host, private_ok, refused):
    problem = urlpolicy.address_problem("h", kind, start_host=start_host, private_ok=private_ok)
    assert (problem is not None) is refused


# --- the middleware on real requests -----------------------------------------------------------


@pytest.fixture(autouse=True)
def no_context_left():
    yield
    set_context(None)  # the crawl context is process-wide: leave none for other tests


def guard_for(config_factory, start_url: str, **source: object) -> UrlGuardMiddleware:
    config = load_config(config_factory({"crawl": {"extract_workers": 0}},
                                        {"src": {"kind": "feed", "start_urls": [start_url], **source}}))
    set_context(CrawlContext(config=config, sessions=session_factory(make_engine(config.database_url)),
                             progress=False))
    crawler = get_crawler(FeedSpider, build_settings(config))
    crawler.spider = FeedSpider(config.sources["src"])
    return UrlGuardMiddleware.from_crawler(crawler)


def refusal(guard: UrlGuardMiddleware, url: str, **meta: object) -> str | None:
    try:
        asyncio.run(guard.process_request(Request(url, meta=meta)))
    except IgnoreRequest as exc:
        return str(exc)
    return None


# start URL, source overrides, requested URL -> words of the refusal (None: fetched)
GUARD = [
    ("http://203.0.113.5/feed.xml", {}, "http://203.0.113.5/a.html", None),
    ("http://203.0.113.5/feed.xml", {}, "http://127.0.0.3/a.html", "private or loopback"),
    ("http://203.0.113.5/feed.xml", {}, "http://localhost:8080/a.html", "private or loopback"),  # resolved
    ("http://203.0.113.5/feed.xml", {}, "http://10.0.0.8/", "private or loopback"),
    ("http://203.0.113.5/feed.xml", {"private_addresses": "allow"}, "http://127.0.0.3/a.html", None),
    ("http://203.0.113.5/feed.xml", {}, "http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://203.0.113.5/feed.xml", {}, "http://metadata.google.internal/computeMetadata/v1/", "link-local"),
    ("http://203.0.113.5/feed.xml", {}, "http://[fd00:ec2::254]/", "link-local"),
    ("http://127.0.0.1:9/feed.xml", {}, "http://127.0.0.3/a.html", None),  # auto: the source is on loopback
    ("http://127.0.0.1:9/feed.xml", {}, "http://169.254.169.254/", "link-local"),
    ("http://127.0.0.1:9/feed.xml", {"private_addresses": "deny"}, "http://127.0.0.3/a.html", "private"),
    ("http://127.0.0.1:9/feed.xml", {"private_addresses": "deny"}, "http://127.0.0.1:9/a.html", None),
    ("http://127.0.0.1:9/feed.xml", {}, "file:///etc/passwd", "not an http(s) URL"),
]


@pytest.mark.parametrize(("start", "source", "url", "words"), GUARD)
def test_guard_on_requests(config_factory, start, source, url, words):
    found = refusal(guard_for(config_factory, start, **source), url)
    assert (found is None) if words is None else (words in found and url in found), found


def test_guard_names_the_redirect(config_factory):
    guard = guard_for(config_factory, "http://203.0.113.5/feed.xml")
    found = refusal(guard, "http://169.254.169.254/", redirect_urls=["http://203.0.113.5/a.html"])
    assert "redirected from http://203.0.113.5/a.html" in found


def test_crawl_private_policy_from_crawl_config(config_factory):
    config = load_config(config_factory({"crawl": {"private_addresses": "deny", "extract_workers": 0}},
                                        {"src": {"kind": "feed", "start_urls": ["http://127.0.0.1:9/f"]}}))
    assert config.crawl.private_addresses == "deny" and config.sources["src"].private_addresses is None


REDIRECTS = [
    (302, "file:///etc/passwd", "not an http(s) URL"),
    (301, "ftp://example.org/x", "not an http(s) URL"),
    (307, "data:text/plain,hi", "not an http(s) URL"),
    (302, "http://203.0.113.9/ok", None),  # followed, then checked by the URL guard
    (302, "/relative", None),
    (200, "file:///etc/passwd", None),  # not a redirect
]


@pytest.mark.parametrize(("status", "location", "words"), REDIRECTS)
def test_redirect_guard(status, location, words):
    guard = RedirectGuardMiddleware()
    request = Request("http://203.0.113.5/a.html")
    response = Response(request.url, status=status, headers={"Location": location}, request=request)
    try:
        guard.process_response(request, response)
        found = None
    except IgnoreRequest as exc:
        found = str(exc)
    assert (found is None) if words is None else (words in found and location in found), found
