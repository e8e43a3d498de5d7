"""Due sources -> long-lived crawl workers, in one thread of the daemon.

The loop: take what the workers said (results, heartbeats, retirements, exits),
replace workers that died or hung and put the checks they held back in line,
then hand the due sources, oldest first, to workers with room, at most
crawl.concurrent_requests_per_domain checks of one host at once. Each source's
hosts go to one worker slot, so robots.txt Crawl-delay pacing (per process) holds
for the host as a whole.

Nothing is dropped: a check lost with its worker is recorded (the run row says
why) and its source is due again at once; when the machine cannot keep up, the
lag is logged every schedule.lag_report_every and shown by `newsmon status`.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.orm import Session, sessionmaker

from monitor import metrics
from monitor.config import NewsmonConfig
from monitor.log_format import about_source
from monitor.process_group import wait_exited
from monitor.schedule import DueQueue, first_due, next_due
from monitor.statuses import RunStatus
from monitor.store import repo
from monitor.store.session import session_scope
from monitor.worker_pool import Assignment, Event, WorkerProcess, WorkerSet

TICK = 0.25  # seconds the loop waits for worker news before looking at the clock again
log = logging.getLogger("newsmon.daemon")


@dataclass
class Tally:
    """Checks finished since the last report."""

    done: int = 0
    unchanged: int = 0
    new_articles: int = 0
    failed: int = 0
    lost: int = 0  # with a worker that died or hung


def host_of(start_url: str) -> str:
    return (urlsplit(start_url).hostname or "").lower()


def _slot_of(host: str, slots: int) -> int:
    digest = hashlib.blake2b(host.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % slots


class Dispatcher:
    def __init__(self, config: NewsmonConfig, sessions: sessionmaker[Session], *, echo: Callable[[str], None],
                 on_new_articles: Callable[[], None]):
        self.config = config
        self.sessions = sessions
        self.echo = echo
        self.on_new_articles = on_new_articles
        self.events: queue.Queue[Event] = queue.Queue()
        self.workers = self._make_workers()
        self.queue = DueQueue()
        self.sources = {s.name: s for s in config.enabled_sources()}
        self.hosts = {name: host_of(s.start_urls[0]) if s.start_urls else "" for name, s in self.sources.items()}
        self.busy_hosts: Counter[str] = Counter()
        self.per_host = config.crawl.concurrent_requests_per_domain
        self.tally = Tally()
        self.stopping = threading.Event()
        self.hurry = threading.Event()  # a second signal: stop the running checks without waiting
        # Each host's sources go to one worker slot (hashed once here: the dispatch loop asks often).
        self.slots = {name: _slot_of(host, self.workers.slots) for name, host in self.hosts.items()}
        self._last_report = time.monotonic()
        self._check_number = 0
        self._thread: threading.Thread | None = None
        self._new_config: NewsmonConfig | None = None  # from a SIGHUP, applied by the dispatch thread

    def _make_workers(self) -> WorkerSet:
        return WorkerSet(self.config, self.events)

    def _new_check_id(self, source: str) -> str:
        self._check_number += 1
        return f"{source}#{self._check_number}"

    # --- schedule ------------------------------------------------------------------------

    def load_schedule(self) -> None:
        """Each enabled source's first due time, from the archive (restart-safe), oldest first."""
        now = repo.utcnow()
        with session_scope(self.sessions) as session:
            closed = self._close_abandoned_runs(session, now)
            rows = repo.schedule_rows(session)
        if closed:
            self.echo(f"{closed} check(s) left running by a previous newsmon marked interrupted; checking again")
        newcomers = 0
        for name, source in sorted(self.sources.items()):
            row = rows.get(name)
            due = first_due(name, now=now, interval=self.config.source_interval(source),
                            stored_next=row.next_check_at if row else None,
                            last_run=row.last_run_at if row else None, position=newcomers,
                            jitter=self.config.schedule.jitter)
            if row is None or (row.next_check_at is None and row.last_run_at is None):
                newcomers += 1
            if row is not None and row.throttled_until is not None and row.throttled_until > due:
                due = row.throttled_until
            self.queue.put(name, due)

    def _close_abandoned_runs(self, session: Session, now: datetime) -> int:
        """Runs left 'running' at our start were a previous daemon's workers': they are gone."""
        return repo.close_abandoned_runs(session, now, "interrupted: the newsmon process running this "
                                         "check stopped before it finished")

    # --- reloading ------------------------------------------------------------------------

    def reload(self, config: NewsmonConfig) -> None:
        """Use `config` from the next turn of the loop (any thread may call this)."""
        self._new_config = config

    def _apply_new_config(self) -> None:
        config, self._new_config = self._new_config, None
        if config is None:
            return
        old = self.sources
        self.config = config
        self.sources = {s.name: s for s in config.enabled_sources()}
        for name, source in self.sources.items():
            self.hosts[name] = host_of(source.start_urls[0]) if source.start_urls else ""
            self.slots[name] = _slot_of(self.hosts[name], self.workers.slots)
        now = repo.utcnow()
        for position, name in enumerate(sorted(set(self.sources) - set(old))):
            # New (or newly enabled): due now, started gradually like sources never checked.
            self.queue.put(name, first_due(name, now=now, interval=config.source_interval(self.sources[name]),
                                           stored_next=None, last_run=None, position=position,
                                           jitter=config.schedule.jitter))
        for name in set(old) - set(self.sources):
            self.queue.discard(name)  # a check of it still running finishes; it is not due again
        self.per_host = config.crawl.concurrent_requests_per_domain
        self._restart_workers_for(config)

    def _restart_workers_for(self, config: NewsmonConfig) -> None:
        """Workers read the config when they start: each finishes what it holds while a fresh one
        (with the new config) takes its slot."""
        self.workers.config = config
        self.workers.capacity = -(-config.crawl.parallel_sources // self.workers.slots)
        for worker in list(self.workers.live.values()):
            worker.send_stop()
            self.workers.retire(worker)

    # --- the loop ------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="newsmon-dispatch")
        self._thread.start()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        try:
            while not self.stopping.is_set():
                if self.sources:  # no source, no worker to keep
                    self.workers.ensure_running()
                self._drain_events(TICK)
                self._apply_new_config()
                self._watch_workers()
                self._dispatch()
                self._maybe_report()
            self._shut_down()
        except Exception:  # the daemon must hear of it: it stops instead of checking nothing, silently
            log.exception("the dispatch loop failed")
            self.echo("dispatch loop failed (traceback in the log); stopping the workers")
            self._kill_everything("interrupted: the daemon's dispatch loop failed")
            raise

    def _dispatch(self) -> None:
        now = repo.utcnow()
        room = {slot: self.workers.free_capacity(slot) for slot in range(self.workers.slots)}
        total_room = sum(room.values())
        if total_room <= 0:
            return

        def can_take(source: str) -> bool:
            return room[self.slots[source]] > 0 and self.busy_hosts[self.hosts[source]] < self.per_host

        for due in self.queue.take(now, total_room, can_take):
            slot = self.slots[due.source]
            assignment = Assignment(check_id=self._new_check_id(due.source), source=due.source, due=due.due,
                                    started=now, handed_at=time.monotonic())
            interval = self.config.source_interval(self.sources[due.source])
            worker = self.workers.live[slot]
            if worker.send_check(assignment, next_due(due.due, interval, now, started=now)):
                room[slot] -= 1
                self.busy_hosts[self.hosts[due.source]] += 1
            else:  # the worker just died: the source waits for its replacement
                self.queue.put(due.source, due.due)

    def _drain_events(self, wait: float) -> None:
        try:
            event = self.events.get(timeout=wait)
        except queue.Empty:
            return
        while True:
            self._handle(event)
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                return

    def _handle(self, event: Event) -> None:
        worker = event.worker
        if event.kind == "result":
            self._result(worker, event.payload)
        elif event.kind == "retiring":
            self.echo(f"crawl worker {worker.pid} retiring ({event.payload.get('reason')}); starting a fresh one")
            self.workers.retire(worker)
        elif event.kind == "exited":
            self._worker_gone(worker, None)

    def _result(self, worker: WorkerProcess, result: dict) -> None:
        assignment = worker.held.pop(result.get("check") or "", None)
        if assignment is None:
            log.warning("result for a check this daemon did not hand out: %s", result,
                        extra={"source": result.get("source")})
            return
        if result.get("refused"):  # the worker was stopping: the check goes to the next one
            self._hand_back([assignment])
            return
        self.busy_hosts[self.hosts[assignment.source]] -= 1
        metrics.record_result(result)
        source = self.sources.get(assignment.source)
        if source is None:  # removed from the config (SIGHUP) while its check ran: not due again
            self.tally.done += 1
            return
        throttled = result.get("throttled_until")
        self.queue.put(assignment.source, next_due(assignment.due, self.config.source_interval(source),
                                                   repo.utcnow(),
                                                   datetime.fromisoformat(throttled) if throttled else None,
                                                   started=assignment.started))
        status = result.get("status")
        new = int(result.get("new_articles") or 0)
        self.tally.done += 1
        self.tally.unchanged += int(bool(result.get("unchanged")) and not new)
        self.tally.new_articles += new
        self.tally.failed += int(status == RunStatus.FAILED)
        if new or status != RunStatus.OK:
            line = f"crawl {assignment.source}: {status}, {new} new articles"
            if result.get("error"):
                line += f" (error: {result['error']})"
            with about_source(assignment.source):
                self.echo(line)
        if new:
            self.on_new_articles()

    # --- workers that die, hang or outstay their checks ------------------------------------------

    def _watch_workers(self) -> None:
        hung_after = self.config.crawl.heartbeat_timeout
        overdue_after = self.config.crawl.check_timeout + hung_after
        for worker in list(self.workers.all()):
            if worker.exited():
                self._worker_gone(worker, None)
            elif worker.silent_for() > hung_after:
                self._worker_gone(worker, f"no heartbeat for {worker.silent_for():.0f}s "
                                          f"(crawl.heartbeat_timeout {hung_after:g}s): killed as hung")
            elif any(time.monotonic() - a.handed_at > overdue_after for a in worker.held.values()):
                self._worker_gone(worker, f"a check ran past crawl.check_timeout ({self.config.crawl.check_timeout:g}s)"
                                          " and the worker did not stop it: killed")

    def _worker_gone(self, worker: WorkerProcess, why: str | None) -> None:
        if worker not in list(self.workers.all()):
            return  # already handled (its exit event after we killed it)
        lost = self._remove(worker)
        if why is None and worker.exit_code == 0:
            # A clean exit (retired, or told to stop by someone else): it reported every check it
            # started, so what it still holds reached it too late to start: hand those out again.
            self._hand_back(lost)
            if not worker.retiring:
                self.echo(f"crawl worker {worker.pid} stopped; starting another")
            return
        if why is None:
            why = f"crawl worker {worker.pid} died ({worker.death_note(worker.exit_code)})"
        else:
            why = f"crawl worker {worker.pid}: {why}"
        if worker.restart_delay:
            why += f"; the next worker starts in {worker.restart_delay:g}s"
        if lost or not self.stopping.is_set():
            self.echo(f"{why}; {len(lost)} check(s) it held go back in line" if lost else why)
        self._requeue_lost(lost, f"{why}; the source is checked again")

    def _drain_results_of(self, worker: WorkerProcess) -> None:
        """Results it sent before dying count: handle the events already queued."""
        pending: list[Event] = []
        while True:
            try:
                pending.append(self.events.get_nowait())
            except queue.Empty:
                break
        for event in pending:
            if event.worker is worker and event.kind == "result":
                self._result(worker, event.payload)
            elif event.worker is not worker:
                self.events.put(event)

    def _hand_back(self, assignments: list[Assignment]) -> None:
        """Checks that did not run: their sources wait again, due as before (first in line)."""
        for assignment in assignments:
            self.busy_hosts[self.hosts[assignment.source]] -= 1
            if assignment.source in self.sources:  # not if a reload removed it meanwhile
                self.queue.put(assignment.source, assignment.due)

    def _requeue_lost(self, lost: list[Assignment], message: str, *, status: RunStatus = RunStatus.FAILED) -> None:
        """Checks lost with their worker: each recorded once (its run row says why), then handed back."""
        if not lost:
            return
        with session_scope(self.sessions) as session:
            for assignment in lost:
                repo.end_unreported_check(session, assignment.source, message, since=assignment.started,
                                          status=status)
        for assignment in lost:
            metrics.record_check(assignment.source, status)
        self._hand_back(lost)
        self.tally.lost += len(lost)

    # --- telling the operator ------------------------------------------------------------------

    def _maybe_report(self) -> None:
        every = self.config.schedule.lag_report_every
        if time.monotonic() - self._last_report < every:
            return
        self._last_report = time.monotonic()
        t, self.tally = self.tally, Tally()
        lag = self.queue.lag(repo.utcnow())
        line = (f"checks in the last {every:g}s: {t.done} done ({t.unchanged} unchanged, {t.new_articles} new "
                f"articles, {t.failed} failed{f', {t.lost} lost with a worker' if t.lost else ''}); "
                f"{self.workers.held()} running")
        self.echo(line)
        if lag.overdue:
            self.echo(f"schedule lag: {lag.overdue} source(s) overdue, the oldest {lag.oldest_source} by "
                      f"{lag.oldest_seconds:.0f}s: more checks fall due than the workers finish (crawl.workers="
                      f"{self.config.crawl.workers}, crawl.parallel_sources={self.config.crawl.parallel_sources}); "
                      "add workers, or lengthen the intervals")

    # --- stopping -----------------------------------------------------------------------------------

    def _shut_down(self) -> None:
        """No new checks; in-flight ones get crawl.stop_grace to finish; then the workers go."""
        grace = self.config.crawl.stop_grace
        self.workers.stop_all()
        deadline = time.monotonic() + grace
        while self.workers.held() and time.monotonic() < deadline and not self.hurry.is_set():
            self._drain_events(TICK)
        left = self.workers.held()
        if left:
            self.echo(f"{left} check(s) still running after {grace:g}s (crawl.stop_grace): killed; "
                      "they are due again at the next start")
        self._kill_everything(f"interrupted: newsmon was stopping and the check was still running after "
                              f"{grace:g}s (crawl.stop_grace)")

    def _kill_everything(self, message: str) -> None:
        for worker in list(self.workers.all()):
            if not worker.held:  # told to stop and holding nothing: it is on its way out
                wait_exited(worker.proc, 5.0)
            self._requeue_lost(self._remove(worker), message, status=RunStatus.INTERRUPTED)

    def _remove(self, worker: WorkerProcess) -> list[Assignment]:
        """Kill the worker's group, handle every result it sent before it went; the checks
        still held are lost (returned)."""
        self.workers.remove(worker)
        self._drain_results_of(worker)
        return worker.take_held()
