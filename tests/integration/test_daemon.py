"""`newsmon run` as a real subprocess: it crawls on schedule, delivers, and
exits 0 on SIGTERM after finishing the current step."""

from __future__ import annotations

import queue
import signal
import sqlite3
import subprocess
import threading
import time

import pytest

from replay.environment import ReplayEnvironment, newsmon_executable
from tests.helpers.config import write_config

pytestmark = pytest.mark.slow


def _reader(proc: subprocess.Popen) -> queue.Queue:
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _wait_for(lines: queue.Queue, needle: str, seen: list[str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if line is None:
            return False
        seen.append(line)
        if needle in line:
            return True
    return False


@pytest.mark.parametrize("stop_during_crawl", [False, True])
def test_daemon_runs_a_cycle_and_stops_on_sigterm(tmp_path, stop_during_crawl):
    db = tmp_path / "archive.sqlite3"
    with ReplayEnvironment(f"sqlite:///{db}") as world:
        base = world.site.base_url.rstrip("/")
        sources = {"xinhua_english": {"kind": "feed", "start_urls": [f"{base}/xinhua_english/feed.xml"]}}
        if stop_during_crawl:
            sources = {"slowsite": {"kind": "feed", "start_urls": [f"{base}/slow/feed.xml?delay=10"]}}
        world.config_dir = write_config(tmp_path / "config", {
            "database_url": f"sqlite:///{db}",
            "schedule": {"interval": "1h", "delivery_interval": "1s"},
            "crawl": {"obey_robots_txt": False, "download_timeout": "20s"},
            "channels": {"hook": {"type": "webhook", "url": world.webhook.url}},
        }, sources, {"all": {"query": "China OR Xinhua", "channels": ["hook"]}})
        world.newsmon("init")
        proc = subprocess.Popen([newsmon_executable(), "run"], env=world.env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        lines, seen = _reader(proc), []
        try:
            needle = "newsmon daemon running" if stop_during_crawl else "crawl xinhua_english: ok"
            assert _wait_for(lines, needle, seen, timeout=60), "\n".join(seen)
            if stop_during_crawl:  # the worker starts and the check begins; its feed answers after 10 s
                time.sleep(5)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0, "\n".join(seen)
        finally:
            if proc.poll() is None:
                proc.kill()
        while (line := lines.get(timeout=5)) is not None:
            seen.append(line)
        output = "\n".join(seen)
        assert "newsmon daemon stopped" in output
        with sqlite3.connect(db) as conn:
            runs = conn.execute("SELECT source, status, finished_at FROM crawl_runs").fetchall()
            alerts = conn.execute("SELECT status FROM alerts").fetchall()
        assert runs and all(finished for _s, _st, finished in runs), "the running crawl finished before exit"
        if stop_during_crawl:
            assert "finishing the current step" in output
        else:
            assert alerts and {s for (s,) in alerts} == {"sent"}
            assert len(world.webhook.requests) == len(alerts)
