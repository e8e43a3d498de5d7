"""The schedule part of `newsmon status`: how late each source's check is, from the due times the daemon keeps
in the archive (monitor.commands.status), on a config loaded from a directory as users write it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from monitor.commands.status import (
    PROBLEM_LINES_PER_KIND,
    ScheduleLag,
    _next_check,
    lag_problems,
    lag_seconds,
    schedule_lag,
)
from monitor.config import NewsmonConfig, load_config
from monitor.schedule import LAG_TOLERANCE
from monitor.store.overview import SourceStatus
from tests.helpers.config import write_config

NOW = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)
TOL = LAG_TOLERANCE.total_seconds()
HINT = "is `newsmon run` running, and keeping up? (its log reports the schedule lag)"


def feed(interval: str | None = "60s", enabled: bool = True) -> dict:
    source = {"kind": "feed", "start_urls": ["http://127.0.0.1:9/feed.xml"]}
    if interval is not None:
        source["interval"] = interval
    if not enabled:
        source["enabled"] = False
    return source


def make_config(tmp_path, sources: dict[str, dict], schedule_interval: str | None = None) -> NewsmonConfig:
    newsmon: dict = {"database_url": f"sqlite:///{tmp_path / 'a.sqlite3'}"}
    if schedule_interval is not None:
        newsmon["schedule"] = {"interval": schedule_interval}
    return load_config(write_config(tmp_path / "config", newsmon, sources), {})


def row(source: str, late: float | None) -> SourceStatus:
    """A source's status row whose check was due `late` seconds before NOW (None: never scheduled)."""
    return SourceStatus(source=source, last_run_at=None, last_success_at=None, last_new_article_at=None,
                        last_error=None, last_error_at=None, consecutive_failures=0, throttled_until=None,
                        next_check_at=None if late is None else NOW - timedelta(seconds=late), articles=0,
                        pending_alerts=0, dead_alerts=0)


SOURCES = {
    "a": feed(),
    "hourly": feed("1h"),
    "default": feed(None),  # the schedule's interval
    "off": feed(enabled=False),
}


@pytest.mark.parametrize("source, late, expected", [
    pytest.param("a", 30, 30.0, id="overdue"),
    pytest.param("a", 7200, 7200.0, id="overdue for hours"),
    pytest.param("a", TOL + 0.5, TOL + 0.5, id="just past the tolerance"),
    pytest.param("a", TOL, None, id="late by the tolerance exactly: waiting for a slot, not lag"),
    pytest.param("a", 1, None, id="within the tolerance"),
    pytest.param("a", 0, None, id="due now"),
    pytest.param("a", -30, None, id="due later"),
    pytest.param("a", None, None, id="never scheduled"),
    pytest.param("off", 3600, None, id="disabled"),
    pytest.param("gone", 3600, None, id="not configured (only in the archive)"),
    pytest.param("default", 30, 30.0, id="interval from the schedule"),
])
def test_lag_seconds(tmp_path, source, late, expected):
    config = make_config(tmp_path, SOURCES)
    assert lag_seconds(config, row(source, late), NOW) == expected


@pytest.mark.parametrize("rows, expected", [
    pytest.param([], ScheduleLag(0, 0, None, 0.0, 0), id="no rows"),
    pytest.param([("a", -10), ("hourly", 2), ("default", None)], ScheduleLag(3, 0, None, 0.0, 1),
                 id="none overdue, one never scheduled"),
    pytest.param([("a", 30), ("hourly", 120.04), ("default", 2)], ScheduleLag(3, 2, "hourly", 120.0, 0),
                 id="counts the overdue and names the oldest"),
    pytest.param([("a", None), ("hourly", None), ("default", None)], ScheduleLag(3, 0, None, 0.0, 3),
                 id="daemon never ran"),
    pytest.param([("a", 30), ("off", 9999), ("gone", 9999), ("off2", None)], ScheduleLag(1, 1, "a", 30.0, 0),
                 id="disabled and unconfigured sources left out, also from never scheduled"),
])
def test_schedule_lag(tmp_path, rows, expected):
    config = make_config(tmp_path, {**SOURCES, "off2": feed(enabled=False)})
    assert schedule_lag(config, [row(name, late) for name, late in rows], NOW) == expected


@pytest.mark.parametrize("rows, expected", [
    pytest.param([], [], id="no rows"),
    pytest.param([("a", 30)], [], id="late by less than its interval: not a problem"),
    pytest.param([("a", 60)], [], id="late by its interval exactly: not yet"),
    pytest.param([("hourly", 1800)], [], id="the source's own interval counts"),
    pytest.param([("a", 120)], [f"a: check overdue by 2m: {HINT}"], id="late by more than its interval"),
    pytest.param([("default", 600)], [], id="schedule interval (15m) not passed"),
    pytest.param([("default", 1000)], [f"default: check overdue by 16m: {HINT}"],
                 id="schedule interval (15m) passed"),
    pytest.param([("a", 90), ("hourly", 7200), ("default", 5)],
                 [f"hourly: check overdue by 2h: {HINT}", f"a: check overdue by 1m: {HINT}"],
                 id="one line each, the oldest first"),
    pytest.param([("off", 99999), ("gone", 99999), ("a", None)], [], id="disabled, unconfigured, unscheduled"),
])
def test_lag_problems_few(tmp_path, rows, expected):
    config = make_config(tmp_path, SOURCES)
    assert lag_problems(config, [row(name, late) for name, late in rows], NOW) == expected


MANY = {f"s{n:03d}": feed() for n in range(3 * PROBLEM_LINES_PER_KIND)}


@pytest.mark.parametrize("late_sources, slightly_late, expected_lines", [
    pytest.param(PROBLEM_LINES_PER_KIND, 0, PROBLEM_LINES_PER_KIND, id="up to the limit: one line each"),
    pytest.param(PROBLEM_LINES_PER_KIND, 2 * PROBLEM_LINES_PER_KIND, PROBLEM_LINES_PER_KIND,
                 id="late by less than the interval do not count toward the limit"),
    pytest.param(PROBLEM_LINES_PER_KIND + 1, 0, 1, id="past the limit: one summary line"),
    pytest.param(3 * PROBLEM_LINES_PER_KIND, 0, 1, id="all late: one summary line"),
])
def test_lag_problems_many(tmp_path, late_sources, slightly_late, expected_lines):
    config = make_config(tmp_path, MANY)
    names = sorted(MANY)
    rows = [row(name, 120 + n) for n, name in enumerate(names[:late_sources])]
    rows += [row(name, 30) for name in names[late_sources:late_sources + slightly_late]]
    oldest = names[late_sources - 1]
    problems = lag_problems(config, rows, NOW)
    assert len(problems) == expected_lines
    if expected_lines == 1:
        assert problems == [f"{late_sources} sources overdue by more than their interval, the oldest {oldest} by "
                            f"{(120 + late_sources - 1) // 60}m: {HINT}"]
    else:
        assert problems[0].startswith(f"{oldest}: check overdue by")
        assert {p.split(":")[0] for p in problems} == set(names[:late_sources])


@pytest.mark.parametrize("late, source, expected", [
    pytest.param(None, "a", "-", id="never scheduled"),
    pytest.param(-45, "a", "in 45s", id="due in seconds"),
    pytest.param(-1800, "hourly", "in 30m", id="due in minutes"),
    pytest.param(0, "a", "now", id="due now"),
    pytest.param(3, "a", "now", id="late within the tolerance: now"),
    pytest.param(90, "a", "overdue 1m", id="overdue"),
    pytest.param(7200, "a", "overdue 2h", id="overdue for hours"),
])
def test_next_check_column(tmp_path, late, source, expected):
    config = make_config(tmp_path, SOURCES)
    assert _next_check(config, row(source, late), NOW) == expected


@pytest.mark.parametrize("source", [
    pytest.param("off", id="disabled"),
    pytest.param("gone", id="not configured"),
])
def test_next_check_column_of_a_source_not_checked(tmp_path, source):
    config = make_config(tmp_path, SOURCES)
    assert _next_check(config, row(source, 3600), NOW) == "-"
