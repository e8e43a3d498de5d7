"""An archived article whose page changes: a revision row, the article updated,
and an alert again only for rules that ask for updates."""

from __future__ import annotations

import shutil
import sqlite3
import time

import pytest

from replay.environment import ReplayEnvironment
from replay.server import SITE
from tests.helpers.config import write_config

pytestmark = pytest.mark.slow
PAGE = "xinhua_english/20240304/0f1e2d3c4b5a/c.html"
NEW_PARAGRAPH = "Railway officials later said the line would open to regular passenger service in May."


def test_changed_article_becomes_a_revision(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    db = tmp_path / "archive.sqlite3"
    with ReplayEnvironment(f"sqlite:///{db}", site_root=site) as world:
        base = world.site.base_url
        world.config_dir = write_config(tmp_path / "config", {
            "database_url": f"sqlite:///{db}", "crawl": {"obey_robots_txt": False},
            "channels": {"hook": {"type": "webhook", "url": world.webhook.url}},
        }, {"xinhua_english": {"kind": "feed", "start_urls": [f"{base}/xinhua_english/feed.xml"], "revisit": "1s"}},
            {"railway_updates": {"query": "railway", "channels": ["hook"], "alert_on_update": True},
             "railway_once": {"query": "railway", "channels": ["hook"]}})
        world.newsmon("init")
        world.newsmon("crawl")
        assert len(world.webhook.wait_for(2)) == 2

        time.sleep(1.2)
        unchanged = world.newsmon("crawl")
        assert "0 new articles; 0 alerts queued" in unchanged.stdout

        page = site / PAGE
        page.write_text(page.read_text(encoding="utf-8").replace("</div>\n<div class=\"related\">",
                        f"<p>{NEW_PARAGRAPH}</p>\n</div>\n<div class=\"related\">", 1), encoding="utf-8")
        time.sleep(1.2)
        changed = world.newsmon("crawl")
        assert "revision 1" in changed.stdout
        with sqlite3.connect(db) as conn:
            text, count = conn.execute("SELECT text, revision_count FROM articles WHERE url LIKE ?",
                                       (f"%{PAGE}",)).fetchone()
            old = conn.execute("SELECT text FROM article_revisions WHERE revision = 1").fetchone()[0]
            alerts = conn.execute("SELECT rule, revision FROM alerts ORDER BY id").fetchall()
        assert NEW_PARAGRAPH in text and count == 1
        assert NEW_PARAGRAPH not in old
        assert alerts == [("railway_once", 0), ("railway_updates", 0), ("railway_updates", 1)] or \
            sorted(alerts) == [("railway_once", 0), ("railway_updates", 0), ("railway_updates", 1)]
        assert len(world.webhook.wait_for(3)) == 3
