"""The daemon's long-lived crawl workers, from outside, with real processes: a worker
SIGKILLed or hung mid-check is replaced and its check runs again (once, nothing lost);
an overloaded daemon reports its lag and starves no source; a restart keeps every
source's rhythm and never runs a source twice at once."""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from replay.environment import newsmon_executable
from replay.feed_farm import FeedFarm
from tests.helpers.config import write_config
from tests.helpers.hostile import HostileServer, wait_until
from tests.helpers.processes import MARKER_VARIABLE, describe, marked_processes, new_marker, wait_for_line

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]

ARTICLE = ("<html><head><title>Harbour reopens</title></head><body><article><h1>Harbour reopens</h1>"
           + "".join(f"<p>The harbour reopened on Monday, day {n} of the season, after repairs that took most of "
                     f"the winter; the port authority counted {n * 17} ships waiting outside.</p>" for n in range(6))
           + "</article></body></html>")


def _feed(link: str) -> str:
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>slow</title>'
            f"<item><title>Harbour reopens</title><link>{link}</link></item></channel></rss>")


class Daemon:
    """`newsmon run` as a subprocess, its output collected line by line."""

    def __init__(self, tmp_path: Path, config: Path, marker: str):
        self.db = tmp_path / "archive.sqlite3"
        self.config = config
        self.env = {**os.environ, MARKER_VARIABLE: marker, "PYTHONUNBUFFERED": "1"}
        self.marker = marker
        self.lines: list[str] = []
        self._new: queue.Queue[str | None] = queue.Queue()
        subprocess.run([newsmon_executable(), "--config", str(config), "init"], env=self.env, check=True,
                       capture_output=True, timeout=60)
        self.proc: subprocess.Popen | None = None

    def start(self, *options: str) -> Daemon:
        self.proc = subprocess.Popen([newsmon_executable(), "--config", str(self.config), "run", *options],
                                     env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._pump, args=(self.proc,), daemon=True).start()
        return self

    def _pump(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            self.lines.append(line.rstrip("\n"))
        self._new.put(None)

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, needle: str, timeout: float = 60) -> str:
        return wait_for_line(self.lines, needle, timeout)

    def workers(self) -> list[int]:
        return [p.pid for p in marked_processes(self.marker) if "--serve" in p.cmdline]

    def stop(self, timeout: float = 60) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        self._new.get(timeout=10)  # the output is read to its end
        return code

    def kill_everything(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for process in marked_processes(self.marker):
            try:
                os.kill(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def runs(self, source: str | None = None) -> list[tuple]:
        with sqlite3.connect(self.db) as conn:
            query = "SELECT source, status, started_at, finished_at, error_summary FROM crawl_runs"
            rows = conn.execute(query + (" WHERE source = ?" if source else "") + " ORDER BY id",
                                (source,) if source else ()).fetchall()
        return rows

    def status_json(self) -> dict:
        done = subprocess.run([newsmon_executable(), "--config", str(self.config), "status", "--format", "json"],
                              env=self.env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def _config(tmp_path: Path, sources: dict, **crawl: object) -> Path:
    return write_config(tmp_path / "config", {
        "database_url": f"sqlite:///{tmp_path / 'archive.sqlite3'}",
        "schedule": {"interval": "1h", "delivery_interval": "1m", "lag_report_every": "2s"},
        "crawl": {"obey_robots_txt": False, "retry_times": 0, "autothrottle": False, "extract_workers": 1,
                  "download_timeout": "60s", **crawl},
    }, sources)


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _assert_never_twice_at_once(runs: list[tuple]) -> None:
    """Each source's runs follow one another: none starts before the previous one ended."""
    by_source: dict[str, list[tuple]] = {}
    for run in runs:
        by_source.setdefault(run[0], []).append(run)
    for source, rows in by_source.items():
        for earlier, later in zip(rows, rows[1:]):
            assert earlier[3] is not None, f"{source}: a run never finished: {earlier}"
            assert _when(later[2]) >= _when(earlier[3]), f"{source}: overlapping runs {earlier} {later}"


@pytest.fixture
def marker():
    return new_marker()


def test_worker_sigkilled_mid_check_is_replaced_and_the_check_runs_again(tmp_path, marker):
    with HostileServer("127.0.0.2") as site:
        site.route("/article.html", ARTICLE, content_type="text/html; charset=utf-8")
        site.route("/feed.xml", _feed(site.url("/article.html")), content_type="application/rss+xml", delay=30)
        daemon = Daemon(tmp_path, _config(tmp_path, {"slow": {"kind": "feed", "start_urls": [site.url("/feed.xml")]}},
                                          heartbeat_timeout="60s"), marker)
        try:
            daemon.start()
            wait_until(lambda: any(path == "/feed.xml" for _m, path, _h in site.requests), timeout=60)
            first = daemon.workers()
            assert len(first) == 1, describe(marked_processes(marker))
            site.route("/feed.xml", _feed(site.url("/article.html")), content_type="application/rss+xml")
            os.kill(first[0], signal.SIGKILL)  # mid-check: the feed has not answered yet
            daemon.wait_for_line(f"crawl worker {first[0]} died")
            daemon.wait_for_line("crawl slow: ok, 1 new articles")
            replacement = daemon.workers()
            assert replacement and replacement != first
            assert daemon.stop() == 0, daemon.output()
        finally:
            daemon.kill_everything()
        runs = daemon.runs("slow")
        statuses = [status for _s, status, *_rest in runs]
        assert statuses == ["failed", "ok"], runs  # the lost check is recorded, then checked once more
        assert "died" in runs[0][4] and "checked again" in runs[0][4]
        _assert_never_twice_at_once(runs)
        with sqlite3.connect(daemon.db) as conn:
            assert conn.execute("SELECT url FROM articles").fetchall() == [(site.url("/article.html"),)]
        feed_fetches = [path for _m, path, _h in site.requests if path == "/feed.xml"]
        assert len(feed_fetches) == 2, site.requests  # the killed check and the one that replaced it


def test_hung_worker_is_killed_at_its_heartbeat_timeout_and_the_next_check_runs(tmp_path, marker):
    with FeedFarm(feeds=2, hosts=2) as farm:
        for feed in range(2):
            farm.publish(feed)
        sources = {f"farm{n}": {"kind": "feed", "start_urls": [farm.feed_url(n)], "interval": "2s"} for n in range(2)}
        daemon = Daemon(tmp_path, _config(tmp_path, sources, heartbeat_timeout="4s"), marker)
        try:
            daemon.start()
            wait_until(lambda: min(farm.checks[n] for n in range(2)) >= 2, timeout=60)
            hung = daemon.workers()
            assert len(hung) == 1
            os.kill(hung[0], signal.SIGSTOP)  # alive, holding its pipes, saying nothing: hung
            stopped_at = sum(farm.checks.values())
            line = daemon.wait_for_line(f"crawl worker {hung[0]}: no heartbeat", timeout=30)
            assert "crawl.heartbeat_timeout" in line
            wait_until(lambda: sum(farm.checks.values()) >= stopped_at + 4, timeout=60)
            assert hung[0] not in daemon.workers()
            assert daemon.stop() == 0, daemon.output()
        finally:
            daemon.kill_everything()
        _assert_never_twice_at_once(daemon.runs())
        assert not marked_processes(marker), describe(marked_processes(marker))


def test_overloaded_daemon_reports_lag_and_starves_no_source(tmp_path, marker):
    feeds = 200
    with FeedFarm(feeds=feeds, hosts=10) as farm:
        for feed in range(feeds):
            farm.publish(feed)
        sources = {f"f{n:03d}": {"kind": "feed", "start_urls": [farm.feed_url(n)], "interval": "1s"}
                   for n in range(feeds)}
        daemon = Daemon(tmp_path, _config(tmp_path, sources, parallel_sources=4), marker)
        try:
            daemon.start()
            daemon.wait_for_line("schedule lag:", timeout=60)
            wait_until(lambda: min(farm.checks[n] for n in range(feeds)) >= 3, timeout=120)
            status = daemon.status_json()
            assert daemon.stop() == 0, daemon.output()
        finally:
            daemon.kill_everything()
        schedule = status["schedule"]
        assert schedule["sources"] == feeds
        assert schedule["overdue"] > 0 and schedule["max_lag_seconds"] > 0, schedule
        assert schedule["oldest_overdue_source"] in sources
        counts = [farm.checks[n] for n in range(feeds)]
        assert max(counts) - min(counts) <= 3, counts  # served in turn, oldest due first
        _assert_never_twice_at_once(daemon.runs())


def test_restart_mid_cycle_keeps_each_sources_rhythm(tmp_path, marker):
    feeds, interval = 12, 6.0
    with FeedFarm(feeds=feeds, hosts=3) as farm:
        for feed in range(feeds):
            farm.publish(feed)
        sources = {f"f{n:02d}": {"kind": "feed", "start_urls": [farm.feed_url(n)], "interval": f"{interval:g}s"}
                   for n in range(feeds)}
        daemon = Daemon(tmp_path, _config(tmp_path, sources, stop_grace="10s"), marker)
        try:
            daemon.start()
            wait_until(lambda: min(farm.checks[n] for n in range(feeds)) >= 2, timeout=60)
            time.sleep(interval / 2)  # mid-cycle: between two checks of every source
            assert daemon.stop() == 0, daemon.output()
            with sqlite3.connect(daemon.db) as conn:
                due = {source: _when(at) for source, at in conn.execute(
                    "SELECT source, next_check_at FROM source_state")}
            stopped = {source: len(daemon.runs(source)) for source in sources}
            daemon.start()
            wait_until(lambda: all(len(daemon.runs(s)) >= stopped[s] + 2 for s in sources), timeout=60)
            assert daemon.stop() == 0, daemon.output()
        finally:
            daemon.kill_everything()
        for source in sources:
            runs = daemon.runs(source)
            first_after = runs[stopped[source]]
            # Not all at once at start: each source waited for the due time the archive kept.
            assert _when(first_after[2]) >= due[source].replace(microsecond=0), (source, due[source], runs)
            starts = [_when(r[2]) for r in runs if r[1] != "interrupted"]
            gaps = [(b - a).total_seconds() for a, b in zip(starts, starts[1:])]
            assert max(gaps) < 2 * interval + 2, (source, gaps)
        _assert_never_twice_at_once(daemon.runs())


@pytest.mark.parametrize(("limit", "reason"), [
    pytest.param({"worker_max_checks": 3}, "checks done (crawl.worker_max_checks)", id="max checks"),
    pytest.param({"worker_max_memory": 64}, "MiB resident (crawl.worker_max_memory", id="max memory"),
])
def test_worker_retires_at_its_limit_and_a_fresh_one_takes_over(tmp_path, marker, limit, reason):
    with FeedFarm(feeds=2, hosts=2) as farm:
        for feed in range(2):
            farm.publish(feed)
        sources = {f"farm{n}": {"kind": "feed", "start_urls": [farm.feed_url(n)], "interval": "1s"} for n in range(2)}
        daemon = Daemon(tmp_path, _config(tmp_path, sources, **limit), marker)
        try:
            daemon.start()
            first = daemon.wait_for_line("retiring (")
            assert reason in first, first
            retired_pid = int(first.split("crawl worker ")[1].split()[0])
            wait_until(lambda: daemon.workers() and retired_pid not in daemon.workers(), timeout=60)
            checked = sum(farm.checks.values())
            wait_until(lambda: sum(farm.checks.values()) >= checked + 4, timeout=60)  # the fresh worker checks on
            assert daemon.stop() == 0, daemon.output()
        finally:
            daemon.kill_everything()
        runs = daemon.runs()
        assert runs and [r for r in runs if r[1] != "ok"] == [], daemon.output()  # no check lost to a retirement
        _assert_never_twice_at_once(runs)
        assert "died" not in daemon.output()


def test_two_workers_share_the_sources_and_one_dying_leaves_the_other_working(tmp_path, marker):
    feeds = 10
    with FeedFarm(feeds=feeds, hosts=10) as farm:
        for feed in range(feeds):
            farm.publish(feed)
        sources = {f"f{n}": {"kind": "feed", "start_urls": [farm.feed_url(n)], "interval": "1s"} for n in range(feeds)}
        daemon = Daemon(tmp_path, _config(tmp_path, sources, workers=2), marker)
        try:
            daemon.start()
            wait_until(lambda: len(daemon.workers()) == 2 and min(farm.checks[n] for n in range(feeds)) >= 2,
                       timeout=60)
            victim = daemon.workers()[0]
            os.kill(victim, signal.SIGKILL)
            daemon.wait_for_line(f"crawl worker {victim} died")
            before = [farm.checks[n] for n in range(feeds)]
            wait_until(lambda: all(farm.checks[n] >= before[n] + 2 for n in range(feeds)), timeout=60)
            assert len(daemon.workers()) == 2 and victim not in daemon.workers()
            assert daemon.stop() == 0, daemon.output()
        finally:
            daemon.kill_everything()
        _assert_never_twice_at_once(daemon.runs())
        assert not marked_processes(marker), describe(marked_processes(marker))
