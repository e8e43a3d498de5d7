"""Distributed mode from outside, with real processes, Redis and PostgreSQL: `newsmon crawl`
and the daemon enqueue checks, `newsmon worker`s take them; a worker SIGKILLed mid-crawl
costs only time (its checks run again elsewhere, every article stored once, every story
alerted once); a worker cut off from Redis waits and goes on; SIGTERM finishes what runs;
two workers together keep one domain's concurrency limit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from replay.environment import newsmon_executable
from replay.feed_farm import FeedFarm
from replay.sinks import WebhookReceiver
from tests.helpers.config import write_config
from tests.helpers.hostile import wait_until
from tests.helpers.processes import MARKER_VARIABLE, describe, marked_processes, new_marker, wait_for_line
from tests.helpers.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.slow, pytest.mark.redis,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]


class Proc:
    """A newsmon command as a subprocess in its own process group, its output collected."""

    def __init__(self, config: Path, *args: str, marker: str):
        env = {**os.environ, MARKER_VARIABLE: marker, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([newsmon_executable(), "--config", str(config), *args], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        self.lines: list[str] = []
        self._done = threading.Event()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
        self._done.set()

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, needle: str, timeout: float = 60) -> str:
        return wait_for_line(self.lines, needle, timeout)

    def wait(self, timeout: float = 120) -> int:
        code = self.proc.wait(timeout=timeout)
        self._done.wait(10)
        return code

    def stop(self, timeout: float = 60) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def kill(self) -> None:
        """SIGKILL the whole group (the worker and its extraction processes)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()


@pytest.fixture
def marker():
    marker = new_marker()
    yield marker
    for process in marked_processes(marker):
        try:
            os.kill(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _config(root: Path, database_url: str, redis_url: str, prefix: str, sources: dict, *,
            rules: dict | None = None, channels: dict | None = None, **crawl: object) -> Path:
    config = write_config(root, {
        "database_url": database_url, "redis_url": redis_url, "redis_prefix": prefix,
        "schedule": {"interval": "1h", "delivery_interval": "1m", "lag_report_every": "5s"},
        "channels": channels or {},
        "crawl": {"obey_robots_txt": False, "retry_times": 0, "autothrottle": False, "extract_workers": 1,
                  "download_timeout": "60s", "heartbeat_timeout": "4s", **crawl},
    }, sources, rules)
    return config


def _init(config: Path) -> None:
    done = subprocess.run([newsmon_executable(), "--config", str(config), "init"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def _farm_sources(farm: FeedFarm) -> dict:
    return {f"farm{n}": {"kind": "feed", "start_urls": [farm.feed_url(n)]} for n in range(farm.feed_count)}


def _rows(database_url: str, query: str) -> list[tuple]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(query))]
    finally:
        engine.dispose()


def _assert_each_article_once(database_url: str, farm: FeedFarm) -> None:
    urls = [url for (url,) in _rows(database_url, "SELECT url FROM articles")]
    doubled = [url for url, n in Counter(urls).items() if n > 1]
    assert not doubled, doubled
    assert set(urls) == set(farm.published), set(farm.published) ^ set(urls)


def test_crawl_enqueues_and_workers_store_every_article_once(tmp_path, postgres_url, redis_url, redis_prefix,
                                                             marker):
    with FeedFarm(feeds=6, hosts=3) as farm:
        for feed in range(6):
            farm.publish_many(feed, 4)
        config = _config(tmp_path / "config", postgres_url, redis_url, redis_prefix, _farm_sources(farm))
        _init(config)
        workers = [Proc(config, "worker", marker=marker) for _ in range(2)]
        crawl = Proc(config, "crawl", marker=marker)
        assert crawl.wait() == 0, crawl.output()
        assert "24 new articles" in crawl.output()
        for n in range(6):
            assert any(line.startswith(f"farm{n} ") and " ok " in line for line in crawl.lines), crawl.output()
        _assert_each_article_once(postgres_url, farm)
        again = Proc(config, "crawl", marker=marker)  # nothing new: the feeds answer 304
        assert again.wait() == 0, again.output()
        assert "0 new articles" in again.output()
        time.sleep(1)  # idle workers wait for work instead of exiting
        assert all(w.proc.poll() is None for w in workers), [w.output() for w in workers]
        assert [w.stop() for w in workers] == [0, 0], [w.output() for w in workers]
    assert _rows(postgres_url, "SELECT count(*) FROM crawl_runs WHERE status <> 'ok'") == [(0,)]


def test_worker_killed_mid_crawl_costs_only_time(tmp_path, postgres_url, redis_url, redis_prefix, marker):
    with FeedFarm(feeds=3, hosts=3, article_latency=(1.0, 1.5)) as farm, WebhookReceiver() as hook:
        for feed in range(3):
            farm.publish_many(feed, 6)
        config = _config(tmp_path / "config", postgres_url, redis_url, redis_prefix, _farm_sources(farm),
                         channels={"hook": {"type": "webhook", "url": hook.url}},
                         rules={"everything": {"query": "officials", "channels": ["hook"]}},
                         concurrent_requests_per_domain=1)
        _init(config)
        first = Proc(config, "worker", marker=marker)
        crawl = Proc(config, "crawl", marker=marker)
        assert wait_until(lambda: sum(farm.article_hits.values()) >= 4, timeout=60), first.output()
        first.kill()  # mid-crawl: some articles stored, some in flight, most not fetched yet
        second, third = Proc(config, "worker", marker=marker), Proc(config, "worker", marker=marker)
        assert crawl.wait(timeout=180) == 0, crawl.output() + "\n" + second.output()
        _assert_each_article_once(postgres_url, farm)
        taken_over = [line for w in (second, third) for line in w.lines if "go back in the queue" in line]
        assert taken_over, second.output() + third.output()
        # Every story alerted once per rule and channel, though some sources were crawled twice.
        alerts = _rows(postgres_url, "SELECT article_id, rule, channel FROM alerts")
        assert len(alerts) == 18 and len(set(alerts)) == 18, alerts
        assert wait_until(lambda: len(hook.requests) >= 18, timeout=30)
        time.sleep(0.5)
        assert len(hook.requests) == 18
        lost = _rows(postgres_url, "SELECT source, error_summary FROM crawl_runs WHERE status = 'failed'")
        assert lost and all("heartbeat" in summary for _source, summary in lost), lost
        for worker in (second, third):
            assert worker.stop() == 0, worker.output()
    assert not marked_processes(marker), describe(marked_processes(marker))


def test_worker_cut_off_from_redis_waits_and_goes_on(tmp_path, postgres_url, redis_url, redis_prefix, marker):
    with FeedFarm(feeds=2, hosts=2, article_latency=(0.5, 1.0)) as farm, \
            TcpProxy("127.0.0.1", 6379) as proxy:
        for feed in range(2):
            farm.publish_many(feed, 8)
        sources = _farm_sources(farm)
        direct = _config(tmp_path / "direct", postgres_url, redis_url, redis_prefix, sources,
                         concurrent_requests_per_domain=1, heartbeat_timeout="20s")
        proxied_url = redis_url.replace("127.0.0.1:6379", f"127.0.0.1:{proxy.port}")
        proxied = _config(tmp_path / "proxied", postgres_url, proxied_url, redis_prefix, sources,
                          concurrent_requests_per_domain=1, heartbeat_timeout="20s")
        _init(direct)
        worker = Proc(proxied, "worker", marker=marker)
        crawl = Proc(direct, "crawl", marker=marker)
        assert wait_until(lambda: sum(farm.article_hits.values()) >= 2, timeout=60), worker.output()
        before_cut = proxy.accepted
        proxy.cut()
        time.sleep(4)  # the checks run on; their results wait for Redis
        proxy.restore()
        assert crawl.wait(timeout=120) == 0, crawl.output() + "\n" + worker.output()
        assert "16 new articles" in crawl.output()
        _assert_each_article_once(postgres_url, farm)
        assert proxy.accepted > before_cut, "the worker never reconnected: was the outage felt at all?"
        assert worker.stop() == 0, worker.output()


def test_sigterm_finishes_the_running_check_then_hands_back_what_outlasts_the_grace(
        tmp_path, postgres_url, redis_url, redis_prefix, marker):
    with FeedFarm(feeds=2, hosts=2, article_latency=(3.0, 3.0)) as farm:
        for feed in range(2):
            farm.publish_many(feed, 1)
        config = _config(tmp_path / "config", postgres_url, redis_url, redis_prefix, _farm_sources(farm),
                         stop_grace="30s")
        _init(config)
        worker = Proc(config, "worker", marker=marker)
        crawl = Proc(config, "crawl", marker=marker)
        assert wait_until(lambda: sum(farm.article_hits.values()) >= 2, timeout=60), worker.output()
        assert worker.stop() == 0, worker.output()  # the pages in flight finish first
        assert crawl.wait(timeout=60) == 0, crawl.output()
        assert "2 new articles" in crawl.output()

        farm.publish_many(0, 1)
        farm.article_latency = (30.0, 30.0)
        short = _config(tmp_path / "short", postgres_url, redis_url, redis_prefix, _farm_sources(farm),
                        stop_grace="1s")
        impatient = Proc(short, "worker", marker=marker)
        crawl = Proc(config, "crawl", "farm0", marker=marker)
        assert wait_until(lambda: sum(farm.article_hits.values()) >= 3, timeout=60), impatient.output()
        assert impatient.stop(timeout=30) == 0, impatient.output()
        assert "go back in the queue" in impatient.output()
        farm.article_latency = None
        rescuer = Proc(config, "worker", marker=marker)
        assert crawl.wait(timeout=90) == 0, crawl.output()
        assert "1 new articles" in crawl.output()
        assert rescuer.stop() == 0
    interrupted = _rows(postgres_url, "SELECT count(*) FROM crawl_runs WHERE status = 'interrupted'")
    assert interrupted == [(1,)]


class CountingSite:
    """Feeds with article pages that take a moment, counting requests in flight at once."""

    def __init__(self, host: str, feeds: int, articles: int, delay: float):
        self.in_flight = 0
        self.most = 0
        self.served = 0
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if self.path.startswith("/feed"):
                    n = int(self.path[len("/feed"):-len(".xml")])
                    items = "".join(f"<item><title>Story {n}-{a}</title><link>{site.base}/a/{n}/{a}.html</link></item>"
                                    for a in range(articles))
                    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>f</title>{items}</channel></rss>'
                    return self._send(body.encode(), "application/rss+xml")
                with site.lock:
                    site.in_flight += 1
                    site.most = max(site.most, site.in_flight)
                try:
                    time.sleep(delay)
                    words = " ".join(f"w{hash((self.path, i)) % 99991}" for i in range(200))
                    page = (f"<html><head><title>{self.path}</title></head><body><article><h1>{self.path}</h1>"
                            f"<p>{words}</p></article></body></html>")
                    self._send(page.encode(), "text/html; charset=utf-8")
                finally:
                    with site.lock:
                        site.in_flight -= 1
                        site.served += 1

            def _send(self, body: bytes, content_type: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://{host}:{self.server.server_address[1]}"
        self.feeds = feeds

    def __enter__(self) -> CountingSite:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_two_workers_together_keep_one_domains_limit(tmp_path, postgres_url, redis_url, redis_prefix, marker):
    with CountingSite("127.0.0.2", feeds=4, articles=6, delay=0.4) as site:
        sources = {f"s{n}": {"kind": "feed", "start_urls": [f"{site.base}/feed{n}.xml"]} for n in range(4)}
        config = _config(tmp_path / "config", postgres_url, redis_url, redis_prefix, sources,
                         concurrent_requests_per_domain=2, parallel_sources=4)
        _init(config)
        workers = [Proc(config, "worker", marker=marker) for _ in range(2)]
        crawl = Proc(config, "crawl", marker=marker)
        assert crawl.wait(timeout=120) == 0, crawl.output()
        assert site.served == 24
        # Four checks of one host on two workers: without the shared limiter up to 8 at once.
        assert site.most <= 2, site.most
        assert [w.stop() for w in workers] == [0, 0]


def test_daemon_enqueues_due_sources_and_alerts_once(tmp_path, postgres_url, redis_url, redis_prefix, marker):
    with FeedFarm(feeds=3, hosts=3) as farm, WebhookReceiver() as hook:
        for feed in range(3):
            farm.publish_many(feed, 2)
        config = _config(tmp_path / "config", postgres_url, redis_url, redis_prefix, _farm_sources(farm),
                         channels={"hook": {"type": "webhook", "url": hook.url}},
                         rules={"everything": {"query": "officials", "channels": ["hook"]}})
        _init(config)
        daemon = Proc(config, "run", marker=marker)
        daemon.wait_for_line("no newsmon worker is alive", timeout=30)  # says so, and waits
        worker = Proc(config, "worker", marker=marker)
        assert wait_until(lambda: len(hook.requests) >= 6, timeout=90), daemon.output() + worker.output()
        _assert_each_article_once(postgres_url, farm)
        assert daemon.stop() == 0, daemon.output()
        assert worker.stop() == 0, worker.output()
        assert len(hook.requests) == 6
        assert _rows(postgres_url, "SELECT count(*) FROM crawl_runs WHERE status = 'ok'") == [(3,)]


def _status(config: Path) -> tuple[int, dict]:
    done = subprocess.run([newsmon_executable(), "--config", str(config), "status", "--format", "json", "--check"],
                          capture_output=True, text=True, timeout=60)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def test_status_shows_the_workers_and_the_queue(tmp_path, postgres_url, redis_url, redis_prefix, marker):
    sources = {"quiet": {"kind": "feed", "start_urls": ["http://127.0.0.2:9/feed.xml"]}}
    config = _config(tmp_path / "config", postgres_url, redis_url, redis_prefix, sources, parallel_sources=5)
    _init(config)
    code, status = _status(config)
    assert code == 1 and status["distributed"] == {"workers": 0, "capacity": 0, "queued": 0, "in_flight": 0}
    assert any("no newsmon worker is alive" in p for p in status["problems"]), status["problems"]
    worker = Proc(config, "worker", marker=marker)
    worker.wait_for_line("taking checks from")
    assert wait_until(lambda: _status(config)[1]["distributed"]["workers"] == 1, timeout=30)
    assert _status(config)[1]["distributed"]["capacity"] == 5
    assert worker.stop() == 0


def test_status_says_when_redis_does_not_answer(tmp_path):
    config = write_config(tmp_path / "config", {"database_url": f"sqlite:///{tmp_path / 'a.sqlite3'}",
                                                "redis_url": "redis://127.0.0.1:1/0"})
    _init(config)
    code, status = _status(config)
    assert code == 1 and "error" in status["distributed"]
    assert any("Redis (redis_url) does not answer" in p for p in status["problems"]), status["problems"]


def test_a_retiring_worker_replaces_itself_and_goes_on(tmp_path, postgres_url, redis_url, redis_prefix, marker):
    with FeedFarm(feeds=3, hosts=3) as farm:
        for feed in range(3):
            farm.publish_many(feed, 2)
        config = _config(tmp_path / "config", postgres_url, redis_url, redis_prefix, _farm_sources(farm),
                         worker_max_checks=1, parallel_sources=1)
        _init(config)
        worker = Proc(config, "worker", marker=marker)
        crawl = Proc(config, "crawl", marker=marker)
        assert crawl.wait(timeout=120) == 0, crawl.output() + worker.output()
        assert "6 new articles" in crawl.output()
        retired = [line for line in worker.lines if "retiring" in line]
        assert len(retired) >= 2, worker.output()  # after each check: a fresh process, the same pid
        assert wait_until(lambda: sum("taking checks from" in line for line in worker.lines) > len(retired),
                          timeout=30), worker.output()  # the last fresh process is up
        assert worker.proc.poll() is None
        assert worker.stop() == 0, worker.output()
    _assert_each_article_once(postgres_url, farm)


def test_sighup_to_a_worker_reloads_a_valid_config_and_keeps_a_broken_one(tmp_path, postgres_url, redis_url,
                                                                          redis_prefix, marker):
    sources = {"one": {"kind": "feed", "start_urls": ["http://127.0.0.2:9/feed.xml"]}}
    config = _config(tmp_path / "config", postgres_url, redis_url, redis_prefix, sources)
    _init(config)
    worker = Proc(config, "worker", marker=marker)
    worker.wait_for_line("taking checks from")
    (config / "sources" / "two.yaml").write_text('{"kind": "feed", "start_urls": ["http://127.0.0.3:9/feed.xml"]}')
    worker.proc.send_signal(signal.SIGHUP)
    assert "sources added: two" in worker.wait_for_line("retiring (SIGHUP, config changed")
    assert wait_until(lambda: sum("taking checks from" in line for line in worker.lines) == 2, timeout=30)
    (config / "sources" / "three.yaml").write_text("kind: [unclosed")
    worker.proc.send_signal(signal.SIGHUP)
    assert "three.yaml" in worker.wait_for_line("config reload failed, still running the previous config")
    assert worker.proc.poll() is None
    assert worker.stop() == 0, worker.output()
