"""The daemon in distributed mode: due sources go to the check queue in Redis, not to
workers of its own; `newsmon worker`s anywhere take them (crawler.redis_feed).

The schedule, per-host limits and reports are the single-machine Dispatcher's. What differs:

- room: the daemon keeps about as many checks queued or running as the live workers run at
  once (each publishes its crawl.parallel_sources with its heartbeat), plus one each, so a
  worker never waits for the daemon and a backlog shows as schedule lag, not as a long queue;
- results come back on the daemon's own list in Redis, read by one thread into the same events;
- dead workers are the workers' business (their checks go back in the queue by heartbeat);
  the daemon only notices a check that vanished from Redis altogether (a Redis restarted
  without persistence) and queues it again;
- stopping withdraws the checks no worker has started; checks running on workers finish
  there and record themselves.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from datetime import datetime

from monitor.dispatch import Dispatcher
from monitor.distributed.check_queue import CheckMessage, CheckQueue
from monitor.distributed.connection import Keys, connect, process_identity, until_answered
from monitor.log_format import about_source
from monitor.worker_pool import Assignment, Event

CAPACITY_EVERY = 2.0  # seconds between reads of the live workers' capacity
VANISHED_AFTER = 30.0  # seconds a check must be out before the daemon asks whether Redis still has it
NO_WORKER_NOTE_EVERY = 60.0
log = logging.getLogger("newsmon.daemon")


class QueuedChecks:
    """The checks this daemon has in the queue: what the Dispatcher calls a worker."""

    pid = "queue"  # in messages: the Dispatcher names workers by pid
    retiring = False

    def __init__(self, checks: CheckQueue, reply_to: str):
        self.checks = checks
        self.reply_to = reply_to
        self.held: dict[str, Assignment] = {}
        self.messages: dict[str, CheckMessage] = {}

    def send_check(self, assignment: Assignment, next_check_at: datetime) -> bool:
        message = until_answered(lambda: self.checks.enqueue(
            assignment.check_id, assignment.source, reply_to=self.reply_to, enqueued_at=assignment.started,
            next_check_at=next_check_at), "queueing a check")
        self.held[assignment.check_id] = assignment
        self.messages[assignment.check_id] = message
        return True

    def take_held(self) -> list[Assignment]:
        return []  # checks running on workers are theirs: nothing is lost when the daemon stops


class QueueWorkers:
    """What the Dispatcher needs of its workers, for checks that go through Redis."""

    slots = 1

    def __init__(self, checks: CheckQueue, events: queue.Queue[Event], echo, reply_to: str):
        self.checks = checks
        self.events = events
        self.echo = echo
        self.queued = QueuedChecks(checks, reply_to)
        self.live = {0: self.queued}
        self.stopped = threading.Event()
        self._capacity = (0, 0)
        self._capacity_read = 0.0
        self._no_worker_noted = 0.0
        self._reader: threading.Thread | None = None

    def all(self):
        yield self.queued

    def held(self) -> int:
        return len(self.queued.held)

    def ensure_running(self) -> None:
        if self._reader is None:
            self._reader = threading.Thread(target=self._read_results, daemon=True, name="newsmon-queue-results")
            self._reader.start()

    def free_capacity(self, _slot: int) -> int:
        now = time.monotonic()
        if now - self._capacity_read >= CAPACITY_EVERY:
            self._capacity_read = now
            self._capacity = until_answered(self.checks.live_capacity, "reading the workers' capacity") or (0, 0)
            alive, _ = self._capacity
            if not alive and now - self._no_worker_noted >= NO_WORKER_NOTE_EVERY:
                self._no_worker_noted = now
                self.echo("no newsmon worker is alive (none sends heartbeats to Redis): due sources wait; "
                          "start `newsmon worker` on a machine with this config")
        alive, capacity = self._capacity
        return max(0, capacity + alive - len(self.queued.held))

    def withdraw_unstarted(self) -> int:
        """Take back every check no worker has started; returns how many."""
        withdrawn = 0
        for check, message in list(self.queued.messages.items()):
            if until_answered(lambda m=message: self.checks.withdraw(m), "withdrawing a check"):
                withdrawn += 1
                self.queued.held.pop(check, None)
                self.queued.messages.pop(check, None)
        return withdrawn

    # --- the results thread ---------------------------------------------------------------

    def _read_results(self) -> None:
        last_audit = time.monotonic()
        while not self.stopped.is_set():
            results = until_answered(lambda: self.checks.results(self.queued.reply_to, 1.0), "reading results",
                                     stop=self.stopped.is_set) or []
            for result in results:
                self.events.put(Event("result", self.queued, result))
            if time.monotonic() - last_audit >= VANISHED_AFTER:
                last_audit = time.monotonic()
                self._audit()

    def _audit(self) -> None:
        """Checks out longer than VANISHED_AFTER that Redis no longer has, and whose result is not
        waiting either, were lost with Redis's memory: they go back in line (a refused result)."""
        now = time.monotonic()
        suspects = [(check, message) for check, message in list(self.queued.messages.items())
                    if (a := self.queued.held.get(check)) is not None and now - a.handed_at > VANISHED_AFTER]
        vanished = [(c, m) for c, m in suspects if until_answered(lambda m=m: not self.checks.holds(m),
                                                                  "looking for a check")]
        if not vanished:
            return
        # A result pushed meanwhile is atomically out of the queue: read those first (they come first).
        for result in until_answered(lambda: self.checks.results(self.queued.reply_to, 0.01), "reading results") or []:
            self.events.put(Event("result", self.queued, result))
        for check, message in vanished:
            self.events.put(Event("result", self.queued, {"check": check, "source": message.source,
                                                          "refused": True, "vanished": True}))


class QueueDispatcher(Dispatcher):
    def _make_workers(self) -> QueueWorkers:
        checks = CheckQueue(connect(self.config.redis_url), Keys(self.config.redis_prefix),
                            lease=self.config.crawl.heartbeat_timeout)
        return QueueWorkers(checks, self.events, self.echo, reply_to=f"daemon-{process_identity()}")

    def _new_check_id(self, source: str) -> str:
        return f"{source}#{uuid.uuid4().hex[:12]}"  # unique across daemon restarts sharing the queue

    def _result(self, worker, result: dict) -> None:
        check = result.get("check") or ""
        if check not in self.workers.queued.held:
            if not result.get("vanished"):  # a vanished check whose real result came first: nothing to do
                log.warning("result for a check this daemon did not queue: %s", result,
                            extra={"source": result.get("source")})
            return
        if result.get("vanished"):
            with about_source(result["source"]):
                self.echo(f"check of {result['source']} vanished from Redis (restarted without persistence?); "
                          "queued again")
        self.workers.queued.messages.pop(check, None)
        super()._result(worker, result)

    def _close_abandoned_runs(self, session, now) -> int:
        """Running checks belong to workers that outlive this daemon; a dead worker's are recorded by
        whichever worker recovers them (crawler.redis_feed)."""
        return 0

    def _restart_workers_for(self, config) -> None:
        """`newsmon worker`s read their own config: each reloads on its own SIGHUP."""

    def _watch_workers(self) -> None:
        """Workers watch each other (heartbeats in Redis); nothing to kill from here."""

    def _shut_down(self) -> None:
        self.workers.stopped.set()
        withdrawn = self.workers.withdraw_unstarted()
        running = self.workers.held()
        if withdrawn or running:
            self.echo(f"stopping: {withdrawn} queued check(s) withdrawn; {running} running on workers finish "
                      "there and record themselves")
