"""A whole cycle on PostgreSQL, the production backend: the same replay sources,
rules and channels as the SQLite end-to-end test, the archive in a fresh
PostgreSQL database. The crawl's batched writes (multi-row inserts, story
assignment, exact-duplicate checks) and full-text search run there for real."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replay.environment import ReplayEnvironment

pytestmark = pytest.mark.slow
MANIFEST = Path(__file__).resolve().parents[2] / "replay" / "site" / "manifest.json"


def query(env: ReplayEnvironment, sql: str) -> list[dict]:
    return json.loads(env.newsmon("query", sql, "--format", "json").stdout)


def test_two_cycles_on_postgresql(postgres_url):
    with ReplayEnvironment(postgres_url) as env:
        env.newsmon("init")
        first = env.newsmon("crawl", check=False)
        assert first.returncode == 0, first.stdout + first.stderr
        counts = {row["source"]: row["n"] for row in
                  query(env, "SELECT source, count(*) AS n FROM articles GROUP BY source")}
        manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
        assert set(counts) == {page["source"] for page in manifest["pages"]}

        # Every article is in a story; republished copies share one.
        stories = query(env, "SELECT count(*) AS articles, count(DISTINCT story_id) AS stories, "
                             "count(story_id) AS grouped FROM articles")[0]
        assert stories["grouped"] == stories["articles"]
        assert 0 < stories["stories"] < stories["articles"]
        sums = query(env, "SELECT sum(article_count) AS n FROM stories")[0]
        assert sums["n"] == stories["articles"]

        alerts = query(env, "SELECT rule, article_id, channel, status FROM alerts")
        assert alerts and {a["status"] for a in alerts} == {"sent"}
        emails = len(env.smtp.wait_for(1, timeout=10))
        assert emails == sum(1 for a in alerts if a["channel"] == "desk-email")

        found = env.newsmon("search", '"new quality productive forces" OR 新质生产力')
        assert "0 match(es)" not in found.stdout and "match(es)" in found.stdout, found.stdout + found.stderr

        second = env.newsmon("crawl", check=False)
        assert second.returncode == 0, second.stdout + second.stderr
        assert "0 new articles; 0 alerts queued" in second.stdout
        assert query(env, "SELECT count(*) AS n FROM articles")[0]["n"] == stories["articles"]
        assert len(env.smtp.messages) == emails
