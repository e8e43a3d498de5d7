"""`newsmon run --web`: the daemon serves the web view from its own process, shows what it crawls,
hands the view each reloaded config (SIGHUP) and closes it when it stops."""

from __future__ import annotations

import signal
import socket
import sys

import httpx
import pytest
import yaml

from replay.feed_farm import FeedFarm
from replay.sinks import WebhookReceiver
from tests.helpers.config import write_config
from tests.helpers.hostile import wait_until
from tests.helpers.processes import new_marker
from tests.helpers.web import free_port
from tests.integration.test_crawl_workers import Daemon

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]


def _stories(base: str) -> list:
    try:
        return httpx.get(f"{base}/api/stories", timeout=5).json()["stories"]
    except httpx.HTTPError:
        return []


def test_run_with_web_serves_reloads_and_stops(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with FeedFarm(feeds=2, hosts=2) as farm, WebhookReceiver() as hook:
        config = write_config(tmp_path / "config", {
            "database_url": f"sqlite:///{tmp_path / 'archive.sqlite3'}",
            "schedule": {"interval": "2s", "delivery_interval": "1s"},
            "channels": {"hook": {"type": "webhook", "url": hook.url}},
            "crawl": {"obey_robots_txt": False, "retry_times": 0, "autothrottle": False, "extract_workers": 1},
            "web": {"listen": f"127.0.0.1:{port}"},
        }, {"farm0": {"kind": "feed", "start_urls": [farm.feed_url(0)]}},
            {"nothing": {"query": "zzzqqqxxx", "channels": ["hook"]}})
        farm.publish(0)
        daemon = Daemon(tmp_path, config, new_marker())
        try:
            daemon.start("--web")
            daemon.wait_for_line(f"web view on {base}/")
            wait_until(lambda: _stories(base), timeout=60)
            story = _stories(base)[0]
            assert story["outlets"] == ["farm0"]
            assert httpx.get(f"{base}/stories/{story['id']}").status_code == 200
            assert "farm0" in httpx.get(f"{base}/sources").text

            (config / "rules" / "officials.yaml").write_text(yaml.safe_dump({"query": "officials",
                                                                             "channels": ["hook"]}))
            daemon.proc.send_signal(signal.SIGHUP)
            daemon.wait_for_line("config reloaded:")
            rules = {r["name"] for r in httpx.get(f"{base}/api/rules").json()["rules"]}
            assert rules == {"nothing", "officials"}

            assert daemon.stop() == 0, daemon.output()
            with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
                pass
        finally:
            daemon.kill_everything()


def test_run_with_web_refuses_a_public_address_without_a_token(tmp_path):
    config = write_config(tmp_path / "config", {"database_url": f"sqlite:///{tmp_path / 'a.sqlite3'}",
                                                "web": {"listen": "0.0.0.0:8080"}})
    daemon = Daemon(tmp_path, config, new_marker())
    daemon.start("--web")
    assert daemon.proc.wait(timeout=60) == 2
    daemon._new.get(timeout=10)
    assert "web.token" in daemon.output() and "Traceback" not in daemon.output()


def test_newsmon_web_serves_until_sigterm(tmp_path):
    """`newsmon web` in the foreground: the address it prints answers; SIGTERM ends it with 0."""
    import subprocess

    from replay.environment import newsmon_executable

    port = free_port()
    config = write_config(tmp_path / "config", {"database_url": f"sqlite:///{tmp_path / 'a.sqlite3'}"})
    subprocess.run([newsmon_executable(), "--config", str(config), "init"], check=True, capture_output=True,
                   timeout=60)
    proc = subprocess.Popen([newsmon_executable(), "--config", str(config), "web", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert f"http://127.0.0.1:{port}/" in proc.stdout.readline()
        assert wait_until(lambda: _answers(f"http://127.0.0.1:{port}/api/sources"), timeout=30)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
