"""SMTP server down and webhook failing: alerts stay queued with the error,
go out on a later pass once the receivers are back, and exactly once."""

from __future__ import annotations

import socket
import sqlite3
import time

import pytest

from replay.environment import ReplayEnvironment
from replay.sinks import SmtpSink
from tests.helpers.config import write_config

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_alerts_survive_receivers_being_down(tmp_path):
    db = tmp_path / "archive.sqlite3"
    smtp_port = free_port()  # nothing listens here yet: connection refused
    with ReplayEnvironment(f"sqlite:///{db}") as world:
        base = world.site.base_url.rstrip("/")
        world.webhook.fail_next(1000, status=503)
        world.config_dir = write_config(tmp_path / "config", {
            "database_url": f"sqlite:///{db}",
            "delivery": {"backoff": "1s", "backoff_max": "1s", "max_attempts": 5},
            "crawl": {"obey_robots_txt": False},
            "channels": {
                "mail": {"type": "email", "host": "127.0.0.1", "port": smtp_port, "security": "none",
                         "from": "newsmon@example.org", "to": ["desk@example.org"], "timeout": "3s"},
                "hook": {"type": "webhook", "url": world.webhook.url, "timeout": "3s"},
            },
        }, {"xinhua_english": {"kind": "feed", "start_urls": [f"{base}/xinhua_english/feed.xml"]}},
            {"china": {"query": "China", "channels": ["mail", "hook"]}})
        world.newsmon("init")
        first = world.newsmon("crawl", check=False)
        assert first.returncode == 0, first.stdout + first.stderr

        with sqlite3.connect(db) as conn:
            pending = conn.execute("SELECT channel, status, attempts, last_error FROM alerts").fetchall()
        assert pending and all(status == "pending" and attempts == 1 for _c, status, attempts, _e in pending)
        errors = {channel: error for channel, _s, _a, error in pending}
        assert "refused" in errors["mail"].lower() or "connect" in errors["mail"].lower()
        assert "503" in errors["hook"]
        shown = world.newsmon("alerts", "--status", "pending")
        assert "503" in shown.stdout

        # Receivers come back; a later pass (here: the next crawl cycle) delivers.
        world.webhook.fail_next(0)
        with SmtpSink(port=smtp_port) as smtp:
            time.sleep(1.2)  # past the backoff
            second = world.newsmon("crawl", check=False)
            assert second.returncode == 0, second.stdout + second.stderr
            third = world.newsmon("crawl", check=False)  # nothing left to send
            assert third.returncode == 0
            with sqlite3.connect(db) as conn:
                statuses = conn.execute("SELECT channel, status FROM alerts").fetchall()
            assert {s for _c, s in statuses} == {"sent"}
            mail_alerts = sum(1 for c, _s in statuses if c == "mail")
            assert len(smtp.wait_for(mail_alerts, timeout=5)) == mail_alerts
            ok_hooks = [r for r in world.webhook.requests if r.status == 200]
            assert len(ok_hooks) == len(statuses) - mail_alerts
            ids = [r.headers["X-Newsmon-Delivery"] for r in ok_hooks]
            assert len(ids) == len(set(ids)), "no alert delivered twice"
