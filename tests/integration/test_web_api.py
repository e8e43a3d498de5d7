"""`newsmon web` as a real server (uvicorn in a thread) on a temp SQLite archive filled through the store."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta

import httpx
import pytest
import uvicorn

from monitor.config import load_config
from monitor.statuses import AlertStatus
from monitor.store import repo
from monitor.store.models import Alert
from monitor.store.session import make_engine, migrate, session_factory, session_scope
from monitor.web import create_app

HOSTILE = '<script>alert("x")</script>'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fill(sessions) -> dict:
    now = repo.utcnow()
    ids = {}
    with session_scope(sessions) as session:
        for n in range(5):
            when = now - timedelta(hours=5 - n)
            aid = repo.add_article(session, url=f"http://a.example/{n}", canonical_url=f"http://a.example/{n}",
                                   source="alpha" if n % 2 else "beta", title=f"Productive forces {n}",
                                   text=f"new quality productive forces, part {n}. {HOSTILE}", language="en",
                                   content_hash=f"h{n}", fetched_at=when)
            ids[n] = repo.new_story(session, aid, f"Story {n} {HOSTILE}", when)
        repo.record_revision(session, 3, title="Productive forces 2", text="the corrected text", content_hash="h2b",
                             minhash=None, when=now)
        repo.enqueue_alert(session, rule="forces", article_id=1, channel="hook", snippet="s", when=now)
    with session_scope(sessions) as session:
        alert = session.query(Alert).one()
        alert.status = AlertStatus.DEAD
        alert.last_error = "receiver said 500"
        ids["alert"] = alert.id
    return ids


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{root / 'archive.sqlite3'}"
    from tests.helpers.config import write_config
    config_dir = write_config(root / "config", {"database_url": url,
                                                "channels": {"hook": {"type": "webhook", "url": "http://127.0.0.1:9/"}}},
                              sources={"alpha": {"kind": "feed", "start_urls": ["http://127.0.0.1:9/feed"]}},
                              rules={"forces": {"query": '"productive forces"', "channels": ["hook"]}})
    migrate(url)
    sessions = session_factory(make_engine(url))
    ids = _fill(sessions)
    config = load_config(config_dir, {})
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(config, sessions), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.05)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        yield client, ids, config_dir
    srv.should_exit = True
    thread.join(5)


@pytest.mark.parametrize("path, expected", [
    ("/", "Story 4"), ("/search?q=%22productive+forces%22", "<mark>"), ("/rules", "<svg"),
    ("/alerts", "receiver said 500"), ("/sources", "alpha"), ("/login", "Log in"),
])
def test_pages_answer(server, path, expected):
    client, _, _ = server
    response = client.get(path)
    assert response.status_code == 200
    assert expected in response.text
    assert HOSTILE not in response.text
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_story_page_escapes_hostile_text(server):
    client, ids, _ = server
    response = client.get(f"/stories/{ids[2]}")
    assert response.status_code == 200
    assert "&lt;script&gt;" in response.text and HOSTILE not in response.text


def test_story_api_and_revision_diff(server):
    client, ids, _ = server
    story = client.get(f"/api/stories/{ids[2]}").json()
    assert story["articles"][0]["revisions"][0]["text"].startswith("new quality")
    assert 'class="add">the corrected text' in client.get(f"/stories/{ids[2]}").text


def test_search_shows_parse_error(server):
    client, _, _ = server
    assert "at character" in client.get("/search", params={"q": "forces AND ("}).text
    response = client.get("/api/search", params={"q": "forces AND ("})
    assert response.status_code == 400
    assert response.json()["position"] is not None


def test_stories_paginate_by_cursor(server):
    client, _, _ = server
    first = client.get("/api/stories", params={"limit": 2}).json()
    assert len(first["stories"]) == 2 and first["next_cursor"]
    seen = [s["id"] for s in first["stories"]]
    cursor = first["next_cursor"]
    while cursor:
        page = client.get("/api/stories", params={"limit": 2, "cursor": cursor}).json()
        seen += [s["id"] for s in page["stories"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 5
    assert client.get("/api/stories", params={"cursor": "junk"}).status_code == 400


@pytest.mark.parametrize("path, status", [
    ("/api/stories/999999", 404), ("/api/rules/nope/backtest", 404), ("/api/rules", 200), ("/api/sources", 200),
    ("/api/alerts?status=dead", 200), ("/openapi.json", 200), ("/api/rules/forces/backtest", 200),
])
def test_api_status(server, path, status):
    client, _, _ = server
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")


def test_retry_needs_csrf(server):
    client, ids, _ = server
    alert = ids["alert"]
    assert client.post(f"/api/alerts/{alert}/retry").status_code == 403
    assert client.post(f"/alerts/{alert}/retry", data={"csrf_token": "wrong"}).status_code == 403
    token = "t" * 43
    response = client.post(f"/api/alerts/{alert}/retry", headers={"X-CSRF-Token": token,
                                                                 "Cookie": f"newsmon_csrf={token}"})
    assert response.status_code == 200
    assert client.get("/api/alerts", params={"status": "pending"}).json()["alerts"][0]["id"] == alert


def test_backtest_post(server):
    client, _, _ = server
    token = "c" * 43
    headers = {"X-CSRF-Token": token, "Cookie": f"newsmon_csrf={token}"}
    assert client.post("/api/backtest", json={"query": "forces"}, headers=headers).json()["count"] == 5
    assert client.post("/api/backtest", json={"query": "("}, headers=headers).status_code == 400


def test_non_loopback_without_token_exits_2(server):
    _, _, config_dir = server
    result = subprocess.run([sys.executable, "-m", "monitor.cli", "--config", str(config_dir), "web",
                             "--host", "0.0.0.0"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "web.token" in result.stderr and "Traceback" not in result.stderr
