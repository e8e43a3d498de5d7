"""The daemon over months, from outside: SIGHUP re-reads the config (a new rule matches the next
article, a new source is checked, a removed one is not; a broken config is reported and the
running one kept), and a daemon paused past several intervals checks each source once when it
resumes, not once per missed interval."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest
import yaml

from replay.feed_farm import FeedFarm
from replay.sinks import WebhookReceiver
from tests.helpers.config import write_config
from tests.helpers.hostile import wait_until
from tests.helpers.processes import new_marker
from tests.integration.test_crawl_workers import Daemon

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]


def _config(tmp_path: Path, sources: dict, rules: dict, hook: WebhookReceiver) -> Path:
    return write_config(tmp_path / "config", {
        "database_url": f"sqlite:///{tmp_path / 'archive.sqlite3'}",
        "schedule": {"interval": "2s", "delivery_interval": "1s", "lag_report_every": "60s"},
        "channels": {"hook": {"type": "webhook", "url": hook.url}},
        "crawl": {"obey_robots_txt": False, "retry_times": 0, "autothrottle": False, "extract_workers": 1},
    }, sources, rules)


@pytest.fixture
def world(tmp_path):
    marker = new_marker()
    with FeedFarm(feeds=3, hosts=3) as farm, WebhookReceiver() as hook:
        sources = {f"farm{n}": {"kind": "feed", "start_urls": [farm.feed_url(n)]} for n in range(2)}
        config = _config(tmp_path, sources, {"nothing": {"query": "zzzqqqxxx", "channels": ["hook"]}}, hook)
        daemon = Daemon(tmp_path, config, marker)
        try:
            yield farm, hook, config, daemon
        finally:
            daemon.kill_everything()


def test_sighup_with_a_new_rule_matches_the_next_article(world):
    farm, hook, config, daemon = world
    daemon.start()
    wait_until(lambda: min(farm.checks[n] for n in range(2)) >= 1, timeout=60)
    (config / "rules" / "officials.yaml").write_text(yaml.safe_dump({"query": "officials", "channels": ["hook"]}))
    daemon.proc.send_signal(signal.SIGHUP)
    line = daemon.wait_for_line("config reloaded:")
    assert "rules added: officials" in line
    url = farm.publish(0)
    assert wait_until(lambda: len(hook.requests) >= 1, timeout=60), daemon.output()
    time.sleep(3)
    assert len(hook.requests) == 1 and url in hook.requests[0].body.decode()
    assert daemon.stop() == 0, daemon.output()


def test_sighup_adds_and_removes_sources_at_their_next_turn(world):
    farm, hook, config, daemon = world
    daemon.start()
    wait_until(lambda: farm.checks[1] >= 1, timeout=60)
    (config / "sources" / "farm1.yaml").unlink()
    (config / "sources" / "farm2.yaml").write_text(yaml.safe_dump({"kind": "feed", "start_urls": [farm.feed_url(2)]}))
    daemon.proc.send_signal(signal.SIGHUP)
    line = daemon.wait_for_line("config reloaded:")
    assert "sources added: farm2" in line and "sources removed: farm1" in line
    assert wait_until(lambda: farm.checks[2] >= 2, timeout=60), daemon.output()  # the fresh workers know it
    removed_at = farm.checks[1]
    time.sleep(5)  # two intervals
    assert farm.checks[1] <= removed_at + 1  # at most the check that was running
    assert farm.checks[0] >= 2
    assert daemon.stop() == 0, daemon.output()


def test_sighup_with_a_broken_config_keeps_the_running_one_and_says_why(world):
    farm, hook, config, daemon = world
    daemon.start()
    wait_until(lambda: farm.checks[0] >= 1, timeout=60)
    good = (config / "newsmon.yaml").read_text()
    (config / "newsmon.yaml").write_text(good + "\nschedule: {interval: soon}\n")
    daemon.proc.send_signal(signal.SIGHUP)
    line = daemon.wait_for_line("config reload failed")
    assert "still running the previous config" in line and "newsmon.yaml" in line
    before = farm.checks[0]
    assert wait_until(lambda: farm.checks[0] >= before + 2, timeout=30), daemon.output()  # still on its rhythm
    assert daemon.stop() == 0, daemon.output()


def test_a_daemon_paused_past_several_intervals_checks_each_source_once_on_resuming(world):
    farm, hook, config, daemon = world
    daemon.start()
    wait_until(lambda: min(farm.checks[n] for n in range(2)) >= 2, timeout=60)
    os.kill(daemon.proc.pid, signal.SIGSTOP)  # the daemon only: its workers wait, idle
    time.sleep(10)  # five intervals
    paused = [farm.checks[n] for n in range(2)]
    os.kill(daemon.proc.pid, signal.SIGCONT)
    assert wait_until(lambda: all(farm.checks[n] > paused[n] for n in range(2)), timeout=10)
    time.sleep(1.2)  # well within one interval of the catch-up check
    assert [farm.checks[n] - paused[n] for n in range(2)] == [1, 1], daemon.output()
    assert wait_until(lambda: all(farm.checks[n] >= paused[n] + 2 for n in range(2)), timeout=10)  # rhythm resumes
    assert daemon.stop() == 0, daemon.output()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _samples(text: str, name: str) -> dict[tuple, float]:
    from prometheus_client.parser import text_string_to_metric_families

    return {tuple(sorted(s.labels.items())): s.value for family in text_string_to_metric_families(text)
            for s in family.samples if s.name == name}


def test_the_daemons_metrics_move_as_it_checks(tmp_path):
    import httpx

    port = _free_port()
    with FeedFarm(feeds=2, hosts=2) as farm, WebhookReceiver() as hook:
        sources = {f"farm{n}": {"kind": "feed", "start_urls": [farm.feed_url(n)]} for n in range(2)}
        config = _config(tmp_path, sources, {"officials": {"query": "officials", "channels": ["hook"]}}, hook)
        newsmon = yaml.safe_load((config / "newsmon.yaml").read_text())
        (config / "newsmon.yaml").write_text(yaml.safe_dump({**newsmon, "metrics": {"listen": f"127.0.0.1:{port}"}}))
        daemon = Daemon(tmp_path, config, new_marker())
        try:
            daemon.start()
            daemon.wait_for_line(f"127.0.0.1:{port}/metrics")
            wait_until(lambda: min(farm.checks[n] for n in range(2)) >= 1, timeout=60)
            first = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
            farm.publish(0)
            wait_until(lambda: len(hook.requests) >= 1, timeout=60)
            wait_until(lambda: farm.checks[1] >= 4, timeout=60)
            second = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
            assert daemon.stop() == 0, daemon.output()
        finally:
            daemon.kill_everything()
    checks = "newsmon_checks_total"
    before, after = _samples(first, checks), _samples(second, checks)
    assert sum(after.values()) >= sum(before.values()) + 4, (before, after)
    stored = _samples(second, "newsmon_articles_stored_total")
    assert stored[(("source", "farm0"),)] == 1  # the article published meanwhile
    assert _samples(second, "newsmon_source_up")[(("source", "farm1"),)] == 1
    assert _samples(second, "newsmon_alerts")[(("state", "sent"),)] >= 1
