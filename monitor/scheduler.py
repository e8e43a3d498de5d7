"""`newsmon run`: the daemon. APScheduler 3 with a SQL job store.

Each source is an interval job that runs a crawl cycle (crawl subprocess ->
match -> deliver); the outbox also has its own delivery job so retries go out
between crawls. Jobs coalesce and have a generous misfire grace time: with
APScheduler's default of 1 s, runs are silently dropped after any pause.

SIGTERM/SIGINT: stop scheduling, let the running step finish, exit 0. A second
signal asks running crawls to stop early; crawls still running after
crawl.stop_grace are killed with their extraction workers.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import NewsmonConfig
from monitor.cycle import run_cycle
from monitor.outbox import Outbox
from monitor.running_crawls import running, terminate_running
from monitor.statuses import RunStatus
from monitor.store import repo
from monitor.store.session import session_scope

log = logging.getLogger("newsmon.daemon")

CRAWL_JOB_PREFIX = "crawl:"
DELIVERY_JOB_ID = "deliver"
RETENTION_JOB_ID = "retention"
RETENTION_EVERY = 6 * 3600

# Jobs in a SQL job store are stored by reference ("module:function" + args),
# so they reach the running daemon through this module attribute.
_daemon: Daemon | None = None


def crawl_job(source: str) -> None:
    if _daemon is not None:
        _daemon.crawl(source)


def delivery_job() -> None:
    if _daemon is not None:
        _daemon.deliver()


def retention_job() -> None:
    if _daemon is not None:
        _daemon.apply_retention()


class Daemon:
    def __init__(self, config: NewsmonConfig, engine: Engine, sessions: sessionmaker[Session],
                 echo=print):
        self.config = config
        self.sessions = sessions
        self.outbox = Outbox(config, sessions)
        self.echo = echo
        self.stopping = threading.Event()
        self._deliver_lock = threading.Lock()
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")},
            executors={"default": ThreadPoolExecutor(max_workers=max(2, config.crawl.parallel_sources + 1))},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": int(config.schedule.misfire_grace_time)},
            timezone="UTC",
        )

    # --- jobs ---------------------------------------------------------------

    def crawl(self, source: str) -> None:
        if self.stopping.is_set():
            return
        with session_scope(self.sessions) as session:
            until = repo.throttled_until(session, source)
        if until is not None and until > repo.utcnow():
            self.echo(f"crawl {source}: skipped, the site asked us to wait until {until:%H:%M:%S} UTC")
            return
        self.echo(f"crawl {source}: starting")
        try:
            report = run_cycle(self.config, self.sessions, self.outbox, [source], quiet=True)
        except Exception as exc:  # never let one source's failure stop the daemon
            log.exception("cycle for %s failed", source)
            self.echo(f"crawl {source}: cycle failed: {exc.__class__.__name__}: {exc}")
            return
        result = report.crawl.results.get(source)
        status = result.status if result else RunStatus.FAILED
        line = (f"crawl {source}: {status}, {result.new_articles if result else 0} new articles, "
                f"{report.matched.queued} alerts queued, {report.delivered.sent} sent")
        if result and result.error:
            line += f" (error: {result.error})"
        self.echo(line)

    def deliver(self) -> None:
        if self.stopping.is_set() or not self._deliver_lock.acquire(blocking=False):
            return
        try:
            summary = self.outbox.deliver_due()
            if summary.sent or summary.failed or summary.dead:
                self.echo(f"deliver: {summary.sent} sent, {summary.failed} to retry, {summary.dead} dead")
        except Exception:
            log.exception("delivery pass failed")
        finally:
            self._deliver_lock.release()

    def apply_retention(self) -> None:
        keep = self.config.retention.article_text
        if keep is None or self.stopping.is_set():
            return
        try:
            with session_scope(self.sessions) as session:
                emptied = repo.prune_article_text(session, repo.utcnow() - timedelta(seconds=keep))
            if emptied:
                self.echo(f"retention: emptied the text of {emptied} articles older than {keep / 86400:g} days")
        except Exception:
            log.exception("retention pass failed")

    # --- lifecycle ------------------------------------------------------------

    def _schedule(self) -> None:
        now = repo.utcnow()
        wanted = set()
        with session_scope(self.sessions) as session:
            for source in self.config.enabled_sources():
                interval = self.config.source_interval(source)
                last = repo.last_run_at(session, source.name)
                # Resume the rhythm across restarts instead of crawling everything at once.
                first = max(now, last + timedelta(seconds=interval)) if last else now
                job_id = CRAWL_JOB_PREFIX + source.name
                wanted.add(job_id)
                self.scheduler.add_job(crawl_job, IntervalTrigger(seconds=interval, timezone="UTC"),
                                       args=[source.name], id=job_id, name=f"crawl {source.name}",
                                       replace_existing=True, next_run_time=first,
                                       jitter=self.config.schedule.jitter)
        wanted.add(DELIVERY_JOB_ID)
        if self.config.retention.article_text is not None:
            wanted.add(RETENTION_JOB_ID)
            self.scheduler.add_job(retention_job, IntervalTrigger(seconds=RETENTION_EVERY, timezone="UTC"),
                                   id=RETENTION_JOB_ID, name="retention", replace_existing=True, next_run_time=now)
        self.scheduler.add_job(delivery_job, IntervalTrigger(seconds=self.config.schedule.delivery_interval,
                                                             timezone="UTC"),
                               id=DELIVERY_JOB_ID, name="deliver alerts", replace_existing=True, next_run_time=now)
        for job in self.scheduler.get_jobs():
            if job.id not in wanted:  # a source removed from config since the last run
                job.remove()

    def run(self) -> int:
        global _daemon
        _daemon = self
        signals_seen = 0

        def on_signal(signum, _frame):
            nonlocal signals_seen
            signals_seen += 1
            if signals_seen == 1:
                self.echo(f"received {signal.Signals(signum).name}: finishing the current step, then exiting "
                          f"(running crawls get {self.config.crawl.stop_grace:g}s, crawl.stop_grace)")
                self.stopping.set()
            else:
                self.echo(f"received {signal.Signals(signum).name} again: stopping running crawls now")
                terminate_running()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.scheduler.start(paused=True)
            self._schedule()
            self.scheduler.resume()
            sources = ", ".join(s.name for s in self.config.enabled_sources()) or "none"
            self.echo(f"newsmon daemon running: sources {sources}; Ctrl-C or SIGTERM to stop")
            while not self.stopping.wait(timeout=1.0):
                pass
            self._stop_crawls()
            self.scheduler.shutdown(wait=True)
            self.outbox.close()
            self.echo("newsmon daemon stopped")
            return 0
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            running.accept_new()
            _daemon = None

    def _stop_crawls(self) -> None:
        """Give running crawls crawl.stop_grace to finish, then kill them and refuse new ones,
        so the scheduler's shutdown never waits on a hung crawl."""
        grace = self.config.crawl.stop_grace
        finished = running.wait_idle(grace)
        killed = running.kill_all(f"crawl process killed: the daemon was stopping and the crawl was still "
                                  f"running after {grace:g}s (crawl.stop_grace)")
        if not finished and killed:
            self.echo(f"{killed} crawl(s) still running after {grace:g}s (crawl.stop_grace): killed")
