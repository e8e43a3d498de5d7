"""`newsmon run`: the daemon.

Source checks: monitor.dispatch hands due sources (monitor.schedule) to long-lived
crawl workers (monitor.worker_pool). The daemon's own periodic jobs run on
APScheduler 3 with an in-memory job store, rebuilt at each start: matching new
articles and delivering the outbox (every schedule.delivery_interval, and at once
when a check stored new articles), and retention. They coalesce and have a
generous misfire grace time: with APScheduler's default of 1 s, runs are
silently dropped after any pause.

SIGTERM/SIGINT: stop handing out checks, give the running ones crawl.stop_grace,
stop the workers, match and deliver what is due, exit 0. A second signal stops
the running checks at once.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session, sessionmaker

from monitor import metrics
from monitor.alerting import match_new_articles
from monitor.config import NewsmonConfig
from monitor.dispatch import Dispatcher
from monitor.health import evaluate_health
from monitor.outbox import Outbox
from monitor.reload import reload_config
from monitor.store import repo
from monitor.store.session import session_scope

log = logging.getLogger("newsmon.daemon")

DELIVERY_JOB_ID = "deliver"
RETENTION_JOB_ID = "retention"
RETENTION_EVERY = 6 * 3600


class Daemon:
    def __init__(self, config: NewsmonConfig, sessions: sessionmaker[Session], echo=print, web=None):
        self.config = config
        self.web = web  # `run --web`: a monitor.web.serve.WebThread, started and stopped with the daemon
        self.sessions = sessions
        self.outbox = Outbox(config, sessions)
        self.echo = echo
        self.stopping = threading.Event()
        self._deliver_lock = threading.Lock()
        self._again = threading.Event()
        self._reload_asked = threading.Event()  # SIGHUP: handled by the main loop, not in the handler
        # Distributed mode (redis_url): checks go through Redis to `newsmon worker`s, anywhere.
        if config.redis_url:
            from monitor.queue_dispatch import QueueDispatcher  # needs the redis extra

            dispatcher = QueueDispatcher
        else:
            dispatcher = Dispatcher
        self.dispatcher = dispatcher(config, sessions, echo=echo, on_new_articles=self._deliver_soon)
        self.scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(max_workers=2)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": int(config.schedule.misfire_grace_time)},
            timezone="UTC",
        )

    # --- periodic jobs -------------------------------------------------------------

    def deliver(self) -> None:
        """Match the articles stored since the last pass, then send what is due."""
        if not self._deliver_lock.acquire(blocking=False):
            self._again.set()  # articles arrived during a pass: the running pass goes round once more
            return
        try:
            while True:
                self._again.clear()
                matched = match_new_articles(self.config, self.sessions)
                evaluate_health(self.config, self.sessions)  # operator alerts, through the same outbox
                summary = self.outbox.deliver_due()
                if matched.queued or summary.sent or summary.failed or summary.dead:
                    self.echo(f"deliver: {matched.queued} alerts queued; {summary.sent} sent, {summary.failed} to "
                              f"retry, {summary.dead} dead")
                if not self._again.is_set() or self.stopping.is_set():
                    break
        except Exception:  # the next pass tries again; the outbox keeps what was not sent
            log.exception("matching and delivery pass failed")
        finally:
            self._deliver_lock.release()

    def _deliver_soon(self) -> None:
        """A check stored new articles: match and deliver now rather than at the next tick."""
        if self.stopping.is_set():
            return
        if self._deliver_lock.locked():
            self._again.set()
            return
        try:
            self.scheduler.modify_job(DELIVERY_JOB_ID, next_run_time=repo.utcnow())
        except Exception:  # the scheduler is shutting down: the final pass delivers them
            log.debug("could not bring the delivery pass forward", exc_info=True)

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

    def _schedule_jobs(self) -> None:
        now = repo.utcnow()
        self.scheduler.add_job(self.deliver, IntervalTrigger(seconds=self.config.schedule.delivery_interval,
                                                             timezone="UTC"),
                               id=DELIVERY_JOB_ID, name="match and deliver alerts", next_run_time=now)
        if self.config.retention.article_text is not None:
            self.scheduler.add_job(self.apply_retention, IntervalTrigger(seconds=RETENTION_EVERY, timezone="UTC"),
                                   id=RETENTION_JOB_ID, name="retention", next_run_time=now)

    def reload(self) -> None:
        """SIGHUP: the config directory again. A config that fails validation changes nothing."""
        reloaded = reload_config(self.config)
        if reloaded.config is None:
            self.echo(f"config reload failed, still running the previous config: {reloaded.error}")
            return
        self.echo(f"config reloaded: {reloaded.changes.describe()}")
        if not reloaded.changes.any():
            return
        with self._deliver_lock:  # no delivery pass is half on the old config and half on the new
            old_outbox, self.outbox = self.outbox, Outbox(reloaded.config, self.sessions)
            self.config = reloaded.config
        old_outbox.close()
        self.dispatcher.reload(reloaded.config)
        if self.web is not None:
            self.web.reload(reloaded.config)
        self.scheduler.reschedule_job(DELIVERY_JOB_ID, trigger=IntervalTrigger(
            seconds=self.config.schedule.delivery_interval, timezone="UTC"))

    # --- lifecycle ---------------------------------------------------------------------

    def run(self) -> int:
        signals_seen = 0

        def on_signal(signum, _frame):
            nonlocal signals_seen
            signals_seen += 1
            if signals_seen == 1:
                self.echo(f"received {signal.Signals(signum).name}: finishing the current step, then exiting "
                          f"(running checks get {self.config.crawl.stop_grace:g}s, crawl.stop_grace)")
                self.stopping.set()
                self.dispatcher.stopping.set()
            else:
                self.echo(f"received {signal.Signals(signum).name} again: stopping running checks now")
                self.dispatcher.hurry.set()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, lambda _signum, _frame: self._reload_asked.set())
        try:
            metrics.start_daemon_metrics(
                self.config, self.sessions, echo=self.echo,
                schedule_lag=lambda: self.dispatcher.queue.lag(repo.utcnow()).oldest_seconds,
                sources=lambda: list(self.dispatcher.sources))
            if self.web is not None:
                self.web.start()
                self.echo(f"web view on http://{self.web.host}:{self.web.port}/")
            self.dispatcher.load_schedule()
            self.scheduler.start(paused=True)
            self._schedule_jobs()
            self.scheduler.resume()
            self.dispatcher.start()
            sources = len(self.dispatcher.sources)
            self.echo(f"newsmon daemon running: {sources} source(s), {self.config.crawl.workers} crawl worker(s), "
                      f"up to {self.config.crawl.parallel_sources} checks at once; Ctrl-C or SIGTERM to stop")
            while not self.stopping.wait(timeout=1.0):
                if self._reload_asked.is_set():
                    self._reload_asked.clear()
                    self.reload()
                if not self.dispatcher.alive():
                    self.echo("the dispatch loop stopped unexpectedly; exiting")
                    self.stopping.set()
                    self.scheduler.shutdown(wait=True)
                    self.outbox.close()
                    return 1
            self.dispatcher.join()  # in-flight checks finish (crawl.stop_grace), workers stop
            self.scheduler.shutdown(wait=True)
            self.deliver()  # what the last checks stored, and what is due
            self.outbox.close()
            self.echo("newsmon daemon stopped")
            return 0
        finally:
            if self.web is not None:
                self.web.stop()
            metrics.stop_metrics()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
