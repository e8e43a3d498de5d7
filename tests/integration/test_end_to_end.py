"""What `make demo` does, asserted: replay site -> crawl -> archive -> rules ->
email (real SMTP server) and webhook (real HTTP receiver), then a second
cycle that finds nothing new."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from replay.environment import WEBHOOK_SECRET, ReplayEnvironment

pytestmark = pytest.mark.slow
MANIFEST = Path(__file__).resolve().parents[2] / "replay" / "site" / "manifest.json"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    db = tmp_path_factory.mktemp("e2e") / "archive.sqlite3"
    with ReplayEnvironment(f"sqlite:///{db}") as env:
        env.db_path = db
        env.newsmon("init")
        env.first = env.newsmon("crawl", check=False)
        env.emails_after_first = len(env.smtp.wait_for(1, timeout=10))
        env.hooks_after_first = len(env.webhook.wait_for(1, timeout=10))
        yield env


def rows(world, sql: str) -> list[tuple]:
    with sqlite3.connect(world.db_path) as conn:
        return conn.execute(sql).fetchall()


def test_first_cycle_stores_every_source(world):
    assert world.first.returncode == 0, world.first.stdout + world.first.stderr
    counts = dict(rows(world, "SELECT source, count(*) FROM articles GROUP BY source"))
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    expected_sources = {page["source"] for page in manifest["pages"]}
    assert set(counts) == expected_sources
    assert all(n >= 1 for n in counts.values())


def test_no_chrome_in_stored_articles(world):
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    stored = {url.split("/", 3)[3]: (title, text) for url, title, text in
              rows(world, "SELECT url, title, text FROM articles")}
    checked = 0
    for page in manifest["pages"]:
        key = page["path"].lstrip("/")
        match = [v for k, v in stored.items() if k.rstrip("/") == key.rstrip("/").removesuffix("index.html").rstrip("/")]
        if not match:
            continue  # the same story already stored from another outlet
        title, text = match[0]
        checked += 1
        for chrome in page["chrome_absent"]:
            assert chrome not in text, f"{page['path']}: chrome {chrome!r} left in body"
            assert chrome not in (title or ""), f"{page['path']}: chrome {chrome!r} in title"
        for sentence in page["body_contains"]:
            assert sentence in text, f"{page['path']}: lost body sentence {sentence!r}"
    assert checked >= 5


def test_one_alert_per_rule_article_channel(world):
    alerts = rows(world, "SELECT rule, article_id, channel, status FROM alerts")
    assert alerts, "the demo rules should match the replay articles"
    keys = [(r, a, c) for r, a, c, _ in alerts]
    assert len(keys) == len(set(keys))
    assert {s for *_, s in alerts} == {"sent"}
    per_channel = {c: sum(1 for *_, ch, _s in alerts if ch == c) for c in ("desk-email", "desk-hook")}
    assert world.emails_after_first == per_channel["desk-email"]
    assert world.hooks_after_first == per_channel["desk-hook"]
    for request in world.webhook.requests:
        assert world.webhook.verify(request, WEBHOOK_SECRET)
        assert set(request.json) >= {"rule", "title", "url", "source", "published_at", "snippet"}


def test_second_cycle_finds_nothing_new(world):
    articles_before = rows(world, "SELECT count(*) FROM articles")[0][0]
    alerts_before = rows(world, "SELECT count(*) FROM alerts")[0][0]
    second = world.newsmon("crawl", check=False)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "0 new articles; 0 alerts queued" in second.stdout
    assert rows(world, "SELECT count(*) FROM articles")[0][0] == articles_before
    assert rows(world, "SELECT count(*) FROM alerts")[0][0] == alerts_before
    assert len(world.smtp.messages) == world.emails_after_first
    assert len(world.webhook.requests) == world.hooks_after_first


def test_status_and_query_after_cycles(world):
    status = world.newsmon("status", "--check", check=False)
    assert status.returncode == 0, status.stdout
    assert "xinhua_english" in status.stdout
    out = world.newsmon("query", "SELECT count(*) AS n FROM articles", "--format", "json")
    assert json.loads(out.stdout)[0]["n"] >= 5
    denied = world.newsmon("query", "DELETE FROM articles", check=False)
    assert denied.returncode != 0 and "read-only" in denied.stderr
