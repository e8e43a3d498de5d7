"""Prometheus /metrics (monitor/metrics.py), scraped over real HTTP from a server on 127.0.0.1.

The counters move with the check results recorded between two scrapes; the gauges and the
fetch-error counter are read from a real SQLite archive at scrape time. The Grafana dashboard
in docs/ only asks for metrics that a scrape shows.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete, update

from monitor import metrics
from monitor.config import load_config
from monitor.metrics import Metrics, MetricsError, serve
from monitor.statuses import AlertStatus, RunStatus
from monitor.store import repo
from monitor.store.models import Alert, FetchError
from monitor.store.session import make_engine, session_factory, session_scope
from tests.helpers.outbox import queue_alerts

DOCS = Path(__file__).resolve().parents[2] / "docs"
STABLE_NAMES = ["newsmon_checks_total", "newsmon_articles_stored_total", "newsmon_alerts",
                "newsmon_fetch_errors_total", "newsmon_source_up", "newsmon_schedule_lag_seconds",
                "newsmon_check_duration_seconds"]


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    """Every sample of a /metrics page: (sample name, sorted labels) -> value."""
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def value(samples: dict, name: str, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def names(samples: dict) -> set[str]:
    return {name for name, _labels in samples}


@pytest.fixture
def sessions(migrated_sqlite):
    engine = make_engine(migrated_sqlite)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def any_sessions(archive_url):
    """The same on each backend: a SQLite file, and PostgreSQL (where fetch_errors ids may commit out of order)."""
    engine = make_engine(archive_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def served():
    """serve() a registry on 127.0.0.1, any free port; the URL to scrape. Closed afterwards."""
    servers = []

    def start(registry, listen: str = "127.0.0.1:0") -> str:
        server, port = serve(listen, registry)
        servers.append(server)
        assert port == server.port and port > 0
        return f"http://127.0.0.1:{port}/metrics"

    yield start
    for server in servers:
        server.close()


@pytest.fixture(autouse=True)
def _metrics_off_afterwards():
    yield
    metrics.stop_metrics()


def _finish(sessions, source: str, status: RunStatus, *, errors: list[str] = ()) -> None:
    with session_scope(sessions) as s:
        run = repo.start_run(s, source)
        for stage in errors:
            repo.record_fetch_error(s, source=source, run_id=run.id, url=f"http://{source}.example/", stage=stage,
                                    message="boom")
        repo.finish_run(s, run, status=status, pages_fetched=1, new_articles=0, duplicates=0, errors=len(errors),
                        error_summary="boom" if errors else None)


# --- the counters -------------------------------------------------------------------------------


def test_check_results_move_the_counters_between_two_scrapes(served):
    m = Metrics()
    m.declare_sources(["xinhua", "blog"])
    url = served(m.registry)

    before = scrape(url)
    assert value(before, "newsmon_checks_total", source="xinhua", status="ok") == 0  # declared: rate() sees the 1st
    assert value(before, "newsmon_checks_total", source="blog", status="failed") == 0
    assert value(before, "newsmon_articles_stored_total", source="xinhua") == 0
    assert value(before, "newsmon_check_duration_seconds_count") == 0
    assert not any(name.endswith("_created") for name in names(before))

    m.record_result({"source": "xinhua", "status": RunStatus.OK, "new_articles": 3, "errors": 0, "elapsed": 1.7})
    m.record_result({"source": "xinhua", "status": "ok", "new_articles": 0, "elapsed": 0.2, "unchanged": True})
    m.record_result({"source": "blog", "status": RunStatus.FAILED, "new_articles": 0, "errors": 1, "elapsed": 40.0})
    m.record_result({"source": "blog", "check": "blog#9", "refused": True})  # handed back: not a check
    after = scrape(url)

    assert value(after, "newsmon_checks_total", source="xinhua", status="ok") == 2
    assert value(after, "newsmon_checks_total", source="blog", status="failed") == 1
    assert value(after, "newsmon_checks_total", source="blog", status="ok") == 0
    assert value(after, "newsmon_articles_stored_total", source="xinhua") == 3
    assert value(after, "newsmon_check_duration_seconds_count") == 3
    assert value(after, "newsmon_check_duration_seconds_sum") == pytest.approx(41.9)
    assert value(after, "newsmon_check_duration_seconds_bucket", le="0.25") == 1
    assert value(after, "newsmon_check_duration_seconds_bucket", le="2.5") == 2
    assert value(after, "newsmon_check_duration_seconds_bucket", le="60.0") == 3
    assert value(after, "newsmon_check_duration_seconds_bucket", le="+Inf") == 3
    # Nothing else in this process's registry: not prometheus_client's global one.
    assert {n for n in names(after) if not n.startswith("newsmon_")} == set()


def test_two_processes_metrics_are_separate(served):
    first, second = Metrics(), Metrics()
    first.record_check("a", "ok", 1.0, 2)
    assert value(scrape(served(second.registry)), "newsmon_checks_total", source="a", status="ok") is None
    assert value(scrape(served(first.registry)), "newsmon_checks_total", source="a", status="ok") == 1


# --- read from the archive at each scrape -----------------------------------------------------


def test_gauges_and_fetch_errors_are_read_from_the_archive(served, any_sessions):
    sessions = any_sessions
    _finish(sessions, "good", RunStatus.OK)
    _finish(sessions, "bad", RunStatus.FAILED, errors=["feed"])  # before the daemon started: not counted
    _finish(sessions, "removed", RunStatus.OK)
    queue_alerts(sessions, 4, ["hook"])
    with session_scope(sessions) as s:
        ids = [a.id for a in s.query(Alert).order_by(Alert.id)]
        s.execute(update(Alert).where(Alert.id == ids[0]).values(status=AlertStatus.SENT))
        s.execute(update(Alert).where(Alert.id == ids[1]).values(status=AlertStatus.DEAD))

    lag = {"seconds": 0.0}
    m = Metrics()
    m.watch_archive(sessions, schedule_lag=lambda: lag["seconds"], sources=lambda: ["good", "bad", "never-checked"])
    url = served(m.registry)

    first = scrape(url)
    assert {state: value(first, "newsmon_alerts", state=state) for state in AlertStatus.values()} == {
        "pending": 2, "sending": 0, "sent": 1, "dead": 1}
    assert value(first, "newsmon_source_up", source="good") == 1
    assert value(first, "newsmon_source_up", source="bad") == 0
    assert value(first, "newsmon_source_up", source="removed") is None  # not in the config any more
    assert value(first, "newsmon_source_up", source="never-checked") is None  # unknown until checked
    assert value(first, "newsmon_schedule_lag_seconds") == 0
    assert not [k for k in first if k[0] == "newsmon_fetch_errors_total"]  # only errors since the start count

    _finish(sessions, "bad", RunStatus.FAILED, errors=["feed", "page"])
    _finish(sessions, "good", RunStatus.PARTIAL, errors=["extract"])  # partial: still up
    _finish(sessions, "bad", RunStatus.OK)  # recovered
    with session_scope(sessions) as s:
        s.execute(update(Alert).where(Alert.id == ids[2]).values(status=AlertStatus.SENT))
    lag["seconds"] = 42.5
    second = scrape(url)
    assert value(second, "newsmon_fetch_errors_total", source="bad", stage="feed") == 1
    assert value(second, "newsmon_fetch_errors_total", source="bad", stage="page") == 1
    assert value(second, "newsmon_fetch_errors_total", source="good", stage="extract") == 1
    assert value(second, "newsmon_source_up", source="bad") == 1
    assert value(second, "newsmon_source_up", source="good") == 1
    assert value(second, "newsmon_alerts", state="sent") == 2
    assert value(second, "newsmon_alerts", state="pending") == 1
    assert value(second, "newsmon_schedule_lag_seconds") == 42.5

    # A counter never goes down: rows deleted (pruned) from the table leave it where it was.
    _finish(sessions, "bad", RunStatus.FAILED, errors=["feed"])
    with session_scope(sessions) as s:
        s.execute(delete(FetchError).where(FetchError.stage != "feed"))
    third = scrape(url)
    assert value(third, "newsmon_fetch_errors_total", source="bad", stage="feed") == 2
    assert value(third, "newsmon_fetch_errors_total", source="bad", stage="page") == 1
    assert value(third, "newsmon_fetch_errors_total", source="good", stage="extract") == 1
    assert value(third, "newsmon_source_up", source="bad") == 0


def test_a_fetch_error_committed_after_a_newer_one_is_counted_once(sessions):
    """PostgreSQL hands out ids before commit: row 2 may become visible after row 3 was counted."""
    tally = metrics.FetchErrorTally()
    with session_scope(sessions) as s:
        tally.start(s)
        run = repo.start_run(s, "s")
    assert tally.floor == 0

    def add(row_id: int, stage: str) -> None:
        with session_scope(sessions) as s:
            s.add(FetchError(id=row_id, source="s", run_id=run.id, url=None, stage=stage, message="x",
                             occurred_at=repo.utcnow()))

    def update_at(now: float) -> dict:
        with session_scope(sessions) as s:
            tally.update(s, now=now)
        return tally.snapshot()

    add(3, "page")
    assert update_at(1000.0) == {("s", "page"): 1}
    add(2, "feed")  # the late one
    assert update_at(1010.0) == {("s", "page"): 1, ("s", "feed"): 1}
    assert update_at(1020.0) == {("s", "page"): 1, ("s", "feed"): 1}  # each row once
    assert tally.floor == 0  # nothing settled yet
    update_at(1000.0 + metrics.SETTLE_SECONDS + 20)
    assert tally.floor == 3 and tally.seen == {}
    add(4, "page")
    assert update_at(2000.0) == {("s", "page"): 2, ("s", "feed"): 1}


def test_an_archive_that_does_not_answer_leaves_its_metrics_out_not_the_scrape(served, tmp_path, caplog):
    empty = make_engine(f"sqlite:///{tmp_path / 'not-migrated.sqlite3'}")  # no tables: every query fails
    try:
        m = Metrics()
        m.record_check("a", "ok", 1.0, 1)
        m.watch_archive(session_factory(empty), schedule_lag=lambda: 3.0)
        samples = scrape(served(m.registry))
    finally:
        empty.dispose()
    assert value(samples, "newsmon_checks_total", source="a", status="ok") == 1
    assert value(samples, "newsmon_schedule_lag_seconds") == 3.0
    assert "newsmon_alerts" not in names(samples) and "newsmon_source_up" not in names(samples)
    assert "could not read the archive for /metrics" in caplog.text


def test_a_schedule_lag_read_mid_change_is_tried_again(served, sessions):
    calls = []

    def lag():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("dictionary changed size during iteration")
        return 7.0

    m = Metrics()
    m.watch_archive(sessions, schedule_lag=lag)
    assert value(scrape(served(m.registry)), "newsmon_schedule_lag_seconds") == 7.0


# --- serving: the address, the hooks -------------------------------------------------------------


def test_a_port_in_use_is_a_clear_error_naming_the_setting():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(MetricsError) as caught:
            serve(f"127.0.0.1:{port}", Metrics().registry)
        assert f"metrics.listen: cannot serve Prometheus metrics on 127.0.0.1:{port}" in str(caught.value)
        assert "in use" in str(caught.value) and "port 0" in str(caught.value)
        with pytest.raises(MetricsError, match=r"^metrics\.worker_listen: "):
            serve(f"127.0.0.1:{port}", Metrics().registry, setting="metrics.worker_listen")
    with pytest.raises(MetricsError, match="is not host:port"):
        serve("127.0.0.1:99999", Metrics().registry)


def test_the_hooks_do_nothing_while_metrics_are_off(config_factory, sessions):
    config = load_config(config_factory(), {})
    assert config.metrics.listen is None
    assert metrics.start_daemon_metrics(config, sessions) is None
    assert metrics.start_worker_metrics(config) is None
    assert metrics.active() is None
    metrics.record_result({"source": "a", "status": "ok", "new_articles": 1, "elapsed": 1.0})
    metrics.record_check("a", "failed")
    metrics.stop_metrics()


def test_daemon_hooks_serve_the_config_address_and_never_raise(config_factory, sessions, migrated_sqlite):
    root = config_factory({"database_url": migrated_sqlite, "metrics": {"listen": "127.0.0.1:0"}},
                          sources={"xinhua": {"kind": "feed", "start_urls": ["http://127.0.0.1:1/feed.xml"]}})
    config = load_config(root, {})
    lines: list[str] = []
    server = metrics.start_daemon_metrics(config, sessions, schedule_lag=lambda: 0.0, echo=lines.append)
    assert server is not None and lines == [f"Prometheus metrics on http://127.0.0.1:{server.port}/metrics"]
    url = server.url
    assert value(scrape(url), "newsmon_checks_total", source="xinhua", status="ok") == 0

    metrics.record_result({"source": "xinhua", "status": RunStatus.OK, "new_articles": 2, "elapsed": 0.5})
    metrics.record_check("xinhua", RunStatus.FAILED)  # lost with its worker: no result, no duration
    metrics.record_result({"status": "ok"})  # no source: ignored
    metrics.record_result({"source": "xinhua", "status": "ok", "new_articles": "many"})  # garbage: logged, not raised
    metrics.record_result(None)  # type: ignore[arg-type]
    samples = scrape(url)
    assert value(samples, "newsmon_checks_total", source="xinhua", status="ok") == 1
    assert value(samples, "newsmon_checks_total", source="xinhua", status="failed") == 1
    assert value(samples, "newsmon_articles_stored_total", source="xinhua") == 2
    assert value(samples, "newsmon_check_duration_seconds_count") == 1
    assert value(samples, "newsmon_alerts", state="pending") == 0

    metrics.stop_metrics()
    assert metrics.active() is None
    metrics.record_result({"source": "xinhua", "status": "ok"})  # off again: a no-op
    with pytest.raises(httpx.TransportError):
        httpx.get(url, timeout=2)


def test_a_worker_serves_its_own_checks_on_any_free_port_and_says_which(config_factory):
    config = load_config(config_factory({"metrics": {"listen": "127.0.0.1:9", "worker_listen": "127.0.0.1:0"}}), {})
    lines: list[str] = []
    server = metrics.start_worker_metrics(config, echo=lines.append)
    assert server.port > 0 and lines == [f"newsmon worker metrics on http://127.0.0.1:{server.port}/metrics"]
    metrics.record_result({"source": "blog", "status": "partial", "new_articles": 1, "elapsed": 3.0})
    samples = scrape(server.url)
    assert value(samples, "newsmon_checks_total", source="blog", status="partial") == 1
    # The archive's metrics are the daemon's alone: summed over processes they would count twice.
    assert not names(samples) & {"newsmon_alerts", "newsmon_source_up", "newsmon_fetch_errors_total",
                                 "newsmon_schedule_lag_seconds"}


def test_a_worker_port_in_use_names_worker_listen(config_factory):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = load_config(config_factory({"metrics": {"worker_listen": f"127.0.0.1:{port}"}}), {})
        with pytest.raises(MetricsError, match=r"^metrics\.worker_listen: cannot serve .* in use"):
            metrics.start_worker_metrics(config)
    assert metrics.active() is None


# --- the dashboard and the docs ---------------------------------------------------------------------


def _every_sample_name(sessions, served) -> set[str]:
    m = Metrics()
    m.record_check("s", "ok", 1.0, 1)
    _finish(sessions, "s", RunStatus.OK)
    m.watch_archive(sessions, schedule_lag=lambda: 1.0)
    _finish(sessions, "s", RunStatus.FAILED, errors=["feed"])
    return names(scrape(served(m.registry)))


def _queries(node) -> list[str]:
    """Every PromQL text in a dashboard: panel targets' expr, template variables' queries."""
    found = []
    if isinstance(node, dict):
        for key, item in node.items():
            if key in ("expr", "definition") and isinstance(item, str):
                found.append(item)
            elif key == "query" and isinstance(item, str) and item != "prometheus":
                found.append(item)
            else:
                found.extend(_queries(item))
    elif isinstance(node, list):
        for item in node:
            found.extend(_queries(item))
    return found


def test_the_grafana_dashboard_asks_only_for_metrics_a_scrape_shows(sessions, served):
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text(encoding="utf-8"))
    assert dashboard["title"] and dashboard["uid"] and dashboard["schemaVersion"] >= 36
    queries = _queries(dashboard)
    used = {name for query in queries for name in re.findall(r"\bnewsmon_[a-z_]+", query)}
    exposed = _every_sample_name(sessions, served)
    assert used and used <= exposed, used - exposed
    families = {re.sub(r"_(bucket|sum|count)$", "", n) for n in used}
    assert families >= set(STABLE_NAMES)  # the dashboard shows every one
    assert any("histogram_quantile(0.95" in q for q in queries) and any("histogram_quantile(0.5" in q for q in queries)
    for panel in dashboard["panels"]:
        assert panel["targets"] and panel["datasource"]["type"] == "prometheus", panel["title"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])


def test_docs_list_every_metric_and_the_scrape_shows_them(sessions, served):
    text = (DOCS / "metrics.md").read_text(encoding="utf-8")
    exposed = _every_sample_name(sessions, served)
    for name in STABLE_NAMES:
        assert f"`{name}" in text, name
        assert name in exposed or f"{name}_count" in exposed, name
    assert "metrics.listen" in text and "worker_listen" in text
