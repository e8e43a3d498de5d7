"""The token check, CSRF and loopback rules of `newsmon web`, through the ASGI app."""

from __future__ import annotations

import httpx
import pytest

from monitor.config import load_config
from monitor.store.session import make_engine, migrate, session_factory
from monitor.web import create_app
from monitor.web.security import is_loopback, session_value


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("[::1]", True), ("127.8.0.1", True),
    ("0.0.0.0", False), ("192.168.1.5", False), ("example.org", False),
])
def test_loopback(host, loopback):
    assert is_loopback(host) is loopback






def test_token_required_sync(config_factory):
    import asyncio

    config = load_config(config_factory({"web": {"token": "s3cret"}}), {})
    migrate(config.database_url)
    app = create_app(config, session_factory(make_engine(config.database_url)))

    async def go():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
            assert (await c.get("/api/stories")).status_code == 401
            assert (await c.get("/")).status_code == 303
            assert (await c.get("/api/stories", headers={"Authorization": "Bearer wrong"})).status_code == 401
            assert (await c.get("/api/stories", headers={"Authorization": "Bearer s3cret"})).status_code == 200
            cookie = {"Cookie": f"newsmon_session={session_value('s3cret')}"}
            assert (await c.get("/", headers=cookie)).status_code == 200
            # a Bearer API POST is exempt from CSRF
            r = await c.post("/api/backtest", json={"query": "x y z"}, headers={"Authorization": "Bearer s3cret"})
            assert r.status_code == 200

            # the login form: CSRF cookie from the GET, then the session cookie
            page = await c.get("/login")
            csrf = page.cookies["newsmon_csrf"]
            r = await c.post("/login", data={"token": "s3cret", "csrf_token": csrf},
                             headers={"Cookie": f"newsmon_csrf={csrf}"})
            assert r.status_code == 303
            assert "httponly" in r.headers["set-cookie"].lower() and "samesite=strict" in r.headers["set-cookie"].lower()
            r = await c.post("/login", data={"token": "wrong", "csrf_token": csrf},
                             headers={"Cookie": f"newsmon_csrf={csrf}"})
            assert r.status_code == 401

    asyncio.run(go())
