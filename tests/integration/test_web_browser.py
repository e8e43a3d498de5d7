"""The web view in a real browser (headless chromium): each page loads without a console error (a CSP
violation or a script error would show there), a story is followed from the list, a search is run, a rule
preview is edited live, a dead alert is retried and the login form lets a token holder in. Each step
leaves a screenshot in build/test-artifacts/web/."""

from __future__ import annotations

import httpx
import pytest

from monitor.config import load_config
from monitor.store.session import make_engine, migrate, session_factory
from monitor.web import create_app
from tests.helpers.browser import artifacts_dir, chromium, console_errors, need_browser
from tests.helpers.config import write_config
from tests.helpers.web import HOSTILE, fill_desk, serve

pytestmark = pytest.mark.slow

RULES = {"forces": {"query": '"productive forces" OR 新质生产力', "channels": ["hook"]}}


def _site(root, web: dict | None = None):
    url = f"sqlite:///{root / 'archive.sqlite3'}"
    config_dir = write_config(root / "config", {
        "database_url": url, "web": web or {},
        "channels": {"hook": {"type": "webhook", "url": "http://127.0.0.1:9/"}},
    }, sources={name: {"kind": "feed", "start_urls": [f"http://127.0.0.{n + 2}:9/feed"]}
                for n, name in enumerate(("alpha", "beta", "gamma"))}, rules=RULES)
    migrate(url)
    sessions = session_factory(make_engine(url))
    desk = fill_desk(sessions)
    return create_app(load_config(config_dir, {"NEWSMON_WEB_TOKEN": "x"}), sessions), desk, config_dir


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    need_browser()
    root = tmp_path_factory.mktemp("web-browser")
    app, desk, config_dir = _site(root)
    with serve(app) as base, chromium(root) as driver:
        yield base, driver, desk, config_dir


def _wait(driver, condition, timeout: float = 15):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def _shot(driver, name: str) -> None:
    path = artifacts_dir() / f"{name}.png"
    driver.get_screenshot_as_file(str(path))
    assert path.stat().st_size > 1000, f"{path} is not a screenshot"


def _css(driver, selector: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


@pytest.mark.parametrize("name, path, heading", [
    ("stories", "/", "Stories"),
    ("story", "/stories/{spread}", "New quality productive forces drive growth"),
    ("search", "/search?q=harbour", "Search"),
    ("rules", "/rules", "Rules"),
    ("alerts", "/alerts", "Alerts"),
    ("sources", "/sources", "Sources"),
])
def test_page_loads_without_console_errors(site, name, path, heading):
    base, driver, desk, _ = site
    driver.get(base + path.format(spread=desk.spread_story))
    assert _css(driver, "h1")[0].text == heading
    assert not _css(driver, "main script:not([src])"), "archived markup must never become a script"
    assert console_errors(driver) == []
    _shot(driver, f"page-{name}")


def test_follow_a_story_from_the_list(site):
    base, driver, desk, _ = site
    driver.get(base + "/")
    link = next(a for a in _css(driver, "table a") if a.text == "New quality productive forces drive growth")
    link.click()
    _wait(driver, lambda d: d.current_url.endswith(f"/stories/{desk.spread_story}"))
    timeline = [li.text for li in _css(driver, "ol.timeline li")]
    assert timeline == ["alpha first", "beta +2h", "gamma +5h"]
    assert "报告提出加快发展新质生产力" in driver.find_element("id", "article-3").text
    _shot(driver, "story-followed")


def test_a_revised_article_shows_its_diff(site):
    base, driver, desk, _ = site
    driver.get(f"{base}/stories/{desk.revised_story}")
    _css(driver, "details.revision summary")[0].click()
    assert [e.text for e in _css(driver, ".diff .del")] == ["Shipping through the harbour rose in week 6. " + HOSTILE]
    assert [e.text for e in _css(driver, ".diff .add")] == ["Shipping through the harbour fell in week 6."]
    _shot(driver, "story-revision-diff")


def test_search_highlights_terms_and_points_at_a_syntax_error(site):
    from selenium.webdriver.common.keys import Keys

    base, driver, _, _ = site
    driver.get(base + "/search")
    box = driver.find_element("name", "q")
    box.send_keys('"productive forces"', Keys.ENTER)
    _wait(driver, lambda d: _css(d, ".result"))
    assert {m.text.lower() for m in _css(driver, ".result mark")} == {"productive forces"}
    assert len(_css(driver, ".result")) == 2
    _shot(driver, "search-results")

    box = driver.find_element("name", "q")
    box.clear()
    box.send_keys("forces AND (", Keys.ENTER)
    error = _wait(driver, lambda d: _css(d, "#query-error"))[0]
    assert "forces AND (" in error.text and "^" in error.text
    _shot(driver, "search-syntax-error")


def test_rule_preview_follows_the_edited_query_without_saving(site):
    base, driver, _, config_dir = site
    rule_file = config_dir / "rules" / "forces.yaml"
    before = rule_file.read_text()
    driver.get(base + "/rules")
    assert _css(driver, "#rules svg.spark"), "the hits-per-day sparkline"
    _css(driver, "[data-preview-query]")[0].click()  # edit a copy of the rule: its matches appear
    _wait(driver, lambda d: len(_css(d, "#preview-results .result")) == 3)

    box = driver.find_element("name", "preview")
    box.clear()
    box.send_keys("harbour NOT week")  # no submit: the page asks as the query changes
    _wait(driver, lambda d: "0 article(s)" in d.find_element("id", "preview-results").text)
    for _ in range(len(" NOT week")):
        box.send_keys("\b")
    _wait(driver, lambda d: len(_css(d, "#preview-results .result")) == 5)
    assert "preview=harbour" in driver.current_url  # the address keeps the query to share, nothing more
    assert rule_file.read_text() == before
    assert console_errors(driver) == []
    _shot(driver, "rules-live-preview")


def test_retry_a_dead_alert(site):
    base, driver, desk, _ = site
    driver.get(base + "/alerts?status=dead")
    row = next(tr for tr in _css(driver, "table tr") if tr.text.startswith(str(desk.dead_alert)))
    assert "receiver said 500" in row.text
    _shot(driver, "alerts-dead")
    row.find_element("tag name", "button").click()
    _wait(driver, lambda d: f"alert {desk.dead_alert} queued" in d.page_source)
    alerts = httpx.get(f"{base}/api/alerts", params={"status": "pending"}).json()["alerts"]
    assert desk.dead_alert in [a["id"] for a in alerts]
    _shot(driver, "alerts-retried")


def test_login_form_lets_the_token_holder_in(tmp_path):
    from selenium.webdriver.common.keys import Keys

    need_browser()
    app, _, _ = _site(tmp_path, web={"token": "${NEWSMON_WEB_TOKEN}"})
    with serve(app) as base, chromium(tmp_path) as driver:
        driver.get(base + "/sources")
        _wait(driver, lambda d: d.current_url.endswith("/login"))
        driver.find_element("name", "token").send_keys("wrong", Keys.ENTER)
        _wait(driver, lambda d: "wrong token" in d.page_source)
        _shot(driver, "login-wrong-token")
        driver.find_element("name", "token").send_keys("x", Keys.ENTER)
        _wait(driver, lambda d: _css(d, "h1") and _css(d, "h1")[0].text == "Stories")
        cookie = driver.get_cookie("newsmon_session")
        assert cookie and cookie["httpOnly"] and cookie["value"] != "x"
        driver.get(base + "/sources")
        assert _css(driver, "h1")[0].text == "Sources"
        assert httpx.get(f"{base}/api/sources").status_code == 401
