"""`newsmon web` as a real server (uvicorn in a thread) on a temp SQLite archive filled through the store:
pages, the JSON API, CSRF, escaping, pagination and the refusals."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from monitor.config import load_config
from monitor.store.session import make_engine, migrate, session_factory
from monitor.web import create_app
from tests.helpers.config import write_config
from tests.helpers.postgres import fresh_database
from tests.helpers.services import need_service
from tests.helpers.web import HOSTILE, fill_desk, serve


@contextmanager
def _archive_url(backend: str, root) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{root / 'archive.sqlite3'}"
        return
    need_service("PostgreSQL", "127.0.0.1", 5432)
    with fresh_database() as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("web")
    with _archive_url(request.param, root) as url:
        yield from _serve(root, url)


def _serve(root, url: str):
    config_dir = write_config(root / "config", {"database_url": url,
                                                "channels": {"hook": {"type": "webhook", "url": "http://127.0.0.1:9/"}}},
                              sources={"alpha": {"kind": "feed", "start_urls": ["http://127.0.0.1:9/feed"]}},
                              rules={"forces": {"query": '"productive forces"', "channels": ["hook"]}})
    migrate(url)
    sessions = session_factory(make_engine(url))
    desk = fill_desk(sessions)
    app = create_app(load_config(config_dir, {}), sessions)
    with serve(app) as base, httpx.Client(base_url=base) as client:
        yield client, desk, config_dir, app


@pytest.mark.parametrize("path, expected", [
    ("/", "Harbour report 8"), ("/search?q=%22productive+forces%22", "<mark>"), ("/rules", "<svg"),
    ("/alerts", "receiver said 500"), ("/alerts?status=dead", '<a href="/stories/1">story</a>'),
    ("/sources", "HTTP 503 from http://beta.example/feed"), ("/login", "Log in"),
    ("/rules/preview?preview=harbour", "5 article(s) would have matched"),
])
def test_pages_answer(server, path, expected):
    client, _, _, _ = server
    response = client.get(path)
    assert response.status_code == 200
    assert expected in response.text
    assert HOSTILE not in response.text
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_story_page_escapes_hostile_text(server):
    client, desk, _, _ = server
    response = client.get(f"/stories/{desk.revised_story}")
    assert response.status_code == 200
    assert "&lt;script&gt;" in response.text and HOSTILE not in response.text


def test_story_api_orders_outlets_and_carries_revisions(server):
    client, desk, _, _ = server
    story = client.get(f"/api/stories/{desk.spread_story}").json()
    assert [a["source"] for a in story["articles"]] == ["alpha", "beta", "gamma"]
    revised = client.get(f"/api/stories/{desk.revised_story}").json()
    assert revised["articles"][0]["revisions"][0]["text"].startswith("Shipping through the harbour rose")
    assert 'class="add">Shipping through the harbour fell' in client.get(f"/stories/{desk.revised_story}").text


def test_story_list_says_who_followed_and_how_fast(server):
    client, desk, _, _ = server
    stories = {s["id"]: s for s in client.get("/api/stories").json()["stories"]}
    spread = stories[desk.spread_story]
    assert spread["outlets"] == ["alpha", "beta", "gamma"]
    assert spread["languages"] == ["en", "zh"]
    assert spread["follow_seconds"] == 5 * 3600


def test_search_shows_parse_error(server):
    client, _, _, _ = server
    assert "at character" in client.get("/search", params={"q": "forces AND ("}).text
    response = client.get("/api/search", params={"q": "forces AND ("})
    assert response.status_code == 400
    assert response.json()["position"] is not None


def test_stories_paginate_by_cursor(server):
    client, desk, _, _ = server
    first = client.get("/api/stories", params={"limit": 2}).json()
    assert len(first["stories"]) == 2 and first["next_cursor"]
    seen = [s["id"] for s in first["stories"]]
    cursor = first["next_cursor"]
    while cursor:
        page = client.get("/api/stories", params={"limit": 2, "cursor": cursor}).json()
        seen += [s["id"] for s in page["stories"]]
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(desk.stories)
    assert client.get("/api/stories", params={"cursor": "junk"}).status_code == 400


@pytest.mark.parametrize("path, status", [
    ("/api/stories/999999", 404), ("/api/rules/nope/backtest", 404), ("/api/rules", 200), ("/api/sources", 200),
    ("/api/alerts?status=dead", 200), ("/openapi.json", 200), ("/api/rules/forces/backtest", 200),
    ("/api/alerts?status=bogus", 400), ("/api/stories/99999999999999999999999", 400), ("/api/stories/0", 400),
    ("/api/search?q=chips%00", 400), ("/api/stories?limit=100000", 400),
    ("/api/search?q=harbour&since=9999-12-31T23:59:59-23:59", 400), ("/api/stories?since=0001-01-01T00:00%2B14:00", 400),
    ("/api/stories?cursor=MDAwMS0wMS0wMVQwMDowMDowMCsyMzo1OXwx", 400),  # a forged cursor: a time out of range in UTC
    ("/api/stories?cursor=MjAyNi0wMS0wMVQwMDowMDowMCswMDowMHw5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ", 400),  # a forged cursor: an id out of range
])
def test_api_status(server, path, status):
    client, _, _, _ = server
    response = client.get(path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    if status >= 400:
        assert response.json()["error"]


def test_retry_needs_csrf(server):
    client, desk, _, _ = server
    alert = desk.dead_alert
    assert client.post(f"/api/alerts/{alert}/retry").status_code == 403
    assert client.post(f"/alerts/{alert}/retry", data={"csrf_token": "wrong"}).status_code == 403
    token = "t" * 43
    headers = {"X-CSRF-Token": token, "Cookie": f"newsmon_csrf={token}"}
    response = client.post(f"/api/alerts/{alert}/retry", headers=headers)
    assert response.status_code == 200
    assert alert in [a["id"] for a in client.get("/api/alerts", params={"status": "pending"}).json()["alerts"]]
    assert client.post(f"/api/alerts/{desk.dead_alert - 1}/retry", headers=headers).status_code == 409  # sent


def test_backtest_post(server):
    client, _, _, _ = server
    token = "c" * 43
    headers = {"X-CSRF-Token": token, "Cookie": f"newsmon_csrf={token}"}
    assert client.post("/api/backtest", json={"query": "harbour"}, headers=headers).json()["count"] == 5
    assert client.post("/api/backtest", json={"query": "("}, headers=headers).status_code == 400


def test_a_page_naming_another_host_is_refused(server):
    """DNS rebinding: a page at evil.example whose name now resolves to 127.0.0.1 sends Host: evil.example."""
    client, _, _, _ = server
    response = client.get("/api/stories", headers={"Host": "evil.example"})
    assert response.status_code == 403
    assert "web.allowed_hosts" in response.json()["error"]
    assert client.get("/api/stories", headers={"Host": "localhost:8080"}).status_code == 200


def test_non_loopback_without_token_exits_2(server):
    _, _, config_dir, _ = server
    result = subprocess.run([sys.executable, "-m", "monitor.cli", "--config", str(config_dir), "web",
                             "--host", "0.0.0.0"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "web.token" in result.stderr and "Traceback" not in result.stderr


def test_the_pages_read_through_read_only_transactions(server):
    """Every page and GET runs on connections that refuse writes; only the retry action writes."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    _, _, _, app = server
    with app.state.web.sessions() as session, pytest.raises(DBAPIError):
        session.execute(text("DELETE FROM articles"))
    with app.state.web.sessions() as session:
        assert session.execute(text("SELECT count(*) FROM articles")).scalar_one() == 8


def test_a_search_the_index_cannot_narrow_stops_at_its_budget_and_says_so(server, monkeypatch):
    from monitor.web import api, pages

    client, _, _, _ = server
    monkeypatch.setattr(pages, "SEARCH_BUDGET", 3)
    monkeypatch.setattr(api, "SEARCH_BUDGET", 3)
    assert "Stopped early" in client.get("/search", params={"q": "NOT zzzq"}).text
    answer = client.get("/api/search", params={"q": "NOT zzzq"}).json()
    assert (len(answer["results"]), answer["complete"]) == (3, False)
    assert client.get("/api/search", params={"q": '"productive forces"'}).json()["complete"] is True  # 2 candidates
