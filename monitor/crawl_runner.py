"""Starts a crawl as a subprocess (`python -m crawler`) and collects its results.

Twisted's reactor cannot be restarted in one process, so every crawl cycle is
its own process. A crawl that crashes or hangs is recorded against each of its
sources, so `newsmon status` shows it and the other sources' results stand.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from monitor.config import NewsmonConfig
from monitor.store import repo
from monitor.store.session import make_engine, session_factory, session_scope

RESULT_PREFIX = "NEWSMON-RESULT "  # kept in step with crawler.progress (monitor never imports crawler)

_running: set[subprocess.Popen] = set()
_running_lock = threading.Lock()


def terminate_running() -> int:
    """Ask every running crawl to stop (Scrapy finishes in-flight pages on SIGTERM)."""
    with _running_lock:
        procs = list(_running)
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    return len(procs)


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


@dataclass
class CrawlOutcome:
    results: dict[str, SourceResult] = field(default_factory=dict)
    exit_code: int = 0
    stderr_tail: str = ""

    @property
    def new_articles(self) -> int:
        return sum(r.new_articles for r in self.results.values())


def crawl_command(config: NewsmonConfig, sources: Sequence[str], *, quiet: bool = False,
                  log_level: str = "WARNING") -> list[str]:
    cmd = [sys.executable, "-m", "crawler", "--config", str(config.config_dir), "--log-level", log_level]
    if quiet:
        cmd.append("--quiet")
    return cmd + list(sources)


def run_crawl(config: NewsmonConfig, sources: Sequence[str], *, on_line: Callable[[str], None] | None = None,
              quiet: bool = False, log_level: str = "WARNING", env: dict[str, str] | None = None) -> CrawlOutcome:
    """Crawl `sources` in a child process; `on_line` receives each progress line."""
    outcome = CrawlOutcome()
    child_env = dict(os.environ if env is None else env)
    # The child must see the same archive even when it came from NEWSMON_DATABASE_URL.
    child_env["NEWSMON_DATABASE_URL"] = config.database_url
    child_env.setdefault("PYTHONUNBUFFERED", "1")
    proc = subprocess.Popen(
        crawl_command(config, sources, quiet=quiet, log_level=log_level),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
        env=child_env,
        # Own session: a Ctrl-C at the terminal goes to the daemon, which lets
        # the current crawl finish instead of killing it mid-write.
        start_new_session=True,
    )
    with _running_lock:
        _running.add(proc)
    stderr_lines: list[str] = []
    drain = threading.Thread(target=lambda: stderr_lines.extend(proc.stderr), daemon=True)
    drain.start()
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        proc.kill()

    timer = threading.Timer(config.crawl.subprocess_timeout, kill)
    timer.daemon = True
    timer.start()
    try:
        for line in proc.stdout:
            line = line.rstrip("\n")
            if line.startswith(RESULT_PREFIX):
                data = json.loads(line[len(RESULT_PREFIX):])
                outcome.results[data["source"]] = SourceResult(**data)
            elif on_line is not None:
                on_line(line)
        outcome.exit_code = proc.wait()
    finally:
        timer.cancel()
        with _running_lock:
            _running.discard(proc)
        drain.join(timeout=5)
    outcome.stderr_tail = "".join(stderr_lines[-20:]).strip()
    _record_missing(config, sources, outcome, timed_out=killed.is_set())
    return outcome


def _record_missing(config: NewsmonConfig, sources: Sequence[str], outcome: CrawlOutcome, *, timed_out: bool) -> None:
    """Sources the child never reported on failed; say why, where status shows it."""
    missing = [s for s in sources if s not in outcome.results]
    if not missing:
        return
    if timed_out:
        reason = f"crawl process killed after {config.crawl.subprocess_timeout:.0f}s (crawl.subprocess_timeout)"
    else:
        last = outcome.stderr_tail.splitlines()[-1] if outcome.stderr_tail else "no output"
        reason = f"crawl process exited with code {outcome.exit_code} before finishing: {last}"
    sessions = session_factory(make_engine(config.database_url))
    with session_scope(sessions) as session:
        for source in missing:
            repo.record_source_failure(session, source, reason)
            outcome.results[source] = SourceResult(source=source, status="failed", errors=1, error=reason)
