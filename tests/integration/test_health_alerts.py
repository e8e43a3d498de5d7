"""Operator alerts about sources, end to end: a real site on loopback (HostileServer), `newsmon
crawl` cycles as a user runs them, and the alerts arriving at a real webhook receiver and SMTP
server through the outbox. One alert when a source turns failing, silent or drifting, one
recovery notice when it heals, nothing in between."""

from __future__ import annotations

import json
import random
import subprocess
import time
from pathlib import Path

import pytest

from replay.environment import newsmon_executable
from replay.sinks import SmtpSink, WebhookReceiver
from tests.helpers.config import write_config
from tests.helpers.hostile import HostileServer

pytestmark = pytest.mark.slow

COMMAND_TIMEOUT = 120
_WORDS = ("harbour council river policy energy schools rail export budget court festival weather bridge "
          "vaccine satellite museum wheat drought election reform tariff youth coastal").split()


class Site:
    """A news site with one RSS feed, whose article pages a test writes."""

    def __init__(self, server: HostileServer):
        self.server = server
        self.items: list[tuple[str, str]] = []  # (path, title), newest first
        self.rng = random.Random(5)

    def publish(self, body_html: str, title: str) -> None:
        path = f"/news/{len(self.items)}.html"
        page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
                f"<nav><a href='/'>Home</a> <a href='/world'>World</a></nav>{body_html}"
                "<footer>Wire News, all rights reserved</footer></body></html>")
        self.server.route(path, page, content_type="text/html; charset=utf-8")
        self.items.insert(0, (path, title))
        self.serve_feed()

    def story(self, n: int | None = None) -> None:
        """A real article in the site's usual layout: an <article> with a few paragraphs."""
        n = len(self.items) if n is None else n
        paragraphs = "".join(
            f"<p>{' '.join(self.rng.choice(_WORDS) for _ in range(40)).capitalize()} (report {n}, part {i}).</p>"
            for i in range(6))
        self.publish(f"<article><h1>Report {n}</h1>{paragraphs}</article>", f"Report {n}")

    def redesigned_story(self) -> None:
        """After the redesign: the container renamed, and the text behind an app stub."""
        n = len(self.items)
        self.publish(f"<div class='story-body-v2'><h1>Report {n}</h1>"
                     f"<p>Report {n} continues in our app.</p></div>", f"Report {n}")

    def serve_feed(self, status: int = 200) -> None:
        items = "".join(f"<item><title>{title}</title><link>{self.server.url(path)}</link></item>"
                        for path, title in self.items)
        self.server.route("/feed.xml", f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                          f"<title>Wire</title><link>{self.server.base_url}/</link><description>d</description>"
                          f"{items}</channel></rss>" if status == 200 else "server error",
                          status=status, content_type="application/rss+xml" if status == 200 else "text/plain")


class World:
    def __init__(self, tmp_path: Path, site: Site, hook: WebhookReceiver, smtp: SmtpSink | None, **health):
        channels: dict = {"ops-hook": {"type": "webhook", "url": hook.url}}
        if smtp is not None:
            channels["ops-mail"] = {"type": "email", "host": "127.0.0.1", "port": smtp.port, "security": "none",
                                    "from": "newsmon@example.org", "to": ["ops@example.org"]}
        self.config = write_config(tmp_path / "config", {
            "database_url": f"sqlite:///{tmp_path / 'archive.sqlite3'}",
            "crawl": {"obey_robots_txt": False, "retry_times": 0, "download_timeout": "5s", "extract_workers": 0},
            "channels": channels,
            "health": {"channels": sorted(channels), **health},
        }, {"wire": {"kind": "feed", "start_urls": [site.server.url("/feed.xml")]}})
        self.hook = hook
        self.newsmon("init")

    def newsmon(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([newsmon_executable(), "--config", str(self.config), *args], capture_output=True,
                              text=True, timeout=COMMAND_TIMEOUT)

    def crawl(self) -> subprocess.CompletedProcess[str]:
        done = self.newsmon("crawl", "-q")
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def health_posts(self) -> list[dict]:
        time.sleep(0.2)  # the outbox sends within the crawl command; this is only the receiver's bookkeeping
        return [r.json for r in self.hook.requests if isinstance(r.json, dict) and r.json.get("kind") == "health"]

    def status(self) -> tuple[dict, int]:
        shown = self.newsmon("status", "--format", "json")
        assert shown.returncode == 0, shown.stderr
        (wire,) = [s for s in json.loads(shown.stdout)["sources"] if s["source"] == "wire"]
        return wire, self.newsmon("status", "--check").returncode


@pytest.fixture
def site():
    with HostileServer() as server:
        yield Site(server)


@pytest.fixture
def hook():
    with WebhookReceiver() as receiver:
        yield receiver


def test_a_failing_source_raises_one_alert_after_failing_after_checks_and_one_recovery(tmp_path, site, hook):
    with SmtpSink() as smtp:
        world = World(tmp_path, site, hook, smtp, failing_after=3)
        site.story()
        site.serve_feed(status=500)
        for _ in range(2):
            assert world.crawl().returncode == 1
        assert world.health_posts() == [], "two failed checks are not yet failing"
        assert world.status()[0]["state"] == "ok"

        assert world.crawl().returncode == 1
        (alert,) = world.health_posts()
        assert alert["source"] == "wire" and alert["state"] == "failing" and alert["since"]
        assert "3 consecutive checks failed" in alert["detail"] and "HTTP 500" in alert["detail"]
        wire, check = world.status()
        assert wire["state"] == "failing" and wire["since"] and wire["consecutive_failures"] == 3 and check == 1
        (row,) = [line for line in world.newsmon("status").stdout.splitlines() if line.startswith("wire ")]
        assert row.split()[1] == "failing", row

        world.crawl()
        assert len(world.health_posts()) == 1, "no repeat while the source keeps failing"

        site.serve_feed(status=200)
        assert world.crawl().returncode == 0
        states = [post["state"] for post in world.health_posts()]
        assert states == ["failing", "recovered"]
        world.crawl()
        assert len(world.health_posts()) == 2
        wire, check = world.status()
        assert wire["state"] == "ok" and check == 0

        subjects = [mail["Subject"] for mail in smtp.wait_for(2, timeout=10)]
        assert subjects == ["[newsmon] health: wire is failing", "[newsmon] health: wire recovered"]


def test_a_source_that_stops_publishing_raises_one_silence_alert(tmp_path, site, hook):
    world = World(tmp_path, site, hook, None, silent_after="2s")
    site.story()
    site.story()
    assert world.crawl().returncode == 0
    assert world.health_posts() == []

    time.sleep(2.2)
    assert world.crawl().returncode == 0  # checked fine, nothing new
    (alert,) = world.health_posts()
    assert alert["state"] == "silent" and alert["source"] == "wire"
    assert "no new article for" in alert["detail"] and "health.silent_after: 2s" in alert["detail"]
    wire, check = world.status()
    assert wire["state"] == "silent" and check == 1

    world.crawl()
    assert len(world.health_posts()) == 1, "no repeat while the source stays silent"

    site.story()
    world.crawl()
    assert [post["state"] for post in world.health_posts()] == ["silent", "recovered"]


def test_a_layout_change_raises_one_drift_alert(tmp_path, site, hook):
    world = World(tmp_path, site, hook, None)
    for _ in range(12):
        site.story()
    assert world.crawl().returncode == 0
    assert world.health_posts() == []
    assert world.status()[0]["state"] == "ok"

    for _ in range(4):  # same site, the article container renamed and the text replaced by a stub
        site.redesigned_story()
    world.crawl()
    (alert,) = world.health_posts()
    assert alert["state"] == "drifting" and alert["source"] == "wire"
    assert "of the last 5 extractions empty or under 200 characters" in alert["detail"]
    wire, check = world.status()
    assert wire["state"] == "drifting" and "layout" in wire["detail"] and check == 1

    world.crawl()
    assert len(world.health_posts()) == 1, "no repeat while the layout stays changed"
