"""`newsmon worker`: a long-lived crawl worker fed from the check queue in Redis.

The same CheckWorker the daemon runs (one Scrapy crawler per check, one reactor that keeps
running), fed by three threads instead of stdin, so Redis calls never block the reactor:

- the taker moves the next check into this worker's in-flight list when it has room
  (crawl.parallel_sources checks at once); idle, it waits for work instead of exiting;
- the results thread sends each finished check's result to its enqueuer and drops the check
  from the in-flight list, atomically (monitor.distributed.check_queue);
- the heartbeat keeps this worker's checks its own while the reactor is alive, and puts the
  checks of dead workers (heartbeat older than crawl.heartbeat_timeout) back in the queue,
  recording each lost attempt in its run row.

While Redis is away every thread waits and reconnects; checks already running go on, and
their results are sent once Redis answers. SIGTERM (or SIGINT): take no more checks, give the
running ones crawl.stop_grace to finish, put any still running back in the queue for another
worker, exit 0. A second signal ends the grace at once. Retiring (crawl.worker_max_checks,
worker_max_memory) is the same stop followed by the process replacing itself with a fresh one.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from functools import partial

from twisted.internet import task

from crawler import progress
from crawler.worker import CheckWorker, _reactor, build_worker
from monitor import log_format, metrics
from monitor.config import NewsmonConfig
from monitor.distributed.check_queue import CheckMessage, CheckQueue, UnreadableCheck
from monitor.distributed.connection import Keys, connect, process_identity, until_answered
from monitor.reload import reload_config
from monitor.statuses import RunStatus
from monitor.store import repo
from monitor.store.session import session_scope

TAKE_WAIT = 1.0  # seconds one blocking take waits (below the client's socket timeout)
RECOVER_EVERY = 5.0  # seconds between looks for dead workers' checks
TICK = 1.0  # the reactor proves it is alive this often; the heartbeat stops if it does not
LEAVE_WAIT = 30.0  # seconds a stopping worker waits for Redis to take its last results
log = logging.getLogger("newsmon.worker")


class RedisFeed:
    def __init__(self, worker: CheckWorker, checks: CheckQueue, *, name: str, capacity: int, grace: float,
                 echo: Callable[[str], None] = print):
        self.worker = worker
        self.checks = checks
        self.name = name
        self.capacity = capacity
        self.grace = grace
        self.echo = echo
        self.lease = checks.queue.lease
        self.held: dict[str, CheckMessage] = {}  # started checks by id (reactor thread only)
        self.outgoing: queue.Queue[tuple[CheckMessage, dict | None] | None] = queue.Queue()
        self.room = threading.Semaphore(capacity)
        self.stopping = threading.Event()
        self.restart = False
        self.checks_done = 0
        self._last_tick = time.monotonic()
        self._grace_timer = None
        self._leaving = False
        worker.on_retire = self._retire

    # --- the reactor side -------------------------------------------------------------

    def _start(self, message: CheckMessage) -> None:
        if self.stopping.is_set():  # taken as we began stopping: `leave` hands it back
            self.room.release()
            return
        self.held[message.check] = message
        self.worker.check(message.source, message.check, message.next_check_at)

    def _on_result(self, result: dict) -> None:
        """Every result the CheckWorker reports (progress.result_sink), in the reactor thread."""
        message = self.held.pop(result.get("check") or "", None)
        if message is None:
            log.warning("result for a check this worker was not running: %s", result,
                        extra={"source": result.get("source")})
            return
        if result.get("refused"):  # the same check already runs here (it came back while slow): one copy goes
            self.outgoing.put((message, None))
            return
        self.checks_done += 1
        metrics.record_result(result)
        if result.get("new_articles") or result.get("status") != RunStatus.OK:
            line = f"[{message.source}] {result.get('status')}, {result.get('new_articles') or 0} new articles"
            with log_format.about_source(message.source):
                self.echo(line + (f" (error: {result['error']})" if result.get("error") else ""))
        self.outgoing.put((message, result))

    def _sent(self) -> None:
        self.room.release()
        self._maybe_leave()

    def _tick(self) -> None:
        self._last_tick = time.monotonic()
        self._maybe_leave()  # a check's crawler closes a moment after its result is sent

    # --- threads ------------------------------------------------------------------------

    def _take_loop(self) -> None:
        while not self.stopping.is_set():
            if not self.room.acquire(timeout=0.5):
                continue
            message = None
            while message is None and not self.stopping.is_set():
                try:
                    message = until_answered(lambda: self.checks.take(self.name, TAKE_WAIT), "taking a check",
                                             stop=self.stopping.is_set)
                except UnreadableCheck as exc:
                    log.error("dropped a queue item that is not a check: %s", exc)
            if message is None:
                self.room.release()
                return
            _reactor().callFromThread(self._start, message)

    def _send_loop(self) -> None:
        while True:
            entry = self.outgoing.get()
            if entry is None:
                return
            message, result = entry
            if result is None:
                until_answered(partial(self.checks.queue.ack, self.name, message.raw), "dropping a duplicate check")
            else:
                until_answered(partial(self.checks.finish, self.name, message, result), "sending a result")
            self.outgoing.task_done()
            _reactor().callFromThread(self._sent)

    def _beat_loop(self) -> None:
        last_recover = 0.0
        while not self._leaving:
            # Only while the reactor runs: a hung worker's checks must go to others.
            if time.monotonic() - self._last_tick < self.lease / 2:
                until_answered(lambda: self.checks.heartbeat(self.name, self.capacity), "sending the heartbeat",
                               stop=lambda: self._leaving)
            if time.monotonic() - last_recover >= RECOVER_EVERY:
                last_recover = time.monotonic()
                recovered = until_answered(self.checks.recover, "recovering dead workers' checks",
                                           stop=lambda: self._leaving) or []
                if recovered:
                    self._record_lost(recovered)
            time.sleep(min(2.0, self.lease / 4))

    def _record_lost(self, recovered: list[CheckMessage]) -> None:
        sources = ", ".join(sorted({m.source for m in recovered}))
        self.echo(f"{len(recovered)} check(s) of a worker whose heartbeat stopped go back in the queue: {sources}")
        message = (f"the newsmon worker running this check stopped sending heartbeats for "
                   f"{self.lease:g}s (crawl.heartbeat_timeout); another worker checks the source again")
        try:
            with session_scope(self.worker.context.sessions) as session:
                for lost in recovered:
                    repo.end_unreported_check(session, lost.source, message, since=lost.enqueued_at)
        except Exception:  # the checks are requeued either way; only their record is missing
            log.exception("could not record %d lost check(s) in the archive", len(recovered))

    # --- stopping -------------------------------------------------------------------------

    def stop(self, why: str) -> None:
        """Take no more checks; the running ones get the grace period; then leave and exit."""
        if self.stopping.is_set():  # a second signal: no more grace
            self._grace_over()
            return
        self.stopping.set()
        self.worker.accepting = False
        running = len(self.worker.running)
        self.echo(f"newsmon worker {self.name}: {why}; " + (
            f"finishing {running} running check(s) (up to {self.grace:g}s, crawl.stop_grace)" if running
            else "nothing running"))
        self._grace_timer = _reactor().callLater(self.grace, self._grace_over)
        self._maybe_leave()

    def _retire(self, reason: str) -> None:
        self.restart = True
        self.stop(f"retiring ({reason}); a fresh process takes over")

    def _reload(self) -> None:
        """SIGHUP: a valid new config means retiring into a fresh process, which reads it; an invalid
        one is reported and this worker goes on with the running config."""
        reloaded = reload_config(self.worker.config)
        if reloaded.config is None:
            self.echo(f"config reload failed, still running the previous config: {reloaded.error}")
        elif not reloaded.changes.any():
            self.echo("config reloaded: nothing changed")
        elif not self.stopping.is_set():
            self._retire(f"SIGHUP, config changed: {reloaded.changes.describe()}")

    def _grace_over(self) -> None:
        if self._grace_timer is not None and self._grace_timer.active():
            self._grace_timer.cancel()
        self._leave(cut_short=sorted(self.held.values(), key=lambda m: m.check))

    def _maybe_leave(self) -> None:
        if self.stopping.is_set() and not self.held and not self.worker.running:
            self._leave(cut_short=[])

    def _leave(self, cut_short: list[CheckMessage]) -> None:
        if self._leaving:
            return
        self._leaving = True
        if self._grace_timer is not None and self._grace_timer.active():
            self._grace_timer.cancel()
        threading.Thread(target=self._leave_in_thread, args=(cut_short,), name="newsmon-worker-leave").start()

    def _leave_in_thread(self, cut_short: list[CheckMessage]) -> None:
        """Send what is finished, hand back what is not, then stop the reactor."""
        deadline = time.monotonic() + LEAVE_WAIT
        while self.outgoing.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.05)
        if cut_short:
            self.echo(f"{len(cut_short)} check(s) still running after {self.grace:g}s (crawl.stop_grace) go back "
                      "in the queue for another worker")
            try:
                with session_scope(self.worker.context.sessions) as session:
                    for message in cut_short:
                        repo.end_unreported_check(session, message.source, "interrupted: the newsmon worker "
                                                  "stopped first; another worker checks the source again",
                                                  since=message.enqueued_at, status=RunStatus.INTERRUPTED)
            except Exception:
                log.exception("could not record the interrupted checks in the archive")
        handed = until_answered(lambda: self.checks.leave(self.name), "handing back unfinished checks",
                                stop=lambda: time.monotonic() > deadline)
        if handed is None:
            self.echo("Redis did not answer: this worker's unfinished checks go back to the queue when its "
                      f"heartbeat expires ({self.lease:g}s)")
        self.outgoing.put(None)
        # With checks cut short, Scrapy's shutdown would wait for their downloads: stop at once instead
        # (they are handed back and recorded; the process exits next).
        _reactor().callFromThread(_reactor().crash if cut_short else _reactor().stop)

    # --- running ---------------------------------------------------------------------------

    def serve(self) -> None:
        """Blocks in the reactor until stopped."""
        progress.result_sink = self._on_result
        metrics.start_worker_metrics(self.worker.config, echo=self.echo)

        def on_signal(signum, _frame) -> None:
            _reactor().callFromThread(self.stop, f"got {signal.Signals(signum).name}")

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGHUP, lambda _signum, _frame: _reactor().callFromThread(self._reload))
        task.LoopingCall(self._tick).start(TICK, now=True)
        task.LoopingCall(self.worker.forget_seen_urls).start(3600.0, now=True)
        for target, label in ((self._take_loop, "take"), (self._send_loop, "send"), (self._beat_loop, "beat")):
            threading.Thread(target=target, daemon=True, name=f"newsmon-worker-{label}").start()
        self.echo(f"newsmon worker {self.name}: taking checks from {self.checks.keys.checks} "
                  f"({self.capacity} at once)")
        self.worker.process.start(stop_after_crawl=False, install_signal_handlers=False)
        pool = getattr(_reactor(), "threadpool", None)
        if pool is not None and pool.started:  # left running by a crash(): its threads would keep us alive
            pool.stop()


def restart_self() -> None:
    """Replace this process with a fresh copy of itself (same arguments): a retiring worker."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


def run_queue_worker(config: NewsmonConfig, *, log_level: str = "WARNING") -> int:
    """`newsmon worker`: take checks from the queue until stopped; 0 on a clean stop."""
    checks = CheckQueue(connect(config.redis_url), Keys(config.redis_prefix), lease=config.crawl.heartbeat_timeout)
    log_format.configure(config, log_level)  # the one root handler, at log_level (Scrapy installs none)
    worker = build_worker(config, log_level=log_level, progress=False, long_lived=True)
    feed = RedisFeed(worker, checks, name=process_identity(), capacity=config.crawl.parallel_sources,
                     grace=config.crawl.stop_grace, echo=log_format.echo_for(config, logger="newsmon.worker"))
    try:
        feed.serve()
    finally:
        metrics.stop_metrics()
        worker.context.close()
    if feed.restart:
        restart_self()
    return 0
