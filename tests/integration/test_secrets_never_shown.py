"""A ${TOKEN} in a source URL, and credentials in URLs, appear nowhere: not in crawl
output or logs, not in the archive (fetch_errors, crawl_runs, source_state,
http_validators, articles), not in `newsmon status`."""

from __future__ import annotations

import base64
import os
import sqlite3
import subprocess
from urllib.parse import quote

import pytest

from replay.environment import newsmon_executable
from tests.helpers.config import write_config
from tests.helpers.hostile import HostileServer

pytestmark = pytest.mark.slow

TOKEN = "tk-5ecret/value+1"
PASSWORD = "pw-hunter2-pw"
LEAKS = (TOKEN, quote(TOKEN, safe=""), quote(TOKEN), "tk-5ecret", PASSWORD)

FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>One</title><link>{base}/a/1.html</link></item></channel></rss>"""
PAGE = ("<html><head><title>One</title></head><body><article><h1>One</h1>"
        + "".join(f"<p>Paragraph {i} of the article says something new about topic number {i * 7}, "
                  f"with enough words to count as body text for extraction.</p>" for i in range(8))
        + "</article></body></html>")


def newsmon(config, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FEED_TOKEN": TOKEN, "FEED_PASSWORD": PASSWORD}
    return subprocess.run([newsmon_executable(), "--config", str(config), *args], capture_output=True,
                          text=True, timeout=180, env=env)


def test_secrets_are_masked_everywhere(tmp_path):
    db = tmp_path / "archive.sqlite3"
    with HostileServer() as site:
        base = site.base_url
        site.route("/feed.xml", FEED.format(base=base), content_type="application/rss+xml",
                   headers={"ETag": '"v1"'})
        site.route("/a/1.html", PAGE, content_type="text/html; charset=utf-8")
        site.route("/gone.xml", "gone", status=404, content_type="text/plain")
        site.route("/down.xml", "down", status=500, content_type="text/plain")
        authority = base.replace("http://", "")
        config = write_config(tmp_path / "config", {
            "database_url": f"sqlite:///{db}",
            "crawl": {"retry_times": 0, "obey_robots_txt": False, "extract_workers": 0},
        }, {
            "good": {"kind": "feed", "start_urls": [f"{base}/feed.xml?token=${{FEED_TOKEN}}"]},
            "gone": {"kind": "feed", "start_urls": [f"{base}/gone.xml?token=${{FEED_TOKEN}}"]},
            "down": {"kind": "feed", "start_urls": [f"http://reader:${{FEED_PASSWORD}}@{authority}/down.xml"]},
        })
        assert newsmon(config, "init").returncode == 0
        crawl = newsmon(config, "-v", "crawl")
        status = newsmon(config, "status")
        requested = site.paths()
        down_auth = [h.get("Authorization") for _m, p, h in site.requests if p == "/down.xml"]
    assert any(TOKEN in p or quote(TOKEN, safe="/+") in p or "tk-5ecret" in p for p in requested), \
        "the real URL (with the token) is what gets fetched"
    assert crawl.returncode == 1, crawl.stdout + crawl.stderr  # gone and down failed

    shown = crawl.stdout + crawl.stderr + status.stdout + status.stderr
    for leak in LEAKS:
        assert leak not in shown, f"{leak!r} shown:\n{shown}"
    assert "token=***" in crawl.stdout and "token=***" in status.stdout
    assert "reader:" not in shown
    # URL credentials are sent as HTTP Basic auth to that host, never as part of the URL.
    expected = "Basic " + base64.b64encode(f"reader:{PASSWORD}".encode()).decode()
    assert down_auth and set(down_auth) == {expected}

    with sqlite3.connect(db) as conn:
        dump = "\n".join(conn.iterdump())
        stored = conn.execute("SELECT count(*) FROM articles WHERE source = 'good'").fetchone()[0]
    assert stored == 1
    for leak in LEAKS + ("reader:",):
        assert leak not in dump, f"{leak!r} stored in the archive"
    assert "token=***" in dump  # fetch_errors, crawl_runs, source_state and validators name the masked URL


def test_validators_keyed_by_the_masked_url_still_work(tmp_path):
    """The second crawl finds the validators the first saved under the masked URL: a 304 check."""
    db = tmp_path / "archive.sqlite3"
    with HostileServer() as site:
        site.route("/feed.xml", FEED.format(base=site.base_url), content_type="application/rss+xml",
                   headers={"ETag": '"v1"'})
        site.route("/a/1.html", PAGE, content_type="text/html; charset=utf-8")
        config = write_config(tmp_path / "config", {
            "database_url": f"sqlite:///{db}",
            "crawl": {"retry_times": 0, "obey_robots_txt": False, "extract_workers": 0},
        }, {"good": {"kind": "feed", "start_urls": [f"{site.base_url}/feed.xml?token=${{FEED_TOKEN}}"]}})
        newsmon(config, "init")
        assert newsmon(config, "crawl").returncode == 0
        assert newsmon(config, "crawl").returncode == 0
        feed_requests = [h for _m, p, h in site.requests if p.startswith("/feed.xml")]
    assert len(feed_requests) == 2
    assert feed_requests[1].get("If-None-Match") == '"v1"'
