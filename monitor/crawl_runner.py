"""`newsmon crawl`'s crawl: one check of each source in a subprocess (`python -m crawler`,
the same check code the daemon's long-lived workers run), and its results.

A process, because Twisted's reactor cannot be restarted in one. A crawl that
crashes or hangs is recorded against each of its sources, so `newsmon status`
shows it and the other sources' results stand.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from monitor.config import NewsmonConfig
from monitor.crawl_protocol import RESULT_PREFIX, parse_line
from monitor.process_group import wait_exited
from monitor.running_crawls import RunningCrawl
from monitor.statuses import RunStatus
from monitor.store import repo
from monitor.store.session import make_engine, session_factory, session_scope

STDERR_KEPT = 200  # lines of the crawl's stderr kept for the failure message (a long crawl logs a lot)
LINGER_GRACE = 2.0  # seconds a finished crawl's leftovers (resource tracker, workers) get to exit by themselves
# Seconds to wait for the output to close once the group is gone: only a process that left the group
# (none of ours does) could hold it longer, and results still in the pipe are read meanwhile.
PIPE_CLOSE_WAIT = 30.0

log = logging.getLogger("newsmon.crawl")


@dataclass
class SourceResult:
    source: str
    status: str
    pages_fetched: int = 0
    new_articles: int = 0
    duplicates: int = 0
    skipped: int = 0
    errors: int = 0
    error: str | None = None
    unchanged: int = 0  # start URLs answered 304 Not Modified
    bytes: int = 0      # response bytes received
    elapsed: float = 0.0  # seconds from the spider opening to closing
    check: str | None = None  # the id the daemon gave this check (worker mode)
    refused: bool = False  # the worker was stopping and did not run it: hand it to another
    throttled_until: str | None = None  # ISO time the site asked us to wait until (429/503 Retry-After)


@dataclass
class CrawlOutcome:
    results: dict[str, SourceResult] = field(default_factory=dict)
    exit_code: int = 0
    stderr_tail: str = ""

    @property
    def new_articles(self) -> int:
        return sum(r.new_articles for r in self.results.values())


def crawl_command(config: NewsmonConfig, sources: Sequence[str], *, quiet: bool = False,
                  log_level: str = "WARNING", parent_pid: int | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "crawler", "--config", str(config.config_dir), "--log-level", log_level]
    if parent_pid is not None:  # the crawl (and its workers) exit when this process is gone
        cmd += ["--parent-pid", str(parent_pid)]
    if quiet:
        cmd.append("--quiet")
    return cmd + list(sources)


def run_crawl(config: NewsmonConfig, sources: Sequence[str], *, on_line: Callable[[str], None] | None = None,
              quiet: bool = False, log_level: str = "WARNING", env: dict[str, str] | None = None) -> CrawlOutcome:
    """Crawl `sources` in a child process; `on_line` receives each progress line.

    Returns only once the child and its whole process group are gone: a crawl past
    crawl.subprocess_timeout is killed with its extraction workers, and workers left
    behind by a crawl that did exit are killed too, so nothing holds its output open.
    """
    outcome = CrawlOutcome()
    child_env = dict(os.environ if env is None else env)
    # The child must see the same archive even when it came from NEWSMON_DATABASE_URL.
    child_env["NEWSMON_DATABASE_URL"] = config.database_url
    child_env.setdefault("PYTHONUNBUFFERED", "1")
    proc = subprocess.Popen(
        crawl_command(config, sources, quiet=quiet, log_level=log_level, parent_pid=os.getpid()),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
        env=child_env,
        # Own session: the crawl leads a process group holding its extraction
        # workers, killed as one; a Ctrl-C at the terminal reaches newsmon,
        # which then kills the group (below) instead of the crawl alone.
        start_new_session=True,
    )
    crawl = RunningCrawl(proc)
    reader = _ResultReader(proc, outcome, on_line)
    stderr_lines: deque[str] = deque(maxlen=STDERR_KEPT)
    drain = threading.Thread(target=lambda: stderr_lines.extend(proc.stderr), daemon=True,
                             name="newsmon-crawl-stderr")
    drain.start()
    timeout = config.crawl.subprocess_timeout
    try:
        if not wait_exited(proc, timeout):
            crawl.kill(f"crawl process killed after {timeout:g}s (crawl.subprocess_timeout)")
        elif not reader.finished(LINGER_GRACE):
            crawl.kill(None)  # it exited, but something it started still holds its output open
        outcome.exit_code = crawl.reap()
    finally:
        if proc.returncode is None:  # interrupted (Ctrl-C, an exception from a signal): the crawl must not outlive us
            crawl.kill("crawl process killed: newsmon stopped waiting for it")
            crawl.reap()
        if not reader.finished(PIPE_CLOSE_WAIT):
            log.warning("crawl output still open after its process group was killed; not waiting for it")
        drain.join(timeout=PIPE_CLOSE_WAIT)
    outcome.stderr_tail = "".join(list(stderr_lines)[-20:]).strip()
    _record_missing(config, sources, outcome, killed_because=crawl.kill_reason)
    return outcome


class _ResultReader:
    """Reads the child's stdout in a thread, so waiting for the child never blocks
    on a pipe that its leftover processes keep open."""

    def __init__(self, proc: subprocess.Popen, outcome: CrawlOutcome, on_line: Callable[[str], None] | None):
        self._proc, self._outcome, self._on_line = proc, outcome, on_line
        self._thread = threading.Thread(target=self._read, daemon=True, name="newsmon-crawl-stdout")
        self._thread.start()

    def finished(self, timeout: float) -> bool:
        """True once the output is closed (every process holding it has exited)."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _read(self) -> None:
        for line in self._proc.stdout:
            line = line.rstrip("\n")
            try:
                parsed = parse_line(line)  # (prefix, payload) of a protocol line; None for progress
                if parsed is not None and parsed[0] == RESULT_PREFIX:
                    payload = parsed[1]
                    self._outcome.results[payload["source"]] = SourceResult(**payload)
            except (ValueError, TypeError, KeyError) as exc:  # keep reading: a stalled pipe stalls the crawl
                log.error("unreadable crawl result line %r: %s", line[:200], exc)
                continue
            if parsed is None and self._on_line is not None:
                try:
                    self._on_line(line)
                except Exception:  # e.g. our own stdout closed: keep draining, or the crawl blocks on it
                    log.exception("progress line handler failed; dropping further progress lines")
                    self._on_line = None


def _record_missing(config: NewsmonConfig, sources: Sequence[str], outcome: CrawlOutcome, *,
                    killed_because: str | None) -> None:
    """Sources the child never reported on failed; say why, where status shows it."""
    missing = [s for s in sources if s not in outcome.results]
    if not missing:
        return
    if killed_because is not None:
        reason = killed_because
    else:
        last = outcome.stderr_tail.splitlines()[-1] if outcome.stderr_tail else "no output"
        reason = f"crawl process exited with code {outcome.exit_code} before finishing: {last}"
    engine = make_engine(config.database_url, config.database_pool)
    try:
        with session_scope(session_factory(engine)) as session:
            for source in missing:
                repo.record_source_failure(session, source, reason)
                outcome.results[source] = SourceResult(source=source, status=RunStatus.FAILED, errors=1, error=reason)
    finally:
        engine.dispose()  # one engine per failed crawl: a daemon would otherwise keep every pool open
