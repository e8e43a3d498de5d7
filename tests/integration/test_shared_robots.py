"""robots.txt shared through Redis in distributed mode (issue 13, item 5): two real crawl
processes on one host fetch its robots.txt once between them, and the Crawl-delay in it
reaches the process that did not fetch it. Then SharedRobotsTxtMiddleware on its own,
with a stand-in engine: a body found in Redis is used without a fetch, what a fetch got
is stored (a 4xx as allow-all, a 5xx not at all), and an unreachable Redis only means
each process fetches robots.txt itself."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from scrapy import Spider
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, TextResponse
from scrapy.utils.test import get_crawler

from crawler import robots_cache
from crawler.middlewares import robots as robots_module
from crawler.middlewares.robots import SharedRobotsTxtMiddleware
from replay.environment import newsmon_executable
from tests.helpers.config import REPO_ROOT, write_config
from tests.helpers.hostile import HostileServer, wait_until

pytestmark = pytest.mark.redis

ROBOTS = "User-agent: *\nDisallow: /private/\nCrawl-delay: 0.2\n"
ARTICLE = ("<html><head><title>Harbour reopens</title></head><body><article><h1>Harbour reopens</h1>"
           + "".join(f"<p>The harbour reopened on Monday, day {n} of the season, after repairs that took most of "
                     f"the winter; the port authority counted {n * 17} ships waiting outside.</p>" for n in range(6))
           + "</article></body></html>")


def _feed(*links: str) -> str:
    items = "".join(f"<item><title>Story {n}</title><link>{link}</link></item>" for n, link in enumerate(links))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'


class CrawlProcess:
    """`python -m crawler --config DIR SOURCE` with its stderr (the log) collected line by line."""

    def __init__(self, config: Path, source: str, log_level: str):
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "crawler", "--config", str(config), "--quiet", "--log-level", log_level, source],
            cwd=REPO_ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def log(self) -> str:
        return "\n".join(self.lines)

    def has(self, needle: str) -> bool:
        return any(needle in line for line in list(self.lines))

    def wait(self, timeout: float = 90) -> int:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _config(root: Path, name: str, site: HostileServer, redis_url: str, prefix: str) -> Path:
    """One process's config: its own archive, the shared Redis and prefix, one feed on the shared host."""
    config = write_config(root / name, {
        "database_url": f"sqlite:///{root / name / 'archive.sqlite3'}",
        "redis_url": redis_url,
        "redis_prefix": prefix,
        "crawl": {"obey_robots_txt": True, "retry_times": 0, "autothrottle": False, "extract_workers": 1,
                  "download_timeout": "30s"},
    }, {name: {"kind": "feed", "start_urls": [site.url(f"/{name}/feed.xml")]}})
    init = subprocess.run([newsmon_executable(), "--config", str(config), "init"], capture_output=True, text=True,
                          timeout=60)
    assert init.returncode == 0, init.stderr
    return config


@pytest.mark.slow
def test_two_crawl_processes_fetch_robots_txt_once_and_share_its_crawl_delay(tmp_path, redis_url, redis_prefix):
    release = threading.Event()  # robots.txt is answered only once the second process waits for it

    def held_robots():
        release.wait(60)
        yield ROBOTS.encode()

    with HostileServer("127.0.0.3") as site:
        site.route("/robots.txt", headers={"Content-Type": "text/plain"}, stream=held_robots)
        for name in ("first", "second"):
            site.route(f"/{name}/feed.xml", _feed(site.url(f"/{name}/story.html"), site.url(f"/private/{name}.html")),
                       content_type="application/rss+xml")
            site.route(f"/{name}/story.html", ARTICLE, content_type="text/html; charset=utf-8")
        first_config = _config(tmp_path, "first", site, redis_url, redis_prefix)
        second_config = _config(tmp_path, "second", site, redis_url, redis_prefix)
        first = second = None
        try:
            first = CrawlProcess(first_config, "first", "INFO")
            assert wait_until(lambda: "/robots.txt" in site.paths(), timeout=60), first.log()
            second = CrawlProcess(second_config, "second", "DEBUG")  # DEBUG: it says when it waits
            assert wait_until(lambda: second.has("is being fetched by another process"), timeout=60), second.log()
            release.set()
            assert first.wait() == 0, first.log()
            assert second.wait() == 0, second.log()
        finally:
            release.set()
            for process in (first, second):
                if process is not None:
                    process.kill()
        paths = site.paths()
    assert paths.count("/robots.txt") == 1, paths
    assert {"/first/story.html", "/second/story.html"} <= set(paths), paths  # both crawled, under its rules
    assert not any(path.startswith("/private/") for path in paths), paths  # robots.txt obeyed by both
    # The fetcher learns the Crawl-delay from the response (CrawlDelayMiddleware), the other from Redis.
    assert first.has("Crawl-delay 0.2s for 127.0.0.3"), first.log()
    assert second.has("Crawl-delay 0.2s for 127.0.0.3 (robots.txt from Redis)"), second.log()


# -- the middleware alone: a stand-in engine answers the robots.txt requests ----------------------

HOST = "127.0.0.9:8000"


class Engine:
    """What the middleware needs of Scrapy's engine: download_async, here counted and canned."""

    def __init__(self, status: int = 200, body: str = ROBOTS):
        self.status, self.body = status, body.encode()
        self.fetched: list[str] = []

    async def download_async(self, request: Request) -> TextResponse:
        self.fetched.append(request.url)
        return TextResponse(request.url, status=self.status, body=self.body, encoding="utf-8")


@pytest.fixture
def fresh_process(monkeypatch):
    """This process's robots.txt memory as a new crawl process has it."""
    monkeypatch.setattr(robots_cache, "parsers", robots_cache.ExpiringParsers())
    monkeypatch.setattr(robots_cache, "crawl_delays", {})
    monkeypatch.setattr(robots_module, "_outage", robots_module._Outage())


def middleware(engine: Engine, redis_url: str | None, prefix: str = "newsmon") -> SharedRobotsTxtMiddleware:
    settings = {"ROBOTSTXT_OBEY": True, "DOWNLOAD_TIMEOUT": 5, "USER_AGENT": "newsmon-test"}
    if redis_url:
        settings |= {"NEWSMON_REDIS_URL": redis_url, "NEWSMON_REDIS_PREFIX": prefix}
    crawler = get_crawler(Spider, settings)
    crawler.engine = engine
    crawler.spider = Spider("shared_robots")
    return SharedRobotsTxtMiddleware.from_crawler(crawler)


def allowed(mw: SharedRobotsTxtMiddleware, url: str) -> bool:
    try:
        asyncio.run(mw.process_request(Request(url)))
    except IgnoreRequest:
        return False
    return True


def test_body_found_in_redis_is_used_without_a_fetch(fresh_process, redis_url, redis_client, redis_prefix):
    redis_client.set(f"{redis_prefix}:robots:{HOST}", ROBOTS.encode())
    engine = Engine(status=500, body="")  # a fetch would allow everything
    mw = middleware(engine, redis_url, redis_prefix)
    assert allowed(mw, f"http://{HOST}/news/1.html")
    assert not allowed(mw, f"http://{HOST}/private/1.html")
    assert engine.fetched == []
    assert robots_cache.crawl_delays == {"127.0.0.9": 0.2}  # what shared_limits hands the Redis limiter


@pytest.mark.parametrize("status, body, stored", [
    (200, ROBOTS, ROBOTS.encode()),
    (404, "<html>not found</html>", b""),  # no robots.txt: stored as allow-all
    (503, "busy", None),  # not an answer: not stored, and the claim is given up
])
def test_the_fetching_process_stores_what_it_got(fresh_process, redis_url, redis_client, redis_prefix,
                                                 status, body, stored):
    engine = Engine(status=status, body=body)
    mw = middleware(engine, redis_url, redis_prefix)
    allowed(mw, f"http://{HOST}/news/1.html")
    assert engine.fetched == [f"http://{HOST}/robots.txt"]
    assert redis_client.get(f"{redis_prefix}:robots:{HOST}") == stored
    assert redis_client.exists(f"{redis_prefix}:robots:{HOST}:fetching") == 0


def test_unreachable_redis_still_crawls_with_one_warning(fresh_process, caplog):
    engine = Engine()
    mw = middleware(engine, "redis://127.0.0.1:1/0")
    with caplog.at_level(logging.WARNING, logger=robots_module.__name__):
        assert allowed(mw, "http://127.0.0.9:8000/news/1.html")
        assert not allowed(mw, "http://127.0.0.9:8000/private/1.html")
        assert allowed(mw, "http://127.0.0.10:8000/news/1.html")
    assert engine.fetched == ["http://127.0.0.9:8000/robots.txt", "http://127.0.0.10:8000/robots.txt"]
    warnings = [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1, warnings


def test_without_redis_url_nothing_changes(fresh_process):
    engine = Engine()
    mw = middleware(engine, None)
    assert mw._shared is None
    assert not allowed(mw, f"http://{HOST}/private/1.html")
    assert allowed(mw, f"http://{HOST}/news/1.html")
    assert engine.fetched == [f"http://{HOST}/robots.txt"]  # once, then from the process cache
