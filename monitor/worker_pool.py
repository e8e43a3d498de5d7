"""The daemon's long-lived crawl workers (`python -m crawler --serve`), watched.

Each worker is a process group (its extraction processes are in it) fed checks on
stdin; what it says on stdout becomes events on one queue, read by the daemon's
dispatch thread, which alone starts, feeds and replaces workers. (It must be one
long-lived thread: a worker's PR_SET_PDEATHSIG fires when the thread that started
it ends.) A worker that exits, or stays silent past crawl.heartbeat_timeout, is
killed with its group, and the checks it held come back to the daemon to be handed
out again. A worker that retires (crawl.worker_max_checks, worker_max_memory)
finishes what it holds while a fresh one takes its place.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from monitor import log_format
from monitor.config import NewsmonConfig
from monitor.crawl_protocol import (
    RESULT_PREFIX,
    RETIRING_PREFIX,
    STOP_COMMAND,
    check_command,
    parse_line,
)
from monitor.process_group import signal_group, wait_exited

EARLY_DEATH = 30.0  # seconds: a worker dying sooner than this may die again at once
RESPAWN_BACKOFF_MAX = 60.0
OUTPUT_WAIT = 5.0  # seconds to wait for a killed worker's last lines to be read
STDERR_KEPT = 50  # lines of a worker's stderr kept to explain its death
log = logging.getLogger("newsmon.workers")
_EVENT_KINDS = {RESULT_PREFIX: "result", RETIRING_PREFIX: "retiring"}


@dataclass
class Assignment:
    check_id: str
    source: str
    due: datetime  # when the check was due: where the source goes back to if the check is lost
    started: datetime  # when it was handed out (wall clock: run rows started since then are this check's)
    handed_at: float  # monotonic


@dataclass
class Event:
    kind: str  # "result" | "retiring" | "exited"
    worker: WorkerProcess
    payload: dict = field(default_factory=dict)


class WorkerProcess:
    def __init__(self, config: NewsmonConfig, slot: int, events: queue.Queue[Event], *, log_level: str = "WARNING"):
        self.slot = slot  # which hosts it serves (monitor.dispatch hashes each host to a slot)
        self.events = events
        self.held: dict[str, Assignment] = {}
        self.retiring = False
        self.exit_code: int | None = None  # once killed and reaped
        self.restart_delay = 0.0  # how long its slot waits for a new worker, once it is gone
        self.started_at = time.monotonic()
        self.last_heard = time.monotonic()
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_KEPT)
        env = dict(os.environ)
        env["NEWSMON_DATABASE_URL"] = config.database_url  # the same archive, however it was named
        env.setdefault("PYTHONUNBUFFERED", "1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "crawler", "--config", str(config.config_dir), "--serve", "--quiet",
             "--log-level", log_level, "--parent-pid", str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
            errors="replace", env=env, start_new_session=True)  # its own group: killed as one, with its workers
        self._write_lock = threading.Lock()
        self._stdout = threading.Thread(target=self._read_stdout, daemon=True, name=f"newsmon-worker-{slot}-out")
        self._stderr = threading.Thread(target=self._read_stderr, daemon=True, name=f"newsmon-worker-{slot}-err")
        self._stdout.start()
        self._stderr.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send_check(self, assignment: Assignment, next_check_at: datetime) -> bool:
        self.held[assignment.check_id] = assignment
        if self._send(check_command(assignment.check_id, assignment.source, next_check_at)):
            return True
        del self.held[assignment.check_id]
        return False

    def send_stop(self) -> None:
        self.retiring = True
        self._send(STOP_COMMAND)

    def _send(self, line: str) -> bool:
        with self._write_lock:
            try:
                self.proc.stdin.write(line + "\n")
                self.proc.stdin.flush()
                return True
            except (OSError, ValueError):  # it died: the exit event hands its checks out again
                return False

    def exited(self) -> bool:
        return wait_exited(self.proc, 0)

    def silent_for(self) -> float:
        return time.monotonic() - self.last_heard

    def kill(self) -> int:
        """SIGKILL the worker's whole group and reap it; returns its exit code."""
        signal_group(self.proc, signal.SIGKILL)
        code = self.proc.wait()
        try:
            self.proc.stdin.close()
        except OSError:
            pass  # the pipe broke with it
        self.exit_code = code
        return code

    def finish_reading(self, timeout: float) -> None:
        self._stdout.join(timeout)

    def take_held(self) -> list[Assignment]:
        held, self.held = list(self.held.values()), {}
        return held

    def _read_stdout(self) -> None:
        for line in self.proc.stdout:
            self.last_heard = time.monotonic()
            line = line.rstrip("\n")
            try:
                parsed = parse_line(line)
            except ValueError as exc:
                log.error("worker %s: unreadable line %r: %s", self.pid, line[:200], exc)
                continue
            if parsed is None:
                continue  # progress for people; a served worker runs quiet
            prefix, payload = parsed
            kind = _EVENT_KINDS.get(prefix)  # a heartbeat's only news is that a line came: last_heard, above
            if kind is not None:
                self.events.put(Event(kind, self, payload))
        self.events.put(Event("exited", self))

    def _read_stderr(self) -> None:
        for line in self.proc.stderr:
            line = line.rstrip("\n")
            self.stderr_tail.append(line)
            # "[worker PID] line"; with log_format json the worker's JSON record, with "worker": PID.
            print(log_format.relay_line(line, worker=self.pid), file=sys.stderr, flush=True)

    def death_note(self, code: int | None) -> str:
        if code is not None and code < 0:  # what its processes wrote as they were killed explains nothing
            return f"killed by signal {-code}"
        last = next((line for line in reversed(self.stderr_tail) if line.strip()), "")
        return f"exit code {code}{': ' + last[-300:] if last else ''}"


class WorkerSet:
    """The daemon's workers by slot; a slot keeps the same hosts across replacements."""

    def __init__(self, config: NewsmonConfig, events: queue.Queue[Event]):
        self.config = config
        self.events = events
        self.slots = config.crawl.workers
        self.capacity = -(-config.crawl.parallel_sources // self.slots)  # checks at once per worker
        self.live: dict[int, WorkerProcess] = {}  # slot -> the worker taking its new checks
        self.retired: list[WorkerProcess] = []  # finishing what they hold
        # A worker that dies soon after it started (a broken config, an import error) would be restarted
        # in a tight loop: its slot waits, doubling up to RESPAWN_BACKOFF_MAX, while that goes on.
        self._backoff: dict[int, float] = {}
        self._not_before: dict[int, float] = {}

    def all(self) -> Iterator[WorkerProcess]:
        yield from self.live.values()
        yield from self.retired

    def ensure_running(self) -> None:
        """Start a worker in every empty slot whose restart is not being held back."""
        now = time.monotonic()
        for slot in range(self.slots):
            if slot in self.live or now < self._not_before.get(slot, 0.0):
                continue
            self.live[slot] = WorkerProcess(self.config, slot, self.events)

    def _hold_back(self, worker: WorkerProcess) -> float:
        """After an unplanned death: how long its slot waits before the next start."""
        lived = time.monotonic() - worker.started_at
        previous = self._backoff.get(worker.slot, 0.0)
        backoff = 0.0 if lived > EARLY_DEATH else min(RESPAWN_BACKOFF_MAX, max(1.0, 2 * previous))
        self._backoff[worker.slot] = backoff
        self._not_before[worker.slot] = time.monotonic() + backoff
        return backoff

    def free_capacity(self, slot: int) -> int:
        worker = self.live.get(slot)
        return 0 if worker is None else self.capacity - len(worker.held)

    def retire(self, worker: WorkerProcess) -> None:
        """It takes no more checks: a fresh worker takes its slot."""
        worker.retiring = True
        if self.live.get(worker.slot) is worker:
            del self.live[worker.slot]
            self.retired.append(worker)

    def remove(self, worker: WorkerProcess) -> None:
        """Kill and forget a worker (dead or hung); once this returns, every line it wrote is
        on the event queue, and what it still holds is what it never reported."""
        worker.kill()
        worker.finish_reading(OUTPUT_WAIT)
        if self.live.get(worker.slot) is worker:
            del self.live[worker.slot]
            worker.restart_delay = self._hold_back(worker)
        if worker in self.retired:
            self.retired.remove(worker)

    def held(self) -> int:
        return sum(len(worker.held) for worker in self.all())

    def stop_all(self) -> None:
        for worker in list(self.all()):
            worker.send_stop()
