"""Prometheus metrics: what the daemon and `newsmon worker`s serve on /metrics (docs/metrics.md).

Each process keeps its own registry (not prometheus_client's global one: tests start several
side by side, and nothing imported by accident lands in the exposition):

- counters and the check-duration histogram move when a check's result arrives: the daemon's
  Dispatcher records every result it receives (its crawl workers', or in distributed mode the
  results `newsmon worker`s send back through Redis); a `newsmon worker` records the checks it ran;
- the daemon also reads the archive at each scrape (ArchiveCollector): alerts by state, whether
  each source's last check succeeded, fetch errors by stage, and the schedule lag it is given.

The hooks the daemon and the worker call (start_daemon_metrics, start_worker_metrics,
record_result, record_check, stop_metrics) are no-ops while metrics are off, and record_* never
raise into the caller: a metrics bug must not cost a check. Only starting the server raises, on
purpose: a configured address that cannot be served (port in use) is an error naming the setting,
not a daemon silently without metrics.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import NewsmonConfig
from monitor.errors import NewsmonError
from monitor.statuses import AlertStatus, RunStatus
from monitor.store import repo
from monitor.store.models import FetchError, SourceState
from monitor.store.session import session_scope

log = logging.getLogger("newsmon.metrics")

# Seconds: from an unchanged feed answered 304 to crawl.check_timeout (15m by default) and beyond.
DURATION_BUCKETS = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0)
# A fetch_errors row is looked for again this long after a scrape first saw a newer one (see FetchErrorTally).
SETTLE_SECONDS = 300.0
CHECK_STATUSES = tuple(s.value for s in RunStatus if s is not RunStatus.RUNNING)

# The *_total counters' samples carry no *_created twin: they would double the series for nothing a
# dashboard reads. (A process-wide switch in prometheus_client; newsmon processes only have ours.)
disable_created_metrics()


class MetricsError(NewsmonError):
    """The configured metrics address cannot be served."""

    exit_code = 2


@dataclass
class MetricsServer:
    """A /metrics endpoint running on its own (daemon) thread."""

    server: WSGIServer
    thread: threading.Thread
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def parse_listen(listen: str, setting: str = "metrics.listen") -> tuple[str, int]:
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise MetricsError(f"{setting}: {listen!r} is not host:port (for example 127.0.0.1:9464; port 0: any free port)")
    return host, int(port)


def serve(listen: str, registry: CollectorRegistry, *, setting: str = "metrics.listen") -> tuple[MetricsServer, int]:
    """Serve `registry` on http://listen/metrics (any path answers, as prometheus_client does) from a
    thread; returns the server and the port it got (port 0 in `listen`: any free port). An address
    that cannot be bound is a MetricsError naming `setting`."""
    host, port = parse_listen(listen, setting)
    try:
        server, thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:  # EADDRINUSE, EADDRNOTAVAIL, an unknown host name (gaierror)
        reason = exc.strerror or str(exc)
        hint = (" (another process listens there: a second daemon or worker on this machine? choose another "
                "port, or port 0 for any free one)") if exc.errno == errno.EADDRINUSE else ""
        raise MetricsError(f"{setting}: cannot serve Prometheus metrics on {listen}: {reason}{hint}") from None
    bound = server.server_address[1]
    return MetricsServer(server, thread, host, bound), bound


class Metrics:
    """One process's metrics: the event-driven ones, and (watch_archive) the archive's gauges."""

    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        self.checks = Counter("newsmon_checks_total", "Checks of a source finished, by result status "
                              "(ok, partial, failed, interrupted).", ["source", "status"], registry=self.registry)
        self.articles_stored = Counter("newsmon_articles_stored_total", "New articles stored in the archive by "
                                       "checks of the source.", ["source"], registry=self.registry)
        self.check_duration = Histogram("newsmon_check_duration_seconds", "How long one check of one source took.",
                                        buckets=DURATION_BUCKETS, registry=self.registry)
        self.archive: ArchiveCollector | None = None

    def declare_sources(self, sources: Iterable[str]) -> None:
        """Start these sources' counters at 0, so the first check after a start shows in rate()."""
        for source in sources:
            self.articles_stored.labels(source=source)
            for status in CHECK_STATUSES:
                self.checks.labels(source=source, status=status)

    def record_check(self, source: str, status: str, duration_seconds: float | None = None,
                     new_articles: int = 0) -> None:
        status = str(getattr(status, "value", status) or "unknown")
        self.checks.labels(source=source, status=status).inc()
        if new_articles and new_articles > 0:
            self.articles_stored.labels(source=source).inc(new_articles)
        if duration_seconds is not None and duration_seconds >= 0:
            self.check_duration.observe(duration_seconds)

    def record_result(self, result: Mapping) -> None:
        """A check's result dict (crawler.extensions.runlog RunLog.result: source, status, new_articles,
        elapsed, …). A refused check (handed back, run elsewhere) is not a check and is not counted."""
        if result.get("refused") or not result.get("source"):
            return
        elapsed = result.get("elapsed")
        self.record_check(str(result["source"]), result.get("status") or "unknown",
                          float(elapsed) if isinstance(elapsed, (int, float)) else None,
                          int(result.get("new_articles") or 0))

    def watch_archive(self, sessions: sessionmaker[Session], *, schedule_lag: Callable[[], float] | None = None,
                      sources: Callable[[], Iterable[str]] | None = None) -> ArchiveCollector:
        self.archive = ArchiveCollector(sessions, schedule_lag=schedule_lag, sources=sources)
        self.registry.register(self.archive)
        return self.archive


class FetchErrorTally:
    """newsmon_fetch_errors_total{source,stage}: fetch_errors rows recorded since this process started.

    Counted from the table, not from check results, because the table is where every fetch error
    is recorded and a result is not: a result carries only a total `errors`, with no stage, and the
    errors the daemon records itself (stage `crawl`: a worker died or hung, a check never reported)
    or a `newsmon worker` records for a dead worker's checks come with no result at all. Counting
    rows keeps the metric equal to what `newsmon status` and the fetch_errors table show.

    A counter must never go down, so this is not COUNT(*) (a pruned table would lower it): each
    scrape adds the rows with an id above a floor, each id once, to counts kept in this process
    (which start at 0 with the process, as any counter does; the floor starts at the highest id
    then). Ids are handed out before commit, so on PostgreSQL a row can become visible after a
    higher id was already seen: the floor therefore only passes an id SETTLE_SECONDS after a scrape
    first saw it, and the ids above the floor are remembered, so a late row is counted once, late.
    """

    def __init__(self) -> None:
        self.floor: int | None = None
        self.seen: dict[int, float] = {}  # ids above the floor -> when first seen (monotonic)
        self.counts: Tally[tuple[str, str]] = Tally()
        self.lock = threading.Lock()

    def start(self, session: Session) -> None:
        with self.lock:
            if self.floor is None:
                self.floor = session.scalar(select(func.max(FetchError.id))) or 0

    def update(self, session: Session, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self.lock:
            if self.floor is None:  # the archive did not answer at the start: count from now on
                self.floor = session.scalar(select(func.max(FetchError.id))) or 0
                return
            rows = session.execute(select(FetchError.id, FetchError.source, FetchError.stage)
                                   .where(FetchError.id > self.floor))
            for row_id, source, stage in rows:
                if row_id not in self.seen:
                    self.seen[row_id] = now
                    self.counts[(source, stage)] += 1
            settled = [row_id for row_id, first in self.seen.items() if now - first >= SETTLE_SECONDS]
            if settled:
                self.floor = max(settled)
                self.seen = {row_id: first for row_id, first in self.seen.items() if row_id > self.floor}

    def snapshot(self) -> dict[tuple[str, str], int]:
        with self.lock:
            return dict(self.counts)


class ArchiveCollector(Collector):
    """The daemon's metrics read at scrape time: from the archive, and the schedule lag it is given.
    A scrape while the archive does not answer leaves the archive's gauges out (a gap, not a false
    0) and logs it once per outage; the fetch-error counts so far are still served."""

    def __init__(self, sessions: sessionmaker[Session], *, schedule_lag: Callable[[], float] | None = None,
                 sources: Callable[[], Iterable[str]] | None = None):
        self.sessions = sessions
        self.schedule_lag = schedule_lag
        self.sources = sources
        self.fetch_errors = FetchErrorTally()
        self._archive_failing = False
        try:
            with self._session() as session:
                self.fetch_errors.start(session)
        except Exception as exc:
            log.warning("metrics: could not read the archive at the start (%s); fetch errors are counted from the "
                        "first scrape that can", exc)

    def _session(self):
        return session_scope(self.sessions)

    def describe(self):
        return [GaugeMetricFamily("newsmon_alerts", "", labels=["state"]),
                GaugeMetricFamily("newsmon_source_up", "", labels=["source"]),
                CounterMetricFamily("newsmon_fetch_errors", "", labels=["source", "stage"]),
                GaugeMetricFamily("newsmon_schedule_lag_seconds", "")]

    def collect(self):
        try:
            yield from self._collect_archive()
        except Exception as exc:  # never fail the whole scrape
            if not self._archive_failing:
                log.warning("metrics: could not read the archive for /metrics (%s: %s); its metrics are left out "
                            "until it answers", exc.__class__.__name__, exc)
            self._archive_failing = True
        errors = CounterMetricFamily("newsmon_fetch_errors", "Fetch errors recorded in the archive (fetch_errors "
                                     "rows) since this daemon started, by source and stage (feed, page, extract, "
                                     "store, crawl, …).", labels=["source", "stage"])
        for (source, stage), n in sorted(self.fetch_errors.snapshot().items()):
            errors.add_metric([source, stage], n)
        yield errors
        lag = self._lag()
        if lag is not None:
            yield GaugeMetricFamily("newsmon_schedule_lag_seconds", "How late the most overdue source is, in "
                                    "seconds (0 while none is more than 5 s past its due time).", value=lag)

    def _collect_archive(self):
        with self._session() as session:
            counts = repo.alert_counts(session)
            states = session.execute(select(SourceState.source, SourceState.last_run_at,
                                            SourceState.consecutive_failures)).all()
            self.fetch_errors.update(session)
        if self._archive_failing:
            log.warning("metrics: the archive answers again")
        self._archive_failing = False
        alerts = GaugeMetricFamily("newsmon_alerts", "Alerts in the outbox, by state (pending, sending, sent, dead).",
                                   labels=["state"])
        for state in (*AlertStatus.values(), *sorted(set(counts) - set(AlertStatus.values()))):
            alerts.add_metric([state], counts.get(state, 0))
        yield alerts
        wanted = self._wanted_sources()
        up = GaugeMetricFamily("newsmon_source_up", "1 if the source's last check (interrupted ones aside) "
                               "succeeded (ok or partial), 0 if it failed; absent until it is first checked.",
                               labels=["source"])
        for source, last_run_at, failures in sorted(states):
            if last_run_at is not None and (wanted is None or source in wanted):
                up.add_metric([source], 0 if failures else 1)
        yield up

    def _wanted_sources(self) -> set[str] | None:
        if self.sources is None:
            return None
        for _attempt in range(3):  # read from the dispatch thread's data: a change mid-read is tried again
            try:
                return set(self.sources())
            except RuntimeError:
                continue
        return None

    def _lag(self) -> float | None:
        if self.schedule_lag is None:
            return None
        for _attempt in range(3):
            try:
                value = self.schedule_lag()
                return float(getattr(value, "oldest_seconds", value))
            except RuntimeError:  # "dictionary changed size during iteration": the dispatcher moved on
                continue
            except Exception:
                log.warning("metrics: the schedule lag could not be read", exc_info=True)
                return None
        return None


# --- the process's metrics: the hooks the daemon and `newsmon worker` call ---------------------

_active: Metrics | None = None
_server: MetricsServer | None = None


def active() -> Metrics | None:
    return _active


def start_daemon_metrics(config: NewsmonConfig, sessions: sessionmaker[Session], *, schedule_lag: Callable[[], float] | None = None,
                         sources: Callable[[], Iterable[str]] | None = None,
                         echo: Callable[[str], None] | None = None) -> MetricsServer | None:
    """`newsmon run`: serve /metrics on config.metrics.listen; None (and nothing else) when it is not
    set. Raises MetricsError when the address cannot be served."""
    listen = config.metrics.listen
    if not listen:
        return None
    metrics = Metrics()
    metrics.declare_sources(s.name for s in config.enabled_sources())
    metrics.watch_archive(sessions, schedule_lag=schedule_lag, sources=sources)
    return _start(metrics, listen, "metrics.listen", "Prometheus metrics", echo)


def start_worker_metrics(config: NewsmonConfig, *, echo: Callable[[str], None] | None = None) -> MetricsServer | None:
    """`newsmon worker`: serve its own /metrics on config.metrics.worker_listen (port 0: any free port,
    printed); None when it is not set. Raises MetricsError when the address cannot be served."""
    listen = config.metrics.worker_listen
    if not listen:
        return None
    metrics = Metrics()
    metrics.declare_sources(s.name for s in config.enabled_sources())
    return _start(metrics, listen, "metrics.worker_listen", "newsmon worker metrics", echo)


def _start(metrics: Metrics, listen: str, setting: str, what: str,
           echo: Callable[[str], None] | None) -> MetricsServer:
    global _active, _server
    stop_metrics()
    server, _port = serve(listen, metrics.registry, setting=setting)
    _active, _server = metrics, server
    line = f"{what} on {server.url}"
    log.info(line)
    if echo is not None:
        echo(line)
    return server


def record_result(result: Mapping) -> None:
    """A check's result arrived (Dispatcher._result, RedisFeed._on_result). No-op when metrics are off."""
    metrics = _active
    if metrics is None:
        return
    try:
        metrics.record_result(result)
    except Exception:
        log.warning("metrics: could not record a check result", exc_info=True)


def record_check(source: str, status: str, duration_seconds: float | None = None, new_articles: int = 0) -> None:
    """A check that ended without a result (lost with its worker, cut short): counted by its status."""
    metrics = _active
    if metrics is None:
        return
    try:
        metrics.record_check(source, status, duration_seconds, new_articles)
    except Exception:
        log.warning("metrics: could not record a check", exc_info=True)


def stop_metrics() -> None:
    """Stop serving and forget the process's metrics (the daemon's end; tests)."""
    global _active, _server
    server, _server, _active = _server, None, None
    if server is not None:
        try:
            server.close()
        except Exception:
            log.warning("metrics: could not stop the /metrics server", exc_info=True)
