"""A real browser for the web view's tests: Debian's chromium driven through its chromedriver by Selenium.

Absent (not Debian, not installed): the tests skip, saying how to get it; under CI=true they fail.
`make browser` (run by `make test` and .ci/run) installs both where it can. Screenshots go to
build/test-artifacts/web/ (or $NEWSMON_TEST_ARTIFACTS/web/) so a run leaves pictures of each page."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers.config import REPO_ROOT
from tests.helpers.services import IN_CI

BROWSERS = ("chromium", "chromium-browser")
DRIVERS = ("chromedriver",)
# As the machine's notes say: without the background-networking flags chromium keeps dialling out.
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--window-size=1280,900", "--lang=en-US")


def _which(names: tuple[str, ...]) -> str | None:
    return next((found for name in names if (found := shutil.which(name))), None)


def artifacts_dir() -> Path:
    root = Path(os.environ.get("NEWSMON_TEST_ARTIFACTS") or REPO_ROOT / "build" / "test-artifacts")
    folder = root / "web"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def need_browser() -> tuple[str, str]:
    """(chromium, chromedriver) paths, or a skip (a failure under CI=true) saying what is missing."""
    browser, driver = _which(BROWSERS), _which(DRIVERS)
    try:
        import selenium  # noqa: F401
    except ImportError:
        browser = None
    if browser and driver:
        return browser, driver
    message = ("the browser tests need Debian's chromium and chromium-driver and the selenium package "
               "(`make browser` installs them as root; `pip install -e .[test]`)")
    if IN_CI:
        pytest.fail(f"{message}; CI=true requires them")
    pytest.skip(message)


@contextmanager
def chromium(tmp_path: Path) -> Iterator:
    """A headless chromium with its own empty profile; its console is readable (get_log('browser'))."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = need_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not try to download a driver
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver) -> list[str]:
    """What the page logged as errors since the last call (CSP violations and script errors among them)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
